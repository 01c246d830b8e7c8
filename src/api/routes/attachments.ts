/**
 * ctrnet's own routes for sandboxes of other runtimes (the CNI plugin's calls, base/attachment.ts):
 *   POST /ctrnet/attachments         attach (CNI ADD)        → 201 AttachResult
 *   POST /ctrnet/attachments/delete  detach (CNI DEL)        → {removed}; an unknown key is not an error
 *   POST /ctrnet/attachments/check   verify the kernel (CHECK) → AttachResult
 *   POST /ctrnet/attachments/gc      detach all but the valid ones of a scope (GC) → {removed: names}
 *   GET  /ctrnet/attachments         every attachment, with its endpoints
 * Bodies are checked here (types and required fields) and handed to core typed.
 */
import { AttachmentKey, AttachmentKind, AttachmentPort, AttachRequest, GcRequest } from '../../base/attachment';
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { Json, Router } from '../router';

const bad = (m: string) => new EngineError('INVALID_PARAMETER', m);

function text(v: unknown, what: string, required = true): string {
  if (v === undefined || v === null || v === '') {
    if (required) throw bad(`${what} is missing`);
    return '';
  }
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
}

function kind(v: unknown): AttachmentKind {
  if (v !== 'cni' && v !== 'docker') throw bad('kind must be "cni" or "docker"');
  return v;
}

function key(b: Json): AttachmentKey {
  return { kind: kind(b.kind), ref: text(b.ref, 'ref'), scope: text(b.scope, 'scope', false), ifName: text(b.ifName, 'ifName') };
}

function ports(v: unknown): AttachmentPort[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad('ports must be a list');
  return v.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const proto = o.proto ?? 'tcp';
    if (proto !== 'tcp' && proto !== 'udp') throw bad(`ports[${i}].proto must be tcp or udp`);
    const num = (x: unknown, what: string) => {
      if (!Number.isInteger(x) || (x as number) < 1 || (x as number) > 65535) throw bad(`ports[${i}].${what} must be a port number (1-65535)`);
      return x as number;
    };
    return { proto, hostPort: num(o.hostPort, 'hostPort'), containerPort: num(o.containerPort, 'containerPort'), hostIp: text(o.hostIp, `ports[${i}].hostIp`, false) };
  });
}

export function attachmentRequest(b: Json): AttachRequest {
  const aliases = b.aliases === undefined ? [] : b.aliases;
  if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string')) throw bad('aliases must be a list of strings');
  return {
    ...key(b), network: text(b.network, 'network'), netns: text(b.netns, 'netns'),
    name: text(b.name, 'name', false) || undefined, aliases: aliases as string[],
    ip: text(b.ip, 'ip', false) || undefined, mac: text(b.mac, 'mac', false) || undefined, ports: ports(b.ports),
  };
}

export function attachmentRoutes(r: Router, e: Engine): void {
  const a = e.attachments;
  r.route('POST', '/ctrnet/attachments', async ({ body, res }) => {
    const out = await a.attach(attachmentRequest(await body()));
    res.statusCode = 201;
    return out;
  });
  r.route('POST', '/ctrnet/attachments/delete', async ({ body }) => ({ removed: await a.detach(key(await body())) }));
  r.route('POST', '/ctrnet/attachments/check', async ({ body }) => a.check(key(await body())));
  r.route('POST', '/ctrnet/attachments/gc', async ({ body }) => {
    const b = await body();
    if (!Array.isArray(b.valid)) throw bad('valid must be a list of {ref, ifName}');
    const req: GcRequest = {
      kind: kind(b.kind), scope: text(b.scope, 'scope', false),
      valid: (b.valid as unknown[]).map((v, i) => {
        const o = (v ?? {}) as Record<string, unknown>;
        return { ref: text(o.ref, `valid[${i}].ref`), ifName: text(o.ifName, `valid[${i}].ifName`) };
      }),
    };
    return { removed: await a.gc(req) };
  });
  r.route('GET', '/ctrnet/attachments', async () => a.list().map((x) => ({ ...x, endpoints: a.endpointsOf(x) })));
}
