/**
 * Test helpers for the CNI front door: the plugin run as a runtime runs it (the spec's environment
 * and the configuration on stdin, inside a test host), and Podman 4.3 (Debian's) with its CNI
 * backend, runc and a store of its own in the test host's directory, using ctrnet-cni.
 */
import { mkdirSync, writeFileSync, copyFileSync, chmodSync, symlinkSync, existsSync } from 'node:fs';
import path from 'node:path';
import { LabHost, must, Result, sh } from '../../scripts/lab';

const REPO = path.resolve(__dirname, '../../..');
export const CTRNET_CNI = path.join(REPO, 'bin/ctrnet-cni');

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  conf: Record<string, unknown>;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
}

/** Runs ctrnet-cni in the test host with the spec's environment; parses stdout when there is any. */
export async function cni(h: LabHost, c: CniCall): Promise<Result & { json?: Record<string, unknown> }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: c.command, CNI_PATH: path.dirname(CTRNET_CNI) };
  if (c.containerId !== undefined) env.CNI_CONTAINERID = c.containerId;
  if (c.netns !== undefined) env.CNI_NETNS = c.netns;
  if (c.ifName !== undefined) env.CNI_IFNAME = c.ifName;
  if (c.args !== undefined) env.CNI_ARGS = c.args;
  const r = await h.exec([process.execPath, CTRNET_CNI], { input: JSON.stringify(c.conf), env, timeoutMs: 60_000 });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** Podman in a test host: its own root, runroot, tmpdir and CNI configuration directory. */
export class LabPodman {
  readonly dir: string;
  readonly cniDir: string;
  private readonly conf: string;

  constructor(readonly host: LabHost) {
    this.dir = `${host.dir}/podman`;
    this.cniDir = `${this.dir}/cni`;
    this.conf = `${this.dir}/containers.conf`;
    for (const d of [this.dir, this.cniDir, `${this.dir}/tmp`]) mkdirSync(d, { recursive: true });
    // runc, not crun (cgroups v1 here); limits the test host can grant (podman raises nofile and nproc to the kernel's maximum otherwise).
    writeFileSync(this.conf, [
      '[network]', 'network_backend = "cni"', `cni_plugin_dirs = [${JSON.stringify(path.dirname(CTRNET_CNI))}, "/usr/lib/cni"]`, `network_config_dir = ${JSON.stringify(this.cniDir)}`,
      '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', 'runtime = "runc"', `tmp_dir = ${JSON.stringify(`${this.dir}/tmp`)}`,
      '[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]', '',
    ].join('\n'));
  }

  /** A CNI network configuration list with ctrnet-cni as its plugin. */
  addNetwork(name: string, network: string, extra: Record<string, unknown>[] = []): Record<string, unknown> {
    const plugin = { type: 'ctrnet-cni', socket: `unix://${this.host.socket}`, network, capabilities: { portMappings: true, ips: true, mac: true, dns: true, aliases: true } };
    const list = { cniVersion: '1.0.0', name, plugins: [plugin, ...extra] };
    writeFileSync(`${this.cniDir}/${name}.conflist`, JSON.stringify(list, null, 2));
    return plugin;
  }

  run(args: string[], timeoutMs = 120_000): Promise<Result> {
    return this.host.exec(['podman', '--root', `${this.dir}/root`, '--runroot', `${this.dir}/runroot`, '--tmpdir', `${this.dir}/tmp`, '--storage-driver', 'vfs', ...args], {
      env: { ...process.env, CONTAINERS_CONF: this.conf },
      timeoutMs,
    });
  }

  async must(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** busybox as an image, from Debian's busybox-static (`podman import`: no registry). */
  async importBusybox(): Promise<void> {
    const rootfs = `${this.dir}/rootfs`;
    mkdirSync(`${rootfs}/bin`, { recursive: true });
    if (!existsSync(`${rootfs}/bin/busybox`)) {
      copyFileSync('/bin/busybox', `${rootfs}/bin/busybox`);
      chmodSync(`${rootfs}/bin/busybox`, 0o755);
      for (const a of ['sh', 'sleep', 'ip', 'cat', 'wget', 'httpd', 'nslookup', 'ping', 'true', 'echo', 'timeout']) symlinkSync('busybox', `${rootfs}/bin/${a}`);
      for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp', 'www']) mkdirSync(`${rootfs}/${d}`, { recursive: true });
      writeFileSync(`${rootfs}/www/index.html`, 'podman here\n');
    }
    await must(['tar', '-C', rootfs, '-cf', `${this.dir}/busybox.tar`, '.']);
    await this.must(['import', `${this.dir}/busybox.tar`, 'localhost/busybox:latest']);
  }

  /** Removes every container (their DELs run), then the store's mounts go with the test host. */
  async cleanup(): Promise<void> {
    await this.run(['rm', '-f', '-a', '-t', '0']).catch(() => undefined);
    await sh(['umount', '-R', `${this.dir}/root`]).catch(() => undefined);
  }
}
