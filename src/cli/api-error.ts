/**
 * The daemon's error answer as the CLI sees it: the HTTP status and Docker's `{"message": …}`.
 * A file of its own (no imports) so commands and the dispatcher can test for it without loading
 * the HTTP client.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
