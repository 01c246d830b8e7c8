/**
 * `npm run tour`: a live walk through Docker's network modes (bridge, host, container, none) on real
 * kernel objects, in the order of the blog post the project started from. Runs as root, entirely
 * inside two throwaway lab hosts (network namespaces): lab1 runs ctrnetd, lab2 is a second machine
 * on a link to it. Every command is printed as typed, with its real output. Removes everything at
 * the end, also after a failure or Ctrl-C.
 */
import { LabEtcd, LabHost, Result, linkHosts } from './lab';

/** All prose, keyed by step id, in English and in Chinese (the seed's language). */
const EN = {
    title: 'ctrnet tour: Docker network modes on real kernel objects',
    setup: 'Setting up lab hosts: lab1 (10.200.0.1) and lab2 (10.200.0.2, also running etcd), each with its own ctrnetd…',
    lab: 'Commands run on lab1 unless marked "(on lab2)"; nothing touches this machine\'s own network.',
    s1: '1. Bridge mode (the default)',
    bridgeAddr: 'The daemon creates a virtual bridge (docker0 in Docker, ctrnet0 here) holding the gateway address of 172.17.0.0/16; it works like a switch.',
    run: 'Start a web server in a bridge container; -p 8080:80 publishes container port 80 on host port 8080.',
    brctl: 'A veth pair is created: one end becomes the container\'s eth0, the other (vethXXX) joins the bridge (what `brctl show` lists).',
    ctrAddr: 'Inside, the container has its own network stack: eth0 with an address from the bridge\'s subnet…',
    ctrRoute: '…and the bridge\'s address as its default gateway.',
    nat: 'Publishing a port is a DNAT rule, and outbound traffic is masqueraded (Docker shows this with `iptables -t nat -vnL`).',
    fromLab2: '(on lab2) Another machine reaches the container through lab1\'s address and the published port.',
    fromLab1: 'The host itself reaches it on 127.0.0.1:8080 too.',
    ps: 'The container and its published port, as `docker ps` shows them…',
    port: '…and as `docker port` shows them.',
    s2: '2. Host mode (open container)',
    host: 'A host-mode container gets no network namespace of its own: it sees the host\'s interfaces (bridge and uplink included) and its hostname.',
    hostName: 'The host\'s own hostname, for comparison.',
    bridgeName: 'A bridge container has its own hostname (its short id).',
    s3: '3. Container (join) mode',
    join: 'A container joined to web\'s network namespace shares its IP, MAC and ports, and talks to web\'s httpd over lo.',
    s4: '4. None mode (closed container)',
    none: 'A none-mode container has its own network namespace with no configuration: only lo.',
    island: 'The post says you add interfaces yourself. Start a none-mode container that keeps running…',
    sandbox: '…and find its network namespace (a file you can hand to ip and nsenter).',
    vethAdd: 'Create a veth pair on the host…',
    vethMove: '…move one end into the container\'s namespace (iproute2 accepts a path)…',
    hostEnd: '…address and bring up the host end…',
    ctrEnd: '…and the container\'s end, from inside its namespace.',
    islandAddr: 'The container now has the interface we gave it.',
    ping: 'And it can reach the host over it.',
    s1b: '1b. User-defined bridge networks',
    netCreate: 'A network of your own: a new bridge, the next free subnet, and a DNS resolver that knows its containers.',
    netApi: 'Start a server on it…',
    netClient: '…and a second container finds it by name (the resolver answers for this network only).',
    netIsolated: 'A container on the default bridge cannot reach it: networks are isolated from each other.',
    netLs: 'The networks of this host.',
    s5: '5. Overlay (across hosts)',
    ovCreate: 'Both lab hosts run ctrnetd with the same etcd (--cluster-store) and their own --advertise-addr. An overlay network is created once, here the post\'s 10.0.9.0/24…',
    ovList: '(on lab2) …and is known on the other host at once.',
    ovServer: 'A server on lab1, on the overlay…',
    ovPeer: '(on lab2) …and a container on lab2, on the same virtual network.',
    ovPing: '(on lab2) It reaches the container on lab1 by name: the packets travel inside VXLAN (UDP 4789) between 10.200.0.2 and 10.200.0.1.',
    ovVxlan: 'On lab1, the VXLAN device: VNI, local address, UDP port 4789, no learning (peers come from etcd).',
    ovFdb: 'Its forwarding table: the MAC of the container on lab2 → lab2\'s address, programmed from etcd (no multicast, no flooding).',
    summary: 'Summary',
    sumBridge: '  bridge: ctrnet0 plus one veth pair per container; nftables masquerades outbound traffic and DNATs published ports',
    sumOthers: '  host: the host\'s own stack | container: another container\'s stack | none: only lo, wire it yourself',
    sumUser: '  user-defined networks: a bridge each, isolated from the others, with names resolved by the daemon',
    sumOverlay: '  overlay: a bridge and a VXLAN device per host, peers (MAC → host) programmed from etcd',
    sumIpv6: '  IPv6: --ipv6 networks get an IPv6 subnet too (NAT66, ports on [::], names answered with AAAA, ND guarded)',
    s6: '6. IPv6 (dual-stack networks)',
    v6Create: 'A network with --ipv6: the bridge holds an IPv6 gateway as well (fd00:ab::1), beside the IPv4 one.',
    v6Run: 'A server on it, port 80 published on 8086: on every IPv4 and every IPv6 address of lab1.',
    v6Addr: 'The container has both addresses; IPv6 is on only in containers that have an IPv6 network.',
    v6Name: 'Another container finds it by name: the resolver answers AAAA with its IPv6 address.',
    v6FromLab2: '(on lab2) lab2 reaches it over IPv6, at lab1\'s IPv6 address (the link is dual-stack: fd00:200::1 and ::2).',
    v6Nft: 'The IPv6 rules live in their own table, ip6 ctrnet: NAT66 (masquerade) and the IPv6 port map.',
    v6Guard: 'Anti-spoofing covers IPv6: a container may send only from its own addresses, and answer neighbour discovery only for them.',
    ok: (n: number, s: string) => `All ${n} steps passed in ${s} s.`,
    failed: (n: number, s: string) => `${n} step(s) failed (${s} s):`,
    cleanup: 'Cleaning up the lab hosts…',
    interrupted: 'Interrupted: cleaning up…',
    root: 'The tour creates network namespaces, bridges and containers: run it as root.',
    sTopo: 'Topology',
    topo: 'The whole lab host, as `ctrnet topology` draws it:',
    progress: (i: number, n: number) => `[${i}/${n}]`,
    usage: 'Usage: node dist/scripts/tour.js [--lang en|zh]',
};

