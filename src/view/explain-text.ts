/**
 * Says an Explanation (base/explanation.ts, produced by core/explain.ts) in plain sentences, in the
 * seed's terms, in English or Chinese (the seed's language). Pure: used by the CLI (`ctrnet
 * explain`) and by the web UI (a clicked container).
 */
import type { Explanation } from '../base/explanation';

export type Lang = 'en' | 'zh';

/** An IPv6 host address in brackets, as in URLs. */
const hp = (ip: string): string => (ip.includes(':') ? `[${ip}]` : ip);

const T = {
  en: {
    head: (n: string, s: string, mode: string) => `Container ${n} (${s}): ${mode}.`,
    modes: {
      bridge: 'bridge mode, the default: its own network namespace, wired to the bridge by a veth pair',
      network: 'on a user-defined network: its own network namespace, wired to that network\'s bridge by a veth pair',
      host: 'host mode: no network namespace of its own, it uses the host\'s interfaces, addresses and ports',
      none: 'none mode: its own network namespace with nothing configured but lo',
      container: 'container mode: it joined the network namespace of another container',
    },
    notRunning: 'It is not running, so it has no network now.',
    external: (k: string, ref: string) => `A sandbox of another runtime, attached through ctrnet's ${k === 'cni' ? 'CNI plugin' : 'Docker plugin'} (its id there: ${ref}).`,
    joined: (t: string) => `It uses the network namespace of container ${t}: same interfaces, addresses and ports; they talk over lo.`,
    ns: (p: string) => `Network namespace: ${p}.`,
    shared: (l: string[]) => `Shared with: ${l.join(', ')} (container mode).`,
    ifaces: 'Interfaces:',
    iface: (i: Explanation['interfaces'][number]) => `  ${i.name}: ${i.addresses.join(', ') || 'no address'}, MAC ${i.mac}, MTU ${i.mtu}, ${i.up ? 'up' : 'down'}${i.network ? `, on network ${i.network}` : ''}.`,
    veth: (peer: string, br?: string) => br
      ? `    One end of a veth pair: the other end, ${peer} on the host, is a port of the bridge ${br} (a cable plugged into a switch).`
      : `    One end of a veth pair; the other end, ${peer}, is on the host but on no bridge.`,
    routes: 'Routes:',
    route: (r: Explanation['routes'][number]) => r.dst === 'default'
      ? `  default via ${r.via} dev ${r.dev}: everything else goes to the gateway ${r.via}.`
      : `  ${r.dst} dev ${r.dev}: reached directly on that link.`,
    noRoute: '  none: it can reach nothing beyond its own interfaces.',
    dns: (l: string[]) => `DNS: ${l.length ? l.join(', ') : 'none'} (from /etc/resolv.conf).`,
    nat: 'NAT (nftables tables ip ctrnet and ip6 ctrnet, what the seed shows with `iptables -t nat -vnL` and `ip6tables`):',
    rule: (r: string) => `  ${r}`,
    masq: '    (masquerade: traffic leaving by another interface takes the host\'s address)',
    port: (p: Explanation['nat']['ports'][number]) => `  published ${hp(p.hostIp)}:${p.hostPort}/${p.proto} → ${p.target} (${p.hostIp === '::1' ? 'relayed: IPv6 cannot NAT the loopback' : 'DNAT'}), ${p.packets} connection(s) so far.`,
    overlay: (o: Explanation['overlays'][number]) => `Overlay ${o.network}: VXLAN device ${o.vxlan} (VNI ${o.vni}, UDP 4789).`,
    peer: (mac: string, dst: string, ip?: string) => `  remote ${ip ?? '?'} (${mac}) is reached through host ${dst}.`,
    noPeer: '  no remote containers yet.',
    fast: (on: string[], redirected: number) => `Fast path: IPv4 frames from ${on.join(', ')} to other containers of the same network that carry the sender's own MAC and address go straight to the receiver (tc-BPF on the host end of the veth, bpf_redirect_peer; on an overlay, frames for other hosts straight to its VXLAN device and the device's frames for this host's containers straight to them): no bridge hop; all other frames take the bridge and its anti-spoofing rules. ${redirected} frame(s) so far on this host.`,
    fastOff: (why: string) => `Fast path: off (${why}); every frame takes the bridge.`,
    bnf: (on: boolean, why: string) => `br_netfilter: ${on ? 'on: frames crossing the bridge also pass iptables\' hooks' : 'off: frames crossing the bridge pass no iptables hook'} (${why}).`,
    ok: 'Kernel and state agree.',
    bad: '!! MISMATCH between the kernel and ctrnet\'s state (a bug, or someone changed it by hand):',
  },
  zh: {
    head: (n: string, s: string, mode: string) => `容器 ${n}（${s}）：${mode}。`,
    modes: {
      bridge: 'bridge 桥接模式（默认）：拥有独立的 Network Namespace，通过 veth pair 连接到网桥',
      network: '用户自定义网络：拥有独立的 Network Namespace，通过 veth pair 连接到该网络的网桥',
      host: 'host 开放式模式：没有独立的 Network Namespace，直接使用宿主机的网卡、IP 和端口',
      none: 'none 封闭式模式：拥有独立的 Network Namespace，但除 lo 外不做任何网络配置',
      container: 'container 联合挂载式模式：与另一个容器共享同一个 Network Namespace',
    },
    notRunning: '容器未运行，目前没有网络。',
    external: (k: string, ref: string) => `这是另一个容器引擎的 Sandbox，通过 ctrnet 的 ${k === 'cni' ? 'CNI 插件' : 'Docker 插件'}接入（在该引擎中的 ID：${ref}）。`,
    joined: (t: string) => `它使用容器 ${t} 的 Network Namespace：网卡、IP、端口范围都相同，两者通过 lo 网卡通信。`,
    ns: (p: string) => `Network Namespace：${p}。`,
    shared: (l: string[]) => `与以下容器共享：${l.join('、')}（container 模式）。`,
    ifaces: '网卡：',
    iface: (i: Explanation['interfaces'][number]) => `  ${i.name}：${i.addresses.join('、') || '无地址'}，MAC ${i.mac}，MTU ${i.mtu}，${i.up ? '已启用' : '未启用'}${i.network ? `，属于网络 ${i.network}` : ''}。`,
    veth: (peer: string, br?: string) => br
      ? `    这是 veth pair 的一端；另一端 ${peer} 在宿主机上，加入了网桥 ${br}（如同插在交换机上的网线）。`
      : `    这是 veth pair 的一端；另一端 ${peer} 在宿主机上，但没有加入任何网桥。`,
    routes: '路由：',
    route: (r: Explanation['routes'][number]) => r.dst === 'default'
      ? `  default via ${r.via} dev ${r.dev}：其余流量都发往网关 ${r.via}。`
      : `  ${r.dst} dev ${r.dev}：该网段直接二层可达。`,
    noRoute: '  无：只能访问自己的网卡。',
    dns: (l: string[]) => `DNS：${l.length ? l.join('、') : '无'}（来自 /etc/resolv.conf）。`,
    nat: 'NAT（nftables 表 ip ctrnet 与 ip6 ctrnet，相当于原文中的 `iptables -t nat -vnL` 与 `ip6tables`）：',
    rule: (r: string) => `  ${r}`,
    masq: '    （MASQUERADE：从其他网卡出去的流量使用宿主机的地址）',
    port: (p: Explanation['nat']['ports'][number]) => `  端口映射 ${hp(p.hostIp)}:${p.hostPort}/${p.proto} → ${p.target}（${p.hostIp === '::1' ? '中继：IPv6 回环地址无法 NAT' : 'DNAT'}），已有 ${p.packets} 个连接。`,
    overlay: (o: Explanation['overlays'][number]) => `Overlay 网络 ${o.network}：VXLAN 设备 ${o.vxlan}（VNI ${o.vni}，UDP 4789）。`,
    peer: (mac: string, dst: string, ip?: string) => `  远端容器 ${ip ?? '?'}（${mac}）经由主机 ${dst} 到达。`,
    noPeer: '  暂无远端容器。',
    fast: (on: string[], redirected: number) => `快速路径：从 ${on.join('、')} 发往同一网络其他容器、且源 MAC 与源地址都属于发送者本身的 IPv4 帧，直接交给接收方（veth 宿主机端的 tc-BPF，bpf_redirect_peer；在 overlay 网络上，发往其他主机的帧直接交给其 VXLAN 设备，该设备收到的发往本机容器的帧也直接交给它们），不经过网桥；其余帧照常经过网桥及其防伪造规则。本机至今已转发 ${redirected} 帧。`,
    fastOff: (why: string) => `快速路径：未启用（${why}）；所有帧都经过网桥。`,
    bnf: (on: boolean, why: string) => `br_netfilter：${on ? '已开启，经过网桥的帧也要经过 iptables 的钩子' : '已关闭，经过网桥的帧不经过 iptables 的钩子'}（${why}）。`,
    ok: '内核状态与 ctrnet 记录一致。',
    bad: '!! 内核与 ctrnet 记录不一致（程序错误，或有人手动修改过）：',
  },
};

