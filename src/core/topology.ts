/**
 * The topology of one host as a plain JSON model, for `ctrnet topology` and the web UI: networks
 * with their bridges and the bridge ports the kernel reports, containers with their interfaces,
 * published ports and network mode, namespaces shared through container mode, and for overlay
 * networks the other hosts they reach (from the overlay control plane's peer cache).
 *
 * Desired state comes from the store; "what is on the bridge" comes from the kernel's link list, so
 * a veth missing from its bridge, or a port nobody claims, shows up as such instead of being
 * assumed away.
 *
 * Limitations: one `ip -d link show` per call (no caching); remote hosts are as fresh as the
 * peer cache (etcd watch), and empty without a cluster store.
 */
import os from 'node:os';
import { attachments, modeOf } from '../base/container-spec';
import { vxlanName } from '../base/names';
import { OPT_ICC, OPT_VNI } from '../base/network-options';
import { Kernel, LinkInfo } from '../kernel/kernel';
import { Repos } from '../state/repos';
import { Networks } from './networks';
import { TopoContainer, TopoInterface, TopoNetwork, TopoRemoteHost, Topology } from '../base/topology';

/** What the topology reads: the records, the drivers (other hosts' endpoints) and the kernel's links. */
export interface TopologyDeps {
  repo: Pick<Repos, 'containers' | 'endpoints' | 'ports' | 'attachments'>;
  networks: Networks;
  kernel: Kernel;
  version: string;
  /** this host's advertise address, with a cluster store */
  advertise?: string;
}

/** Builds the model from the store and the kernel's link list (in the daemon's namespace). */
export async function buildTopology(d: TopologyDeps): Promise<Topology> {
  const links = await d.kernel.linkList();
  const byName = new Map<string, LinkInfo>(links.map((l) => [l.name, l]));
  const endpoints = d.repo.endpoints.list();
  const containerOfHostIf = new Map(endpoints.map((ep) => [ep.hostIf, ep.containerId]));

  const networks: TopoNetwork[] = d.networks.list().map((n) => {
    const br = n.bridge ? byName.get(n.bridge) : undefined;
    const ports = n.bridge
      ? links.filter((l) => l.master === n.bridge).map((l) => ({ name: l.name, kind: l.kind, up: l.up, ...(containerOfHostIf.has(l.name) ? { containerId: containerOfHostIf.get(l.name) } : {}) }))
      : [];
    const net: TopoNetwork = {
      id: n.id, name: n.name, driver: n.driver, internal: n.internal, icc: n.options[OPT_ICC] !== 'false',
      bridgePresent: !!br, bridgeUp: !!br?.up, ports, remoteHosts: [],
      ...(n.subnet ? { subnet: n.subnet } : {}),
      ...(n.gateway ? { gateway: n.gateway } : {}),
      ...(n.subnet6 ? { subnet6: n.subnet6, gateway6: n.gateway6 } : {}),
      ...(n.bridge ? { bridge: n.bridge } : {}),
    };
    if (n.options[OPT_VNI]) {
      net.vni = Number(n.options[OPT_VNI]);
      net.vxlan = vxlanName(n.id);
    }
    const hosts = new Map<string, TopoRemoteHost>();
    for (const p of d.networks.driver(n).remotes(n)) {
      if (!hosts.has(p.host)) hosts.set(p.host, { address: p.host, containers: [] });
      hosts.get(p.host)!.containers.push({ id: p.containerId, name: p.name, ip: p.ip, ...(p.ip6 ? { ip6: p.ip6 } : {}), mac: p.mac });
    }
    net.remoteHosts = [...hosts.values()].sort((a, b) => a.address.localeCompare(b.address));
    for (const h of net.remoteHosts) h.containers.sort((a, b) => a.name.localeCompare(b.name));
    return net;
  });
  const netById = new Map(networks.map((n) => [n.id, n]));
  // A container's networks are keyed by name, or by id when the name is shared (API < 1.44 made a duplicate).
  const netByKey = new Map([...networks.map((n) => [n.name, n] as const), ...networks.map((n) => [n.id, n] as const)]);

  const rows = d.repo.containers.list();
  const byId = new Map(rows.map((c) => [c.id, c]));
  const owner = (id: string): string => {
    // Follows container:X chains to the container that owns the namespace; a cycle cannot be
    // created (the target must exist first), the bound is only a guard against bad records.
    let cur = id;
    for (let i = 0; i < rows.length; i++) {
      const m = modeOf(byId.get(cur)?.spec.networkMode ?? 'none');
      if (m.kind !== 'container') return cur;
      cur = m.target;
    }
    return cur;
  };
  const ports = d.repo.ports.list();
  const iface = (ep: (typeof endpoints)[number]): TopoInterface => {
    const net = netById.get(ep.networkId);
    const prefix = net?.subnet ? Number(net.subnet.split('/')[1]) : undefined;
    return {
      name: ep.ifName, ip: ep.ip, mac: ep.mac, networkId: ep.networkId, networkName: net?.name ?? ep.networkId.slice(0, 12), hostIf: ep.hostIf,
      onBridge: !!net?.bridge && byName.get(ep.hostIf)?.master === net.bridge,
      ...(prefix !== undefined ? { prefixLen: prefix } : {}),
      ...(ep.ip6 ? { ip6: ep.ip6, prefixLen6: Number(net?.subnet6?.split('/')[1]) } : {}),
    };
  };
  const portsOf = (id: string) => ports.filter((p) => p.containerId === id).map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort }));

  const containers: TopoContainer[] = rows
    .map((c): TopoContainer => {
      const mode = modeOf(c.spec.networkMode);
      const ifaces = endpoints
        .filter((ep) => ep.containerId === c.id)
        .sort((a, b) => ifIndex(a.ifName) - ifIndex(b.ifName))
        .map(iface);
      // Configured networks first (they survive a stop), then any the sandbox added (the gateway bridge).
      const configured = attachments(c.spec).map((name) => netByKey.get(name)?.id).filter((id): id is string => !!id);
      const nets = [...new Set([...configured, ...ifaces.map((i) => i.networkId)])];
      const base = {
        id: c.id, name: c.name, image: c.image, status: c.status, networks: nets, interfaces: ifaces,
        ports: portsOf(c.id),
      };
      if (mode.kind === 'container') return { ...base, mode: 'container', joins: mode.target, netnsOwner: owner(c.id) };
      return { ...base, mode: mode.kind };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  // Sandboxes of other runtimes (CNI, Docker's plugin) with an interface: drawn as containers on their networks.
  for (const a of d.repo.attachments.list()) {
    const ifaces = endpoints.filter((ep) => ep.containerId === a.id).map(iface);
    if (!a.netns || !ifaces.length) continue;
    containers.push({
      id: a.id, name: a.name, image: a.kind === 'cni' ? '(CNI)' : '(Docker)', status: 'running', mode: 'network', networks: [...new Set(ifaces.map((i) => i.networkId))],
      interfaces: ifaces, ports: portsOf(a.id), external: a.kind,
    });
  }

  return {
    host: { name: os.hostname(), version: d.version, ...(d.advertise ? { advertise: d.advertise } : {}) },
    generated: new Date().toISOString(),
    networks,
    containers,
  };
}

const ifIndex = (name: string): number => Number(/\d+$/.exec(name)?.[0] ?? 0);
