/** Address syntax checks shared by the parsers of Docker's strings (no arithmetic: that is ipam/'s). */

/** A dotted-quad IPv4 address, each part 0-255 without a sign or spaces. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
