/**
 * ctrnet-cni measured as the CNI reference plugins are (bench/peers.ts cniEndpoint): ADD and DEL of
 * one endpoint with one published TCP port (portMappings 8080 → 80), driven as a runtime drives a
 * plugin (the spec's environment, the configuration on stdin, the ADD's result as DEL's prevResult),
 * against a ctrnetd in a lab host. Each iteration uses a fresh container network namespace, made and
 * deleted outside the timed part; an anchor attachment stays for the whole run, as for the peers.
 */
import path from 'node:path';
import { LabHost, must, sh } from '../scripts/lab';
import { now } from './common';
import type { EndpointTimes } from './peers';

const CTRNET_CNI = path.resolve(__dirname, '../../bin/ctrnet-cni');
const SUBNET = '10.215.0';

export async function ctrnetCniEndpoint(n: number): Promise<EndpointTimes> {
  const host = await LabHost.create('ccni');
  const spaces: string[] = [];
  try {
    await host.startDaemon();
    await host.ctl(['network', 'create', '--subnet', `${SUBNET}.0/24`, 'bench']);
    const conf = (ports: boolean, prev?: unknown) => JSON.stringify({
      cniVersion: '1.0.0', name: 'bench', type: 'ctrnet-cni', socket: `unix://${host.socket}`, network: 'bench',
      runtimeConfig: { portMappings: ports ? [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] : [] }, ...(prev ? { prevResult: prev } : {}),
    });
    const invoke = async (cmd: 'ADD' | 'DEL', id: string, ns: string, input: string) => {
      const t0 = now();
      const r = await host.exec([process.execPath, CTRNET_CNI], { input, timeoutMs: 60_000, env: { PATH: process.env.PATH, CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: ns, CNI_IFNAME: 'eth0', CNI_PATH: path.dirname(CTRNET_CNI), CNI_ARGS: '' } });
      const ms = now() - t0;
      if (r.code !== 0) throw new Error(`ctrnet-cni ${cmd} exited ${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`);
      return { ms, out: r.stdout };
    };
    const netns = async (i: number) => {
      const name = `${host.ns}-c${i}`;
      await must(['ip', 'netns', 'add', name]);
      spaces.push(name);
      return `/run/netns/${name}`;
    };
    const anchor = await netns(999999);
    await invoke('ADD', 'anchor'.padEnd(64, 'a'), anchor, conf(false));
    const setup: number[] = [];
    const teardown: number[] = [];
    for (let i = 0; i <= n; i++) {
      const ns = await netns(i);
      const id = `bench${i}`.padEnd(64, 'e');
      const a = await invoke('ADD', id, ns, conf(true));
      const result = JSON.parse(a.out) as { ips: { address: string }[] };
      if (i === 0) {
        const ip = result.ips[0].address.split('/')[0];
        const addr = await must(['nsenter', `--net=${ns}`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
        if (!addr.includes(` ${ip}/`)) throw new Error(`ctrnet-cni: eth0 has not ${ip}: ${addr.trim()}`);
        const maps = await host.run(['nft', 'list', 'table', 'ip', 'ctrnet']);
        if (!new RegExp(`tcp \\. 8080 .*: ${ip.replace(/\./g, '\\.')} \\. 80`).test(maps)) throw new Error(`ctrnet-cni: no published-port element 8080 -> ${ip}:80:\n${maps}`);
      }
      const d = await invoke('DEL', id, ns, conf(true, result));
      if (i > 0) {
        setup.push(a.ms);
        teardown.push(d.ms);
      }
      await sh(['ip', 'netns', 'del', spaces.pop()!]);
    }
    return { setup, teardown, version: 'ctrnet-cni (node, a client of ctrnetd)' };
  } finally {
    for (const s of spaces) await sh(['ip', 'netns', 'del', s]);
    await host.destroy();
  }
}