const ZH: typeof EN = {
  title: 'ctrnet 导览：在真实的内核对象上演示 Docker 的网络模式',
  setup: '正在创建实验主机：lab1（10.200.0.1）和 lab2（10.200.0.2，同时运行 etcd），各自运行一个 ctrnetd……',
  lab: '除标注“（在 lab2 上）”外，命令都在 lab1 上执行；不会改动本机自身的网络。',
  s1: '1. Bridge 桥接式网络模式（默认）',
  bridgeAddr: 'Docker 进程启动时会在主机上创建虚拟网桥（Docker 中叫 docker0，这里叫 ctrnet0），持有 172.17.0.0/16 的网关地址；它像一台交换机。',
  run: '在桥接模式容器中启动 web 服务；-p 8080:80 把容器的 80 端口映射到主机的 8080 端口。',
  brctl: '创建一对 veth pair：一端成为容器的 eth0，另一端（vethXXX）加入网桥（即 `brctl show` 看到的内容）。',
  ctrAddr: '容器内有独立的网络栈：eth0 的地址来自网桥的子网……',
  ctrRoute: '……网桥的地址就是它的默认网关。',
  nat: '端口映射是一条 DNAT 规则，出站流量做 MASQUERADE（Docker 中用 `iptables -t nat -vnL` 查看）。',
  fromLab2: '（在 lab2 上）另一台机器通过 lab1 的地址和映射端口访问容器。',
  fromLab1: '主机自己也可以通过 127.0.0.1:8080 访问。',
  ps: '容器及其映射端口，如 `docker ps` 所示……',
  port: '……以及 `docker port` 所示。',
  s1b: '1b. 用户自定义桥接网络',
  netCreate: '自己的网络：一个新网桥、下一个空闲子网，以及一个认识其中容器的 DNS 解析器。',
  netApi: '在其中启动一个服务……',
  netClient: '……另一个容器按名字找到它（解析器只回答本网络的名字）。',
  netIsolated: '默认网桥上的容器无法访问它：网络之间相互隔离。',
  netLs: '本主机的网络。',
  s2: '2. Host 开放式网络模式',
  host: 'host 模式的容器没有独立的 Network Namespace：它看到宿主机的网卡（包括网桥和上行网卡）和主机名。',
  hostName: '宿主机自己的主机名，作对比。',
  bridgeName: '桥接模式的容器有自己的主机名（它的短 ID）。',
  s3: '3. Container 联合挂载式网络模式',
  join: '加入 web 的 Network Namespace 的容器与 web 共享 IP、MAC 和端口，并通过 lo 网卡访问 web 的 httpd。',
  s4: '4. None 封闭式网络模式',
  none: 'none 模式的容器有独立的 Network Namespace，但不做任何配置：只有 lo。',
  island: '原文说需要自己添加网卡。先启动一个持续运行的 none 模式容器……',
  sandbox: '……找到它的 Network Namespace（一个可以交给 ip 和 nsenter 的文件）。',
  vethAdd: '在主机上创建一对 veth pair……',
  vethMove: '……把一端移入容器的 Namespace（iproute2 接受路径）……',
  hostEnd: '……给主机端配置地址并启用……',
  ctrEnd: '……在容器的 Namespace 内配置另一端。',
  islandAddr: '容器现在有了我们给它的网卡。',
  ping: '并且可以通过它访问主机。',
  s5: '5. Overlay 网络模式（跨主机）',
  ovCreate: '两台实验主机的 ctrnetd 使用同一个 etcd（--cluster-store）和各自的 --advertise-addr。Overlay 网络只需创建一次，这里用原文中的 10.0.9.0/24……',
  ovList: '（在 lab2 上）……另一台主机立即就能看到它。',
  ovServer: '在 lab1 的 overlay 网络上启动一个服务……',
  ovPeer: '（在 lab2 上）……在 lab2 上启动一个同一虚拟网络的容器。',
  ovPing: '（在 lab2 上）它按名字访问 lab1 上的容器：数据包封装在 VXLAN（UDP 4789）中，在 10.200.0.2 与 10.200.0.1 之间传输。',
  ovVxlan: 'lab1 上的 VXLAN 设备：VNI、本地地址、UDP 端口 4789、不做地址学习（对端信息来自 etcd）。',
  ovFdb: '它的转发表：lab2 上容器的 MAC → lab2 的地址，由 etcd 下发（无组播，无泛洪）。',
  summary: '总结',
  sumBridge: '  bridge：ctrnet0 加上每个容器一对 veth pair；nftables 对出站流量做 MASQUERADE，对映射端口做 DNAT',
  sumOthers: '  host：宿主机自己的网络栈 | container：另一个容器的网络栈 | none：只有 lo，自己配置',
  sumUser: '  用户自定义网络：各自一个网桥，相互隔离，名字由守护进程解析',
  sumIpv6: '  IPv6：--ipv6 网络另有一个 IPv6 子网（NAT66、[::] 上的端口映射、AAAA 名字解析、邻居发现防伪造）',
  s6: '6. IPv6（双栈网络）',
  v6Create: '用 --ipv6 创建网络：网桥在 IPv4 网关之外还持有 IPv6 网关（fd00:ab::1）。',
  v6Run: '在其上启动服务，把 80 端口映射到 8086：lab1 的所有 IPv4 与 IPv6 地址上都可访问。',
  v6Addr: '容器同时拥有两种地址；只有连接了 IPv6 网络的容器才启用 IPv6。',
  v6Name: '另一个容器按名字找到它：解析器以 AAAA 记录回答其 IPv6 地址。',
  v6FromLab2: '（在 lab2 上）lab2 通过 IPv6 访问它，使用 lab1 的 IPv6 地址（链路为双栈：fd00:200::1 与 ::2）。',
  v6Nft: 'IPv6 规则在单独的表 ip6 ctrnet 中：NAT66（masquerade）与 IPv6 端口映射。',
  v6Guard: '防伪造同样覆盖 IPv6：容器只能以自己的地址发送，也只能为自己的地址应答邻居发现。',
  sumOverlay: '  overlay：每台主机一个网桥和一个 VXLAN 设备，对端（MAC → 主机）由 etcd 下发',
  ok: (n: number, s: string) => `全部 ${n} 步通过，用时 ${s} 秒。`,
  failed: (n: number, s: string) => `${n} 步失败（${s} 秒）：`,
  cleanup: '正在清理实验主机……',
  interrupted: '已中断：正在清理……',
  root: '导览会创建 Network Namespace、网桥和容器：请以 root 运行。',
  sTopo: '拓扑图',
  topo: '整个实验主机，如 `ctrnet topology` 所画：',
  progress: (i: number, n: number) => `[${i}/${n}]`,
  usage: '用法：node dist/scripts/tour.js [--lang en|zh]',
};

