/**
 * ctrnetd's flags: dockerd-like options parsed into DaemonOptions, with an error naming the flag
 * and the fix for each bad value.
 */
import path from 'node:path';
import { AddressPool, parsePool } from '../ipam/pools';
import { Upstream } from '../dns/resolver';
import { parseUiAddr } from '../ui/server';
import { isIP, isIPv6 } from '../base/ip';

export interface DaemonOptions {
  root: string;
  execRoot: string;
  socket: string;
  bridge: string;
  bip: string;
  mtu?: number;
  pools: AddressPool[];
  /** name servers the embedded resolver forwards to; empty: those of /etc/resolv.conf */
  dnsUpstreams: Upstream[];
  /** etcd://HOST:PORT, for overlay networks */
  clusterStore?: string;
  advertiseAddr?: string;
  /** seconds before a dead host's keys vanish from the cluster store */
  clusterTtl: number;
  /** IP:PORT of the web UI (--ui); no web UI without it */
  ui?: string;
  /** registries reached over plain HTTP or unverified TLS: HOST[:PORT] or CIDR (--insecure-registry) */
  insecureRegistries: string[];
  /** mirrors of Docker Hub, tried in order before it (--registry-mirror) */
  registryMirrors: string[];
  /** the Docker network + IPAM plugin's socket (--docker-plugin), e.g. /run/docker/plugins/ctrnet.sock */
  dockerPlugin?: string;
  /** --ipv6: IPv6 on the default bridge, with --fixed-cidr-v6 (and --default-gateway-v6) */
  ipv6?: boolean;
  fixedCidrV6?: string;
  defaultGatewayV6?: string;
}

const USAGE = `Usage: ctrnetd [OPTIONS]

A container network engine: runs containers with runc and wires them like Docker.

Options:
      --root DIR          state and images (default /var/lib/ctrnet)
      --exec-root DIR     runtime files and network namespaces (default /run/ctrnet)
  -H, --host unix:///P    API socket (default unix:///run/ctrnet/ctrnet.sock)
      --bridge NAME       default bridge (default ctrnet0)
      --bip CIDR          default bridge address (default 172.17.0.1/16)
      --mtu N             container MTU (default: the MTU of the default-route interface)
      --default-address-pool base=CIDR,size=N
                          pools for new networks (repeatable; default 172.17-31.0.0/16, then 192.168.0.0/16 in /20s;
                          IPv6 bases too, e.g. base=fd00:1::/48,size=64; default for IPv6: a ULA /48 of this daemon's)
      --ipv6              IPv6 on the default bridge (needs --fixed-cidr-v6)
      --fixed-cidr-v6 CIDR
                          the default bridge's IPv6 subnet, e.g. fd00:17::/64
      --default-gateway-v6 IP
                          its IPv6 gateway (default: the subnet's first address)
      --dns-upstream IP[:PORT]|[IPv6]:PORT
                          where the embedded resolver forwards other names (repeatable; default: /etc/resolv.conf)
      --cluster-store etcd://HOST:PORT
                          the etcd cluster shared by the hosts of overlay networks
      --advertise-addr IP this host's address for VXLAN traffic, IPv4 or IPv6 (needed with --cluster-store)
      --cluster-lease-ttl N
                          seconds before a dead host's endpoints vanish from the others (default 8; an etcd
                          outage longer than that also drops live hosts' endpoints until they republish)
      --ui IP:PORT        serve the live topology page there, e.g. 127.0.0.1:7777 (default: no web UI)
      --insecure-registry HOST[:PORT]|CIDR
                          a registry reached over plain HTTP or TLS without verification (repeatable;
                          127.0.0.0/8 and localhost always are)
      --registry-mirror URL
                          a mirror of Docker Hub, tried before it for docker.io images (repeatable)
      --docker-plugin PATH
                          serve Docker's network and IPAM plugin APIs on this socket, e.g.
                          /run/docker/plugins/ctrnet.sock (the driver's name is its basename: -d ctrnet)
`;

/** Paths under the roots reach the kernel helper as space-separated tokens (and runc, overlay options). */
function noSpace(flag: string, dir: string): string {
  if (/[\s,:]/.test(dir)) throw new Error(`${flag} ${dir}: the directory must not contain white space, commas or colons; choose another`);
  return dir;
}

