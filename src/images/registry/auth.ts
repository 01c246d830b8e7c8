/**
 * Registry authentication: the credentials a client sends (Docker's X-Registry-Auth, `docker
 * login`'s POST /auth body), the registry's challenge (`WWW-Authenticate: Bearer realm=…,
 * service=…,scope=…` or `Basic realm=…`), and the token a Bearer realm issues (Docker's token
 * authentication spec: GET with basic credentials, or an OAuth2 POST with a refresh token).
 * Credentials are never stored by the daemon: they come with each request, as in Docker.
 */
import { EngineError } from '../../base/errors';

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** a refresh token a registry gave at login (Docker's IdentityToken) */
  identityToken?: string;
  /** a bearer token to use as it is */
  registryToken?: string;
  serverAddress?: string;
}

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** X-Registry-Auth: base64 (standard or URL-safe) of Docker's AuthConfig JSON; empty or `{}`: anonymous. */
export function decodeAuthHeader(h: string | undefined): RegistryAuth {
  if (!h) return {};
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('INVALID_PARAMETER', 'X-Registry-Auth is not base64 of a JSON object', { hint: 'send base64 of {"username":…,"password":…,"serveraddress":…}' });
  }
  return authFromJson(j);
}

/** Docker's AuthConfig JSON (lower or upper case keys) → RegistryAuth. */
export function authFromJson(j: Record<string, unknown>): RegistryAuth {
  const get = (k: string): string | undefined => {
    const v = j[k] ?? j[k[0].toUpperCase() + k.slice(1)] ?? j[k.toLowerCase()];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const a: RegistryAuth = {
    username: get('username'),
    password: get('password'),
    identityToken: get('identitytoken') ?? (j.IdentityToken as string | undefined) ?? undefined,
    registryToken: get('registrytoken') ?? (j.RegistryToken as string | undefined) ?? undefined,
    serverAddress: get('serveraddress') ?? (j.ServerAddress as string | undefined) ?? undefined,
  };
  const basic = get('auth');
  if (basic && !a.username) {
    const text = Buffer.from(basic, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) {
      a.username = text.slice(0, i);
      a.password = text.slice(i + 1);
    }
  }
  return a;
}

/** Parses one WWW-Authenticate header (RFC 7235 auth-params, quoted or not). */
export function parseChallenge(h: string | undefined): Challenge | undefined {
  if (!h) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(h);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme, params };
}

export function basicHeader(a: RegistryAuth): string | undefined {
  if (!a.username) return undefined;
  return `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
}

export interface Token {
  token: string;
  /** ms since the epoch */
  expires: number;
  /** a refresh token, when the realm gave one (offline_token) */
  refresh?: string;
}

/** What a realm answered: {token|access_token, expires_in, issued_at, refresh_token}. */
export function parseTokenResponse(text: string, now = Date.now()): Token {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new EngineError('REGISTRY_AUTH_FAILED', 'the token server answered something that is not JSON');
  }
  const token = (typeof j.token === 'string' && j.token) || (typeof j.access_token === 'string' && j.access_token) || '';
  if (!token) throw new EngineError('REGISTRY_AUTH_FAILED', 'the token server answered no token');
  // The spec's default lifetime is 60 s; a minute is also the floor it asks clients to assume.
  const life = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
  const issued = typeof j.issued_at === 'string' && !Number.isNaN(Date.parse(j.issued_at)) ? Math.min(Date.parse(j.issued_at), now) : now;
  return { token, expires: issued + life * 1000, refresh: typeof j.refresh_token === 'string' ? j.refresh_token : undefined };
}