const TEXT = { en: EN, zh: ZH };
type Lang = keyof typeof TEXT;
type StepId = { [K in keyof typeof EN]: (typeof EN)[K] extends string ? K : never }[keyof typeof EN];

/** Steps the tour runs when all goes well, for the progress counter (checked at the end). */
const TOTAL_STEPS = 45;

/** argv as a user would type it in a POSIX shell */
const shellWords = (argv: string[]): string => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
const indent = (s: string): string => s.replace(/\s+$/, '').split('\n').map((l) => `    ${l}`).join('\n');

class StepFailed extends Error {}
class Interrupted extends Error {}

let T: typeof EN = EN;
let lab1: LabHost | undefined;
let lab2: LabHost | undefined;
let etcd: LabEtcd | undefined;
let steps = 0;
let interrupted = false;
const failures: string[] = [];

/**
 * One step: explanation (none for a follow-up command), `$ command`, indented output. `check`
 * returns an error text or nothing; a non-zero exit or a failed check ends the section.
 */
async function step(id: StepId | null, where: 'ctrnet' | 'ctrnet@lab2' | LabHost, argv: string[], check?: (out: string) => string | undefined): Promise<string> {
  if (interrupted) throw new Interrupted();
  steps++;
  console.log(`${id ? `\n${T.progress(steps, TOTAL_STEPS)} ${T[id]}\n` : ''}$ ${typeof where === 'string' ? 'ctrnet ' : ''}${shellWords(argv)}`);
  const r: Result =
    where === 'ctrnet' ? await lab1!.cli(argv, { timeoutMs: 30_000 }) : where === 'ctrnet@lab2' ? await lab2!.cli(argv, { timeoutMs: 30_000 }) : await where.exec(argv, { timeoutMs: 30_000 });
  const text = r.stdout + (r.stderr.trim() ? (r.stdout && !r.stdout.endsWith('\n') ? '\n' : '') + r.stderr : '');
  if (text.trim()) console.log(indent(text));
  const problem = r.code !== 0 ? `exited ${r.code}` : check?.(r.stdout);
  if (interrupted) throw new Interrupted();
  if (problem) {
    failures.push(`${id ?? 'step'}: ${typeof where === 'string' ? 'ctrnet ' : ''}${shellWords(argv)}: ${problem}`);
    console.log(`    !! ${problem}`);
    throw new StepFailed(problem);
  }
  return r.stdout;
}

