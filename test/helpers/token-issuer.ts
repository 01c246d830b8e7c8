/**
 * A token issuer for the registry's token authentication, as the distribution spec describes it:
 * `GET /token?service=S&scope=repository:NAME:ACTIONS[&account=U][&offline_token=true]` with HTTP
 * basic credentials answers `{"token", "access_token", "expires_in", "issued_at"[, "refresh_token"]}`;
 * the token is a JWT signed RS256 with the issuer's key, its certificate in the `x5c` header (the
 * registry is configured with that certificate as its rootcertbundle), claims iss, sub, aud (the
 * service), exp, nbf, iat, jti and `access` (what the user may do). A POST with
 * grant_type=refresh_token does the same for a refresh token it gave. Anonymous requests get a
 * token with no access (the registry then answers 401/denied, as real ones do).
 *
 * Run as a process: node token-issuer.js ADDR:PORT KEY.pem CERT.pem ISSUER USER:PASSWORD... ;
 * it logs one line per token issued: `issued SUBJECT SCOPE ACTIONS`.
 */
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [addr, keyFile, certFile, issuer, ...userArgs] = process.argv.slice(2);
const key = readFileSync(keyFile, 'utf8');
const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
const users = new Map(userArgs.map((u) => [u.slice(0, u.indexOf(':')), u.slice(u.indexOf(':') + 1)]));
const refresh = new Map<string, string>();

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function token(sub: string, service: string, scopes: string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const access = sub
    ? scopes.map((s) => {
        const [type, ...rest] = s.split(':');
        const actions = rest.pop()!.split(',');
        return { type, name: rest.join(':'), actions: actions.filter((a) => a === 'pull' || a === 'push') };
      })
    : [];
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
  const claims = { iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 5, iat: now, jti: randomBytes(8).toString('hex'), access };
  const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createSign('RSA-SHA256').update(body).sign(key);
  for (const a of access) process.stdout.write(`issued ${sub || '-'} ${a.type}:${a.name} ${a.actions.join(',')}\n`);
  return `${body}.${b64url(sig)}`;
}

function answer(res: http.ServerResponse, sub: string, service: string, scopes: string[], offline: boolean): void {
  const t = token(sub, service, scopes);
  const out: Record<string, unknown> = { token: t, access_token: t, expires_in: 300, issued_at: new Date().toISOString() };
  if (offline && sub) {
    const r = randomBytes(16).toString('hex');
    refresh.set(r, sub);
    out.refresh_token = r;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(out));
}

http
  .createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://issuer');
    if (u.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const f = new URLSearchParams(body);
        const sub = refresh.get(f.get('refresh_token') ?? '');
        if (f.get('grant_type') !== 'refresh_token' || !sub) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad refresh token' }] }));
          return;
        }
        answer(res, sub, f.get('service') ?? '', (f.get('scope') ?? '').split(' ').filter(Boolean), false);
      });
      return;
    }
    let sub = '';
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const [user, ...pw] = Buffer.from(h.slice(6), 'base64').toString().split(':');
      if (users.get(user) !== pw.join(':')) {
        process.stdout.write(`refused ${user}\n`);
        res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] }));
        return;
      }
      sub = user;
    }
    answer(res, sub, u.searchParams.get('service') ?? '', u.searchParams.getAll('scope'), u.searchParams.get('offline_token') === 'true');
  })
  .listen(Number(addr.split(':')[1]), addr.split(':')[0], () => process.stdout.write(`listening ${addr}\n`));