export function parseFlags(argv: string[]): DaemonOptions {
  const o: DaemonOptions = { root: '/var/lib/ctrnet', execRoot: '/run/ctrnet', socket: '/run/ctrnet/ctrnet.sock', bridge: 'ctrnet0', bip: '172.17.0.1/16', pools: [], dnsUpstreams: [], clusterTtl: 8, insecureRegistries: [], registryMirrors: [] };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`flag ${flag} needs a value\n\n${USAGE}`);
      return argv[++i];
    };
    switch (flag) {
      case '--root': o.root = noSpace('--root', path.resolve(next())); break;
      case '--exec-root': o.execRoot = noSpace('--exec-root', path.resolve(next())); break;
      case '-H': case '--host': {
        const h = next();
        if (!h.startsWith('unix://')) throw new Error(`-H ${h}: only unix:///PATH sockets are supported`);
        o.socket = h.slice('unix://'.length);
        break;
      }
      case '--bridge': {
        o.bridge = next();
        if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(o.bridge)) throw new Error(`--bridge ${o.bridge}: use 1 to 15 letters, digits, "_", "." or "-"`);
        break;
      }
      case '--bip': o.bip = next(); break;
      case '--mtu': {
        const v = next();
        o.mtu = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(o.mtu >= 576 && o.mtu <= 65535)) throw new Error(`--mtu ${v}: give a number from 576 to 65535`);
        break;
      }
      case '--default-address-pool': o.pools.push(parsePool(next())); break;
      case '--dns-upstream': {
        const v = next();
        const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(v) ?? /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(v) ?? /^([0-9a-fA-F:.]+)()$/.exec(v);
        if (!m || !isIP(m[1])) throw new Error(`--dns-upstream ${v}: give IP, IP:PORT or [IPv6]:PORT`);
        o.dnsUpstreams.push({ host: m[1].toLowerCase(), port: m[2] ? Number(m[2]) : 53 });
        break;
      }
      case '--ipv6': o.ipv6 = value === undefined ? true : value !== 'false'; break;
      case '--fixed-cidr-v6': {
        const v = next();
        if (!/^[0-9a-fA-F:]+\/\d{1,3}$/.test(v) || !isIPv6(v.split('/')[0]) || Number(v.split('/')[1]) > 126) throw new Error(`--fixed-cidr-v6 ${v}: give an IPv6 subnet, e.g. fd00:17::/64`);
        o.fixedCidrV6 = v;
        break;
      }
      case '--default-gateway-v6': {
        const v = next();
        if (!isIPv6(v)) throw new Error(`--default-gateway-v6 ${v}: give an IPv6 address`);
        o.defaultGatewayV6 = v;
        break;
      }
      case '--cluster-store': {
        const v = next();
        if (!/^etcd:\/\/[^/]+:\d+$/.test(v)) throw new Error(`--cluster-store ${v}: write it as etcd://HOST:PORT`);
        o.clusterStore = v;
        break;
      }
      case '--advertise-addr': {
        const v = next();
        if (!isIP(v)) throw new Error(`--advertise-addr ${v}: give this host's IPv4 or IPv6 address`);
        o.advertiseAddr = v.toLowerCase();
        break;
      }
      case '--cluster-lease-ttl': {
        const v = next();
        o.clusterTtl = Number(v);
        if (!Number.isInteger(o.clusterTtl) || o.clusterTtl < 2) throw new Error(`--cluster-lease-ttl ${v}: give whole seconds, at least 2`);
        break;
      }
      case '--ui': {
        const v = next();
        parseUiAddr(v);
        o.ui = v;
        break;
      }
      case '--insecure-registry': {
        const v = next();
        if (!/^[a-zA-Z0-9.-]+(:\d{1,5})?$/.test(v) && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(v)) throw new Error(`--insecure-registry ${v}: give HOST[:PORT] or an IPv4 CIDR (no scheme)`);
        o.insecureRegistries.push(v);
        break;
      }
      case '--registry-mirror': {
        const v = next();
        let u: URL | undefined;
        try {
          u = new URL(v);
        } catch {
          u = undefined;
        }
        if (!u || !/^https?:$/.test(u.protocol) || (u.pathname !== '/' && u.pathname !== '')) throw new Error(`--registry-mirror ${v}: give http(s)://HOST[:PORT]`);
        o.registryMirrors.push(u.origin);
        break;
      }
      case '--docker-plugin': {
        const v = next();
        if (!v.startsWith('/') || !v.endsWith('.sock')) throw new Error(`--docker-plugin ${v}: give the socket's absolute path, ending in .sock (e.g. /run/docker/plugins/ctrnet.sock)`);
        o.dockerPlugin = v;
        break;
      }
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); // eslint-disable-line no-fallthrough
      default: throw new Error(`unknown flag ${flag}\n\n${USAGE}`);
    }
    value = undefined;
  }
  if (o.clusterStore && !o.advertiseAddr) throw new Error('--cluster-store needs --advertise-addr IP (this host\'s address that the other hosts reach)');
  if (o.advertiseAddr && !o.clusterStore) throw new Error('--advertise-addr goes with --cluster-store etcd://HOST:PORT');
  if (o.ipv6 && !o.fixedCidrV6) throw new Error('--ipv6 needs --fixed-cidr-v6 CIDR (the default bridge\'s IPv6 subnet, e.g. fd00:17::/64)');
  if ((o.fixedCidrV6 || o.defaultGatewayV6) && !o.ipv6) throw new Error('--fixed-cidr-v6 and --default-gateway-v6 go with --ipv6');
  return o;
}

