/**
 * Section 6: `pull` of a 3-layer image from a registry on the local switch, ctrnet against Docker
 * 20.10 (Debian's docker.io, run by bench/peers.ts withDockerd in a lab host on the same switch):
 * the same registry (Debian's docker-registry), the same image (busybox, 16 MiB of random bytes,
 * 16 MiB of text; Docker schema 2 manifest, gzip layers), both clients told --insecure-registry.
 * Each pull is cold: the image and its layers are removed between pulls. The daemon's RSS is
 * sampled every 10 ms during each pull (its peak) and before (idle). The ctrnet figure includes
 * the ctrnet CLI's node start-up (~60 ms); Docker's, the docker CLI's (Go, a few ms).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { LabHost, plugIntoSwitch } from '../scripts/lab';
import { LabRegistry, skopeoIn } from '../test/helpers/registry';
import { busyboxRoot, gzip, imageConfig, layerTar, MEDIA, ociLayout } from '../test/helpers/test-images';
import { installDebs, median, ms, now, Row } from './common';
import { withDockerd } from './peers';

const SW = '10.219.0.1';
const IMAGE = `${SW}:5000/bench/three:1`;

const rssOf = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return 0;
  }
};

/** Runs `pull`, sampling `pid`'s RSS meanwhile: wall ms and peak MB. */
async function measured(pid: number, pull: () => Promise<void>): Promise<{ ms: number; peakMb: number }> {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 10);
  const t0 = now();
  try {
    await pull();
  } finally {
    clearInterval(timer);
  }
  return { ms: now() - t0, peakMb: Math.max(peak, rssOf(pid)) };
}

async function buildAndPush(sw: LabHost): Promise<{ blobMb: number }> {
  const dir = `${sw.dir}/img`;
  const layers = [];
  const fills: ((d: string) => void)[] = [
    (d) => busyboxRoot(d),
    (d) => writeFileSync(`${d}/random.bin`, randomBytes(16 << 20)),
    (d) => {
      const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
      const lines: string[] = [];
      for (let size = 0; size < 16 << 20; ) {
        const l = `${Array.from({ length: 12 }, () => words[Math.floor(Math.random() * words.length)]).join(' ')} ${Math.random()}\n`;
        lines.push(l);
        size += l.length;
      }
      mkdirSync(`${d}/usr/share/doc`, { recursive: true });
      writeFileSync(`${d}/usr/share/doc/text.txt`, lines.join(''));
    },
  ];
  for (let i = 0; i < fills.length; i++) {
    const d = `${dir}/l${i}`;
    mkdirSync(d, { recursive: true });
    fills[i](d);
    const tar = await layerTar(d, `${dir}/l${i}.tar`);
    layers.push({ tar, blob: await gzip(`${dir}/l${i}.tar`), mediaType: MEDIA.ociGzip });
  }
  ociLayout(`${dir}/oci`, '1', [{ config: imageConfig(layers, { Cmd: ['sh'] }), layers }]);
  await skopeoIn(sw, ['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${dir}/oci:1`, `docker://${IMAGE}`]);
  return { blobMb: layers.reduce((n, l) => n + l.blob.length, 0) / 2 ** 20 };
}

export async function pullSection(n = 5): Promise<Row[]> {
  const S = '6. Image pull (3 layers from a registry on the local switch, cold, median)';
  const inst = installDebs(['docker-registry', 'skopeo']);
  if (!inst.ok) return [{ section: S, what: 'not measured', value: '', note: inst.error }];
  const sw = await LabHost.create('psw');
  let a: LabHost | undefined;
  const reg = new LabRegistry(sw, SW, 5000);
  try {
    a = await LabHost.create('pa');
    await plugIntoSwitch(sw, a, '10.219.0.11', SW);
    await reg.start();
    const { blobMb } = await buildAndPush(sw);
    await a.startDaemon(['--insecure-registry', '10.219.0.0/24']);
    const host = a;
    const pid = host.daemonPid!;
    const ours = { ms: [] as number[], peak: [] as number[], idle: 0 };
    for (let i = 0; i <= n; i++) {
      ours.idle = rssOf(pid);
      const m = await measured(pid, async () => {
        const r = await host.cli(['pull', IMAGE], { timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(`ctrnet pull: ${r.stderr.trim()}`);
      });
      const rm = await host.cli(['rmi', IMAGE]);
      if (rm.code !== 0) throw new Error(`ctrnet rmi: ${rm.stderr.trim()}`);
      if (i > 0) {
        ours.ms.push(m.ms);
        ours.peak.push(m.peakMb);
      }
    }
    const docker = await withDockerd({ daemonJson: { 'insecure-registries': ['10.219.0.0/24'] }, prepare: (h) => plugIntoSwitch(sw, h, '10.219.0.12', SW) }, async (d) => {
      const r = { ms: [] as number[], peak: [] as number[], idle: 0, version: d.version };
      for (let i = 0; i <= n; i++) {
        r.idle = rssOf(d.dockerdPid);
        const m = await measured(d.dockerdPid, async () => void (await d.must(['pull', '-q', IMAGE])));
        await d.must(['rmi', IMAGE]);
        if (i > 0) {
          r.ms.push(m.ms);
          r.peak.push(m.peakMb);
        }
      }
      return r;
    });
    const o = median(ours.ms);
    const rows: Row[] = [];
    const size = `${blobMb.toFixed(1)} MiB compressed`;
    if ('skipped' in docker) {
      rows.push({ section: S, what: `ctrnet pull (${size})`, value: ms(o), note: `n=${n}; Docker not measured: ${docker.skipped}` });
      rows.push({ section: S, what: 'ctrnetd RSS, idle → peak during a pull', value: `${ours.idle.toFixed(0)} MB → ${Math.max(...ours.peak).toFixed(0)} MB` });
      return rows;
    }
    const dk = median(docker.ms);
    rows.push({ section: S, what: `ctrnet vs Docker ${docker.version} (${size})`, value: `${ms(o)} vs ${ms(dk)}`, note: `${(o / dk).toFixed(2)}×; n=${n}, one warm-up pull each; CLI start-up included` });
    rows.push({ section: S, what: 'daemon RSS, idle → peak during a pull: ctrnetd vs dockerd', value: `${ours.idle.toFixed(0)} → ${Math.max(...ours.peak).toFixed(0)} MB vs ${docker.idle.toFixed(0)} → ${Math.max(...docker.peak).toFixed(0)} MB`, note: 'VmRSS sampled every 10 ms (dockerd pulls itself in 20.10, without containerd)' });
    return rows;
  } finally {
    await reg.stop();
    await a?.destroy();
    await sw.destroy();
  }
}
