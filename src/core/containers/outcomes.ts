/** How container operations end beyond success and errors: "nothing to do", and start failures as exit codes. */

/** Thrown when an operation has nothing to do (start of a running container): HTTP 304. */
export class NotModified extends Error {}

/** How Docker turns a failed start into an exit code (and the CLI into its own). */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 125;
}