const needs = (...words: string[]) => (out: string) => {
  const missing = words.filter((w) => !out.includes(w));
  return missing.length ? `expected ${missing.map((w) => JSON.stringify(w)).join(', ')} in the output` : undefined;
};

async function section(title: string, body: () => Promise<void>): Promise<void> {
  if (interrupted) throw new Interrupted();
  console.log(`\n== ${title} ==`);
  try {
    await body();
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
  }
}

/** web's eth0 as the bridge section saw it, for comparison in the join section */
let webAddr = '';

async function bridgeMode(): Promise<void> {
  await step('bridgeAddr', lab1!, ['ip', 'addr', 'show', 'ctrnet0'], needs('172.17.0.1/16'));
  await step('run', 'ctrnet', ['run', '-d', '--name', 'web', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  await step('brctl', lab1!, ['ip', 'link', 'show', 'master', 'ctrnet0'], needs('veth', 'master ctrnet0'));
  webAddr = await step('ctrAddr', 'ctrnet', ['exec', 'web', 'ip', 'addr'], needs('eth0', 'inet 172.17.0.2/16'));
  await step('ctrRoute', 'ctrnet', ['exec', 'web', 'ip', 'route'], needs('default via 172.17.0.1'));
  await step('nat', lab1!, ['nft', 'list', 'table', 'ip', 'ctrnet'], (o) => needs('172.17.0.0/16', 'masquerade')(o) ?? (/tcp \. 8080 (counter packets \d+ bytes \d+ )?: 172\.17\.0\.2 \. 80/.test(o) ? undefined : 'no DNAT element for 8080'));
  await step('fromLab2', lab2!, ['timeout', '5', 'busybox', 'wget', '-qO-', 'http://10.200.0.1:8080/'], needs('It works'));
  await step('fromLab1', lab1!, ['timeout', '5', 'busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/'], needs('It works'));
  await step('ps', 'ctrnet', ['ps'], needs('web', '0.0.0.0:8080->80/tcp'));
  await step('port', 'ctrnet', ['port', 'web'], needs('80/tcp -> 0.0.0.0:8080'));
}

async function hostMode(): Promise<void> {
  const out = await step('host', 'ctrnet', ['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ip link; hostname'], (o) =>
    needs('ctrnet0')(o) ?? (/: up\d+[@:]/.test(o) ? undefined : 'no uplink (upN) in the output'),
  );
  const ctrName = out.trim().split('\n').pop();
  const name = (await step('hostName', lab1!, ['hostname'], (o) => (o.trim() === ctrName ? undefined : `differs from the container's ${ctrName}`))).trim();
  await step('bridgeName', 'ctrnet', ['run', '--rm', 'busybox', 'hostname'], (o) => (o.trim() === name ? 'same as the host' : undefined));
}

async function joinMode(): Promise<void> {
  const mac = /eth0[^]*?link\/ether (\S+)/.exec(webAddr)?.[1] ?? 'link/ether';
  await step('join', 'ctrnet', ['run', '--rm', '--network', 'container:web', 'busybox', 'sh', '-c', 'ip addr show eth0; wget -qO- http://127.0.0.1:80/'], needs('inet 172.17.0.2/16', mac, 'It works'));
}

async function noneMode(): Promise<void> {
  await step('none', 'ctrnet', ['run', '--rm', '--network', 'none', 'busybox', 'ip', 'addr'], (o) => (o.includes('eth0') ? 'eth0 in a none container' : needs('lo:')(o)));
  await step('island', 'ctrnet', ['run', '-d', '--name', 'island', '--network', 'none', 'busybox', 'sleep', '300']);
  const key = (await step('sandbox', 'ctrnet', ['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'island'], (o) => (o.startsWith('/') ? undefined : 'no path'))).trim();
  await step('vethAdd', lab1!, ['ip', 'link', 'add', 'tourA', 'type', 'veth', 'peer', 'name', 'tourB']);
  await step('vethMove', lab1!, ['ip', 'link', 'set', 'tourB', 'netns', key]);
  await step('hostEnd', lab1!, ['ip', 'addr', 'add', '10.201.0.1/30', 'dev', 'tourA']);
  await step(null, lab1!, ['ip', 'link', 'set', 'tourA', 'up']);
  await step('ctrEnd', lab1!, ['nsenter', `--net=${key}`, 'ip', 'addr', 'add', '10.201.0.2/30', 'dev', 'tourB']);
  await step(null, lab1!, ['nsenter', `--net=${key}`, 'ip', 'link', 'set', 'tourB', 'up']);
  await step('islandAddr', 'ctrnet', ['exec', 'island', 'ip', 'addr'], needs('tourB', 'inet 10.201.0.2/30'));
  await step('ping', 'ctrnet', ['exec', 'island', 'ping', '-c1', '-W2', '10.201.0.1'], needs('1 packets received'));
}

async function userNetworks(): Promise<void> {
  await step('netCreate', 'ctrnet', ['network', 'create', 'shop'], (o) => (/^[0-9a-f]{64}$/.test(o.trim()) ? undefined : 'no network id'));
  await step('netApi', 'ctrnet', ['run', '-d', '--name', 'api', '--network', 'shop', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  await step('netClient', 'ctrnet', ['run', '--rm', '--network', 'shop', 'busybox', 'sh', '-c', 'nslookup api; wget -qO- http://api/'], needs('Address: 172.18.0.2', 'It works'));
  await step('netIsolated', 'ctrnet', ['run', '--rm', 'busybox', 'sh', '-c', 'ping -c1 -W1 172.18.0.2 || echo unreachable'], needs('unreachable'));
  await step('netLs', 'ctrnet', ['network', 'ls'], needs('bridge', 'host', 'none', 'shop'));
}

async function overlay(): Promise<void> {
  await step('ovCreate', 'ctrnet', ['network', 'create', '-d', 'overlay', '--subnet', '10.0.9.0/24', 'ov1']);
  await step('ovList', 'ctrnet@lab2', ['network', 'ls'], needs('ov1', 'overlay', 'swarm'));
  await step('ovServer', 'ctrnet', ['run', '-d', '--name', 'web9', '--network', 'ov1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  await step('ovPeer', 'ctrnet@lab2', ['run', '-d', '--name', 'peer9', '--network', 'ov1', 'busybox', 'sleep', '300']);
  await step('ovPing', 'ctrnet@lab2', ['exec', 'peer9', 'sh', '-c', 'ip addr show eth0; ping -c2 web9; wget -qO- http://web9/'], needs('10.0.9.', '2 packets received', 'It works'));
  const vx = await step('ovVxlan', lab1!, ['ip', '-d', 'link', 'show', 'type', 'vxlan'], needs('vxlan id', 'local 10.200.0.1', 'dstport 4789', 'nolearning'));
  const dev = /\d+: (vx-[0-9a-f]+)/.exec(vx)?.[1] ?? 'vx-';
  await step('ovFdb', lab1!, ['bridge', 'fdb', 'show', 'dev', dev], needs('dst 10.200.0.2'));
}

async function ipv6(): Promise<void> {
  await step('v6Create', 'ctrnet', ['network', 'create', '--ipv6', '--subnet', 'fd00:ab::/64', 'shop6'], (o) => (/^[0-9a-f]{64}$/.test(o.trim()) ? undefined : 'no network id'));
  await step('v6Run', 'ctrnet', ['run', '-d', '--name', 'api6', '--network', 'shop6', '-p', '8086:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  await step('v6Addr', 'ctrnet', ['exec', 'api6', 'ip', 'addr', 'show', 'eth0'], needs('inet 172.', 'inet6 fd00:ab::2/64'));
  await step('v6Name', 'ctrnet', ['run', '--rm', '--network', 'shop6', 'busybox', 'sh', '-c', 'nslookup -type=aaaa api6; ping -6 -c1 api6'], needs('Address: fd00:ab::2', '1 packets received'));
  await step('v6FromLab2', lab2!, ['timeout', '5', 'busybox', 'wget', '-qO-', 'http://[fd00:200::1]:8086/'], needs('It works'));
  await step('v6Nft', lab1!, ['nft', 'list', 'table', 'ip6', 'ctrnet'], needs('ip6 saddr fd00:ab::/64', 'masquerade', ': fd00:ab::2 . 80'));
  await step('v6Guard', lab1!, ['nft', 'list', 'chain', 'bridge', 'ctrnet', 'prerouting'], needs('spoofed IPv6 source address', 'spoofed neighbour advertisement'));
}

/** The picture of lab1 at the end (before cleanup): everything the tour built. */
async function topology(): Promise<void> {
  await step('topo', 'ctrnet', ['topology'], needs('ctrnet0', 'web'));
}

async function cleanup(): Promise<void> {
  console.log(`\n${T.cleanup}`);
  for (const h of [lab1, lab2]) {
    if (h) await h.destroy().catch((e: unknown) => console.error(`cleanup ${h.ns}: ${String(e)}`));
  }
  await etcd?.stop();
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--lang');
  const lang = i >= 0 ? argv[i + 1] : 'en';
  if (!(lang in TEXT) || argv.some((a, j) => a !== '--lang' && j !== i + 1)) {
    console.error(TEXT.en.usage);
    return 2;
  }
  T = TEXT[lang as Lang];
  if (process.getuid?.() !== 0) {
    console.error(T.root);
    return 1;
  }
  // Stop after the running command (Ctrl-C reaches it too) and clean up in the finally below.
  const interrupt = () => {
    if (!interrupted) console.log(`\n${T.interrupted}`);
    interrupted = true;
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  const started = Date.now();
  console.log(`${T.title}\n\n${T.setup}`);
  try {
    lab1 = await LabHost.create('lab1');
    lab2 = await LabHost.create('lab2');
    await linkHosts(lab1, lab2, '10.200.0.1', '10.200.0.2', 1500, { a: 'fd00:200::1', b: 'fd00:200::2' });
    // etcd for the overlay section lives on lab2; both daemons use it.
    etcd = new LabEtcd(lab2, '10.200.0.2');
    await etcd.start();
    if (!interrupted) await lab1.startDaemon(['--cluster-store', etcd.url, '--advertise-addr', '10.200.0.1']);
    if (!interrupted) await lab2.startDaemon(['--cluster-store', etcd.url, '--advertise-addr', '10.200.0.2']);
    if (interrupted) throw new Interrupted();
    console.log(T.lab);
    await section(T.s1, bridgeMode);
    await section(T.s1b, userNetworks);
    await section(T.s2, hostMode);
    await section(T.s3, joinMode);
    await section(T.s4, noneMode);
    await section(T.s5, overlay);
    await section(T.s6, ipv6);
    await section(T.sTopo, topology);
  } catch (e) {
    if (!interrupted) failures.push(`aborted: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await cleanup();
  }
  if (interrupted) return 130;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n== ${T.summary} ==`);
  console.log(`${T.sumBridge}\n${T.sumOthers}\n${T.sumUser}\n${T.sumOverlay}\n${T.sumIpv6}`);
  if (!failures.length && steps !== TOTAL_STEPS) failures.push(`the tour ran ${steps} steps, TOTAL_STEPS says ${TOTAL_STEPS}: update it`);
  console.log(failures.length ? `${T.failed(failures.length, secs)}\n${failures.map((f) => `  - ${f}`).join('\n')}` : T.ok(steps, secs));
  return failures.length ? 1 : 0;
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
