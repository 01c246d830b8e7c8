/**
 * The newest Engine API version ctrnet speaks: the daemon advertises it, and the ctrnet CLI asks in
 * it (so it reads every field the daemon has, EnableIPv4 and DNSNames included).
 */
export const API_VERSION = '1.51';
