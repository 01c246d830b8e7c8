/**
 * Real registries for the tests, inside a lab host: Debian's docker-registry (the distribution
 * registry, 2.8) open, with htpasswd basic auth, or with token auth against the test's own token
 * issuer (test/helpers/token-issuer.ts, signing as the distribution spec says; the registry trusts
 * its certificate). Plain HTTP on the lab host's address: the daemons are told
 * --insecure-registry. Each registry's access log is kept for the tests to read (which blobs were
 * fetched, how often).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LabHost, must, sh } from '../../scripts/lab';

export type RegistryAuthMode = { kind: 'open' } | { kind: 'htpasswd'; users: Record<string, string> } | { kind: 'token'; realm: string; service: string; issuer: string; certFile: string };

/** Is something answering HTTP at ip:port inside the host? (a node one-liner in its namespace) */
export async function answers(h: LabHost, url: string): Promise<number> {
  const js = `require('http').get(${JSON.stringify(url)}, (r) => { console.log(r.statusCode); r.resume(); }).on('error', () => console.log(0))`;
  const r = await h.exec([process.execPath, '-e', js], { timeoutMs: 5000 });
  return Number(r.stdout.trim()) || 0;
}

export class LabRegistry {
  private child?: ChildProcess;
  log = '';

  constructor(
    readonly host: LabHost,
    readonly ip: string,
    readonly port: number,
    readonly auth: RegistryAuthMode = { kind: 'open' },
  ) {}

  get address(): string {
    return `${this.ip}:${this.port}`;
  }

  /** Where the registry keeps its blobs (for tests that corrupt one). */
  get storage(): string {
    return `${this.host.dir}/registry-${this.port}`;
  }

  async start(): Promise<void> {
    const dir = this.storage;
    mkdirSync(dir, { recursive: true });
    let auth = '';
    if (this.auth.kind === 'htpasswd') {
      const file = `${dir}/htpasswd`;
      writeFileSync(file, '');
      for (const [u, p] of Object.entries(this.auth.users)) await must(['htpasswd', '-bB', file, u, p]);
      auth = `auth:\n  htpasswd:\n    realm: ctrnet-test\n    path: ${file}\n`;
    } else if (this.auth.kind === 'token') {
      const a = this.auth;
      auth = `auth:\n  token:\n    realm: ${a.realm}\n    service: ${a.service}\n    issuer: ${a.issuer}\n    rootcertbundle: ${a.certFile}\n`;
    }
    const config = `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\nhttp:\n  addr: ${this.address}\n${auth}`;
    writeFileSync(`${dir}/config.yml`, config);
    const c = spawn('nsenter', [`--net=${this.host.netnsPath}`, 'docker-registry', 'serve', `${dir}/config.yml`], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = c;
    c.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`docker-registry exited ${c.exitCode}: ${this.log.slice(-2000)}`);
      if ((await answers(this.host, `http://${this.address}/v2/`)) > 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not answer within 20 s: ${this.log.slice(-2000)}`);
  }

  /** Access log lines of GET/HEAD requests for a path (the registry logs every request). */
  requests(method: string, pathPart: string): string[] {
    return this.log.split('\n').filter((l) => l.includes(`"${method} `) && l.includes(pathPart));
  }

  /** The registry's file of a blob (docker/registry/v2/blobs/sha256/xx/HEX/data). */
  blobFile(digest: string): string {
    const hex = digest.replace(/^sha256:/, '');
    return path.join(this.storage, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** skopeo copy, as a test's independent client of the registry. */
export async function skopeo(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await sh(['skopeo', '--insecure-policy', ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** skopeo inside a lab host (the registry listens on its address). */
export async function skopeoIn(h: LabHost, args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await h.exec(['skopeo', '--insecure-policy', ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
