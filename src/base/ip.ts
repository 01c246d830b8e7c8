/** Address syntax checks shared by the parsers of Docker's strings (no arithmetic: that is ipam/'s). */

/** A dotted-quad IPv4 address, each part 0-255 without a sign or spaces. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * An IPv6 address in any of its text forms (RFC 4291 2.2): eight groups of 1-4 hex digits, one
 * "::" standing for a run of zero groups, and a dotted-quad IPv4 tail (::ffff:192.0.2.1). No zone
 * (%eth0), no brackets, no prefix.
 */
export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(s)) return false;
  let groups = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    // the IPv4 tail stands for the last two groups
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    groups = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = groups.split('::');
  if (halves.length > 2) return false;
  const parse = (h: string): string[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : undefined;
  };
  const a = parse(halves[0]);
  const b = halves.length === 2 ? parse(halves[1]) : [];
  if (!a || !b) return false;
  const n = a.length + b.length;
  return halves.length === 2 ? n <= 7 : n === 8;
}

/** Either family. */
export const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);
