/** What the image commands share: a reference split into the API's name and tag parameters. */

/** `NAME[:TAG|@DIGEST]` → the name and the tag (or digest) the API takes apart; no tag: `latest`. */
export function splitRef(ref: string, defaultTag: string | undefined = 'latest'): { name: string; tag?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { name: ref, tag: defaultTag };
}

/** The API path of an image name: slashes stay (as the docker CLI sends them), the rest is escaped. */
export const imagePath = (name: string): string => name.split('/').map(encodeURIComponent).join('/');
