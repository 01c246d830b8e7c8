/**
 * A client of the OCI distribution API (Docker registry HTTP API v2) for one repository: the
 * endpoint chosen as Docker chooses it (mirrors first for Docker Hub, `registry-1.docker.io` for
 * docker.io, HTTPS, and for insecure registries HTTPS without verification, then plain HTTP),
 * authentication on demand (a 401's challenge: a bearer token from its realm, scoped to the
 * repository, cached until it expires; or basic credentials), redirects, and the registry's error
 * bodies turned into engine errors with Docker's words.
 *
 * Limitations: insecure registries are matched by host[:port] or by IPv4 CIDR of a literal
 * address (names are not resolved to match a CIDR); no client certificates (certs.d).
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { EngineError } from '../../base/errors';
import { HUB_DOMAIN, HUB_REGISTRY } from '../../base/image-ref';
import { basicHeader, Challenge, parseChallenge, parseTokenResponse, RegistryAuth, Token } from './auth';

export interface RegistryConfig {
  /** --registry-mirror URLs, for docker.io */
  mirrors: string[];
  /** --insecure-registry HOST[:PORT] or CIDR */
  insecure: string[];
}

export interface Endpoint {
  /** scheme://host[:port] */
  origin: string;
  /** TLS without certificate verification (insecure registries) */
  skipVerify: boolean;
  mirror: boolean;
}

const TIMEOUT_MS = 60_000;
const MAX_SMALL = 8 << 20;
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }), insecure: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }) };

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return m.slice(1).reduce((a, x) => a * 256 + Number(x), 0);
}

/** Is `domain` (host[:port]) an insecure registry: listed, in a listed CIDR, or loopback (as Docker's default 127.0.0.0/8)? */
export function isInsecure(domain: string, insecure: string[]): boolean {
  const host = domain.replace(/:\d+$/, '');
  if (host === 'localhost' || host.startsWith('127.')) return true;
  for (const entry of insecure) {
    if (entry === domain || entry === host) return true;
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
    const ip = ipv4(host);
    if (m && ip !== undefined) {
      const base = ipv4(m[1]);
      const bits = Number(m[2]);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if (base !== undefined && ((ip & mask) >>> 0) === ((base & mask) >>> 0)) return true;
    }
  }
  return false;
}