export function sayExplanation(x: Explanation, lang: Lang = 'en'): string {
  const t = T[lang];
  const out: string[] = [t.head(x.container.name, x.container.status, t.modes[x.mode])];
  if (x.container.status !== 'running') return [...out, t.notRunning].join('\n') + '\n';
  if (x.joinedTo) out.push(t.joined(x.joinedTo));
  if (x.external) out.push(t.external(x.external.kind, x.external.ref));
  if (x.namespace) {
    out.push(t.ns(x.namespace.path));
    if (x.namespace.sharedWith.length) out.push(t.shared(x.namespace.sharedWith));
  }
  if (x.interfaces.length) {
    out.push(t.ifaces);
    for (const i of x.interfaces) {
      out.push(t.iface(i));
      if (i.hostPeer) out.push(t.veth(i.hostPeer.name, i.hostPeer.bridge));
    }
  }
  if (x.mode !== 'host') {
    out.push(t.routes, ...(x.routes.length ? x.routes.map(t.route) : [t.noRoute]));
  }
  out.push(t.dns(x.dns));
  if (x.nat.rules.length || x.nat.ports.length) {
    out.push(t.nat);
    for (const r of x.nat.rules) out.push(t.rule(r));
    if (x.nat.rules.some((r) => r.includes('masquerade'))) out.push(t.masq);
    for (const p of x.nat.ports) out.push(t.port(p));
  }
  for (const o of x.overlays) {
    out.push(t.overlay(o));
    const peers = o.fdb.map((f) => t.peer(f.mac, f.dst, o.neighbours.find((n) => n.mac === f.mac)?.ip));
    out.push(...(peers.length ? peers : [t.noPeer]));
  }
  if (x.bridgeNetfilter) out.push(t.bnf(x.bridgeNetfilter.on, x.bridgeNetfilter.why));
  if (x.fastPath) {
    const on = x.fastPath.ports.filter((p) => p.attached).map((p) => p.hostIf);
    if (x.fastPath.active && on.length) out.push(t.fast(on, x.fastPath.redirected));
    else if (!x.fastPath.active) out.push(t.fastOff(x.fastPath.why ?? '?'));
  }
  if (x.mode !== 'host') out.push(...(x.mismatches.length ? [t.bad, ...x.mismatches.map((m) => `   - ${m}`)] : [t.ok]));
  return out.join('\n') + '\n';
}