/** The endpoints to try for a registry domain, in Docker's order. */
export function endpointsFor(domain: string, cfg: RegistryConfig, push: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  if (domain === HUB_DOMAIN) {
    if (!push) for (const m of cfg.mirrors) out.push({ origin: m.replace(/\/+$/, ''), skipVerify: isInsecure(new URL(m).host, cfg.insecure), mirror: true });
    out.push({ origin: `https://${HUB_REGISTRY}`, skipVerify: false, mirror: false });
    return out;
  }
  const insecure = isInsecure(domain, cfg.insecure);
  out.push({ origin: `https://${domain}`, skipVerify: insecure, mirror: false });
  if (insecure) out.push({ origin: `http://${domain}`, skipVerify: false, mirror: false });
  return out;
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

async function readAll(res: Readable, max = MAX_SMALL): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new EngineError('IMAGE_UNSUPPORTED', `the registry answered more than ${max} bytes where a small document was expected`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** "manifest unknown: manifest unknown" as Docker prints a registry's error. */
function registryMessage(body: Buffer): { code: string; text: string } {
  try {
    const j = JSON.parse(body.toString()) as RegistryErrorBody;
    const e = j.errors?.[0];
    if (e?.code) return { code: e.code, text: `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}` };
  } catch {
    // not the registry's JSON: the text itself
  }
  return { code: '', text: body.toString().trim().slice(0, 300) };
}

export class RegistryError extends EngineError {}

/** A connection to one repository of one registry, for pulling or pushing. */
export class RegistrySession {
  private endpoint?: Endpoint;
  private token?: Token;
  private challenge?: Challenge;

  constructor(
    readonly domain: string,
    readonly repo: string,
    private readonly auth: RegistryAuth,
    private readonly push: boolean,
    private readonly cfg: RegistryConfig,
    /** shared between sessions: tokens by realm, service and scope */
    private readonly tokens: Map<string, Token>,
    private readonly log: (m: string) => void = () => {},
  ) {}

  get scope(): string {
    return `repository:${this.repo}:${this.push ? 'pull,push' : 'pull'}`;
  }

  /** Where the session talks to (after connect). */
  get origin(): string {
    return this.endpoint?.origin ?? '';
  }

  /** Tries the endpoints in order (GET /v2/); the first that answers is the session's. `from` skips the earlier ones. */
  async connect(from = 0): Promise<number> {
    const eps = endpointsFor(this.domain, this.cfg, this.push);
    let last: unknown;
    for (let i = from; i < eps.length; i++) {
      const ep = eps[i];
      try {
        const res = await this.raw('GET', `${ep.origin}/v2/`, {}, undefined, ep);
        await readAll(res).catch(() => Buffer.alloc(0));
        if (res.statusCode === 401) this.challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined);
        else if ((res.statusCode ?? 500) >= 400) throw new RegistryError('REGISTRY_UNAVAILABLE', `${ep.origin}/v2/ answered ${res.statusCode}`);
        this.endpoint = ep;
        return i;
      } catch (e) {
        last = e;
        this.log(`registry ${ep.origin}: ${(e as Error).message}`);
      }
    }
    const err = last as NodeJS.ErrnoException;
    throw new RegistryError('REGISTRY_UNAVAILABLE', `Get "${eps[eps.length - 1].origin}/v2/": ${err?.message ?? 'no endpoint'}`, {
      cause: last,
      hint: this.domain === HUB_DOMAIN ? 'Docker Hub is not reachable from here: use a registry of your own (HOST:PORT/NAME), --registry-mirror, or docker load' : `check that the registry ${this.domain} answers (an HTTP registry needs --insecure-registry ${this.domain})`,
    });
  }

  /** More endpoints after the current one (a mirror that failed)? */
  async next(): Promise<boolean> {
    const eps = endpointsFor(this.domain, this.cfg, this.push);
    const i = eps.findIndex((e) => e.origin === this.endpoint?.origin);
    if (i < 0 || i + 1 >= eps.length || !this.endpoint?.mirror) return false;
    this.token = undefined;
    await this.connect(i + 1);
    return true;
  }

  get onMirror(): boolean {
    return !!this.endpoint?.mirror;
  }

  private raw(method: string, url: string, headers: Record<string, string>, body: Buffer | Readable | undefined, ep: Endpoint): Promise<http.IncomingMessage> {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const agent = u.protocol === 'https:' ? (ep.skipVerify ? agents.insecure : agents.https) : agents.http;
    return new Promise((resolve, reject) => {
      const req = lib.request(u, { method, headers: { 'User-Agent': 'ctrnet (docker-compatible)', ...headers }, agent, timeout: TIMEOUT_MS });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.on('response', (res) => {
        res.setTimeout(TIMEOUT_MS, () => res.destroy(new Error(`the registry stopped sending for ${TIMEOUT_MS / 1000} s`)));
        resolve(res);
      });
      if (body instanceof Readable) {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      } else req.end(body);
    });
  }

  private async authorization(): Promise<string | undefined> {
    if (this.auth.registryToken) return `Bearer ${this.auth.registryToken}`;
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      const h = basicHeader(this.auth);
      if (!h) throw new RegistryError('REGISTRY_AUTH_FAILED', 'unauthorized: authentication required', { hint: `log in first: ctrnet login ${this.domain}` });
      return h;
    }
    if (!this.token || this.token.expires - 5000 < Date.now()) this.token = await this.fetchToken(c, this.scope);
    return `Bearer ${this.token.token}`;
  }

  /** Docker's token flow: GET realm?service&scope (basic credentials if any), or a POST with the refresh token. */
  async fetchToken(c: Challenge, scope: string, offline = false): Promise<Token> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryError('REGISTRY_AUTH_FAILED', 'the registry asked for a bearer token without a realm');
    const key = `${realm}|${c.params.service ?? ''}|${scope}|${this.auth.username ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires - 5000 > Date.now() && !offline) return cached;
    const u = new URL(realm);
    const ep: Endpoint = { origin: u.origin, skipVerify: isInsecure(u.host, this.cfg.insecure), mirror: false };
    let res: http.IncomingMessage;
    if (this.auth.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identityToken, client_id: 'ctrnet', scope, service: c.params.service ?? '' });
      res = await this.raw('POST', realm, { 'Content-Type': 'application/x-www-form-urlencoded' }, Buffer.from(form.toString()), ep);
    } else {
      if (c.params.service) u.searchParams.set('service', c.params.service);
      if (scope) u.searchParams.set('scope', scope);
      if (this.auth.username) u.searchParams.set('account', this.auth.username);
      if (offline) {
        u.searchParams.set('offline_token', 'true');
        u.searchParams.set('client_id', 'ctrnet');
      }
      const h = basicHeader(this.auth);
      res = await this.raw('GET', u.toString(), h ? { Authorization: h } : {}, undefined, ep);
    }
    const body = await readAll(res);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new RegistryError('REGISTRY_AUTH_FAILED', `unauthorized: ${registryMessage(body).text || 'incorrect username or password'}`, { hint: `check the credentials: ctrnet login ${this.domain}` });
    }
    if ((res.statusCode ?? 500) >= 400) throw new RegistryError('REGISTRY_UNAVAILABLE', `the token server ${u.origin} answered ${res.statusCode}: ${registryMessage(body).text}`);
    const t = parseTokenResponse(body.toString());
    this.tokens.set(key, t);
    return t;
  }

  /** Logs in: a token fetched with the credentials (bearer), or /v2/ answered with them (basic). */
  async login(): Promise<string | undefined> {
    await this.connect();
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'bearer') return (await this.fetchToken(c, '', true)).refresh;
    const res = await this.request('GET', '/v2/');
    if (res.statusCode !== 200) {
      await readAll(res).catch(() => Buffer.alloc(0));
      throw new RegistryError('REGISTRY_AUTH_FAILED', `login to ${this.domain} failed: unauthorized: incorrect username or password (${res.statusCode})`, { hint: 'check the username and password' });
    }
    await readAll(res);
    return undefined;
  }

  /**
   * A request to the registry, relative to /v2/; a 401 gets the challenge answered and the request
   * retried once (bodies that are streams must follow a request that authenticated).
   */
  async request(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | Readable, redirects = 5): Promise<http.IncomingMessage> {
    if (!this.endpoint) await this.connect();
    const ep = this.endpoint!;
    let url = path.startsWith('http') ? path : `${ep.origin}${path}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization();
      const sameHost = new URL(url).origin === ep.origin;
      const res = await this.raw(method, url, { ...headers, ...(auth && sameHost ? { Authorization: auth } : {}) }, body, ep);
      if (res.statusCode === 401 && attempt === 0 && !(body instanceof Readable)) {
        const c = parseChallenge(res.headers['www-authenticate'] as string | undefined);
        await readAll(res).catch(() => Buffer.alloc(0));
        if (c) {
          this.challenge = c;
          this.token = undefined;
          continue;
        }
      }
      if ([301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && res.headers.location && redirects > 0 && (method === 'GET' || method === 'HEAD')) {
        res.resume();
        url = new URL(res.headers.location, url).toString();
        redirects--;
        attempt = 0;
        continue;
      }
      return res;
    }
  }

  /** A registry answer that is not 2xx, as an engine error with Docker's words. */
  async fail(res: http.IncomingMessage, what: string): Promise<never> {
    const body = await readAll(res).catch(() => Buffer.alloc(0));
    const { code, text } = registryMessage(body);
    const status = res.statusCode ?? 500;
    if (status === 401 || status === 403 || code === 'DENIED' || code === 'UNAUTHORIZED') {
      const verb = this.push ? 'push' : 'pull';
      throw new RegistryError('REGISTRY_AUTH_FAILED', this.push ? `denied: requested access to the resource is denied (${text})` : `${verb} access denied for ${this.domain === HUB_DOMAIN ? this.repo.replace(/^library\//, '') : `${this.domain}/${this.repo}`}, repository does not exist or may require 'docker login': ${text || 'denied'}`, {
        hint: `log in with ctrnet login ${this.domain} (or docker login), or check the name`,
      });
    }
    if (status === 404) throw new RegistryError('IMAGE_NOT_FOUND', `${what} not found: ${text || 'not found'}`);
    if (status === 400 || status === 405 || status === 415) throw new RegistryError('IMAGE_UNSUPPORTED', `${what}: the registry refused it (${status}): ${text}`);
    throw new RegistryError('REGISTRY_UNAVAILABLE', `${what}: the registry answered ${status}: ${text}`);
  }

  /** Reads a small answer whole (manifests, errors). */
  readSmall(res: Readable, max = MAX_SMALL): Promise<Buffer> {
    return readAll(res, max);
  }
}

/** Sessions share bearer tokens (by realm, service, scope and user). */
export class RegistryClient {
  private readonly tokens = new Map<string, Token>();

  constructor(
    readonly cfg: RegistryConfig,
    private readonly log: (m: string) => void = () => {},
  ) {}

  session(domain: string, repo: string, auth: RegistryAuth, push: boolean): RegistrySession {
    // Tokens for a long-running daemon: drop the expired ones now and then.
    if (this.tokens.size > 256) for (const [k, t] of this.tokens) if (t.expires < Date.now()) this.tokens.delete(k);
    return new RegistrySession(domain, repo, auth, push, this.cfg, this.tokens, this.log);
  }
}
