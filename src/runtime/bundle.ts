/**
 * OCI bundles for runc: config.json (namespaces, mounts, process) and the per-container files Docker
 * bind-mounts into every container (/etc/hosts, /etc/hostname, /etc/resolv.conf).
 * The network namespace is never made here: the caller passes the path of the sandbox it made,
 * the path of another container's sandbox (container mode), or "host". The PID, UTS and IPC
 * namespaces are the container's own unless shared (--pid, --uts, --ipc): "host", or another
 * container's by the path of its namespace file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { INIT_PATH, MASKED_PATHS, READONLY_PATHS } from '../base/container-defaults';
import { mountOrder } from '../base/mount-spec';
import { DEFAULT_SHM_SIZE, Resources } from '../base/resources';
import { cgroupPath, ociResources, ociRlimits } from './cgroups';

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  tty: boolean;
  /** Docker's user (name|uid[:group|gid]), resolved by the runtime against the container's /etc/passwd and /etc/group; empty: root */
  user?: string;
  /** the terminal's size at start (rows, columns), with a TTY */
  consoleSize?: [number, number];
}

/** A process's ids as runc takes them. */
export interface ProcessIds {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** A namespace shared instead of made: the host's, or the one whose file is at this path (/proc/PID/ns/…). */
export type SharedNamespace = 'host' | { path: string };

export interface BundleSpec {
  id: string;
  rootfs: string;
  hostname: string;
  process: ProcessSpec;
  /** netns path, or "host" to share the daemon's namespace (and, as Docker does, its hostname) */
  netns: string;
  /** lines of /etc/hosts after localhost */
  hosts: string[];
  resolvConf: string;
  /** kernel settings of the container's namespaces (--sysctl) */
  sysctls?: Record<string, string>;
  /** the UTS namespace's domain name (--domainname) */
  domainname?: string;
  /** the network namespace has IPv6 networks: IPv6 stays on (it is off otherwise) */
  ipv6?: boolean;
  /** volumes, bind mounts and tmpfs mounts, with host paths settled (core/containers/storage.ts) */
  mounts?: BundleMount[];
  /** --read-only */
  readonlyRootfs?: boolean;
  /** cgroup limits, rlimits and the size of /dev/shm */
  resources?: Resources;
  /** where hosts, hostname and resolv.conf are written (they outlive the bundle, as Docker's do) */
  etcDir?: string;
  pid?: SharedNamespace;
  /** "host": the host's hostname (also implied by the host network) */
  uts?: 'host';
  ipc?: SharedNamespace;
  /**
   * /dev/shm: absent, a tmpfs of its own; "none", not mounted; "shareable", a tmpfs on the host
   * (the runtime mounts it) that others may join; or a host directory to bind (a joined IPC)
   */
  shm?: 'none' | 'shareable' | string;
  /** --init: a static init (tini) runs as PID 1, with the process as its child */
  init?: boolean;
  /** the OCI bundle's annotations (HostConfig.Annotations) */
  annotations?: Record<string, string>;
}

/** One mount inside the container: a bind of a host path (volumes are binds of their data) or a tmpfs. */
export interface BundleMount {
  type: 'bind' | 'tmpfs';
  /** bind: the host path */
  source: string;
  target: string;
  readOnly: boolean;
  /** bind: rprivate unless asked */
  propagation?: string;
  /** tmpfs: data such as size=64m,mode=1777 */
  tmpfsOptions?: string;
}

/** OCI mounts of a container's own mounts: bind (rbind, propagation, ro) and tmpfs (nosuid, nodev, noexec unless asked). */
function userMounts(ms: readonly BundleMount[]): object[] {
  return mountOrder(ms).map((m) =>
    m.type === 'bind'
      ? { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.propagation || 'rprivate', m.readOnly ? 'ro' : 'rw'] }
      : { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.tmpfsOptions ? m.tmpfsOptions.split(',') : [])] },
  );
}

const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Debian's static tini (package tini), the binary Docker ships as docker-init. */
export const TINI = '/usr/bin/tini-static';

export function processJson(p: ProcessSpec, ids: ProcessIds = { uid: 0, gid: 0, additionalGids: [] }): object {
  return {
    terminal: p.tty,
    ...(p.tty && p.consoleSize ? { consoleSize: { height: p.consoleSize[0], width: p.consoleSize[1] } } : {}),
    user: { uid: ids.uid, gid: ids.gid, ...(ids.additionalGids.length ? { additionalGids: ids.additionalGids } : {}) },
    args: p.args,
    env: p.env,
    cwd: p.cwd,
    capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    noNewPrivileges: false,
  };
}

/** A namespace entry of config.json: a new one, a shared one by path, or none (the host's). */
function namespace(type: string, shared: SharedNamespace | undefined): { type: string; path?: string }[] {
  if (shared === 'host') return [];
  return [shared ? { type, path: shared.path } : { type }];
}

/** `initBinary`: the host's static init, bind-mounted at INIT_PATH when the bundle asks for one. */
export function configJson(b: BundleSpec, dir: string, ids?: ProcessIds, initBinary = TINI): object {
  const hostNet = b.netns === 'host';
  const hostUts = hostNet || b.uts === 'host';
  const namespaces = [...namespace('pid', b.pid), ...namespace('ipc', b.ipc), { type: 'mount' }];
  if (!hostUts) namespaces.push({ type: 'uts' });
  if (!hostNet) namespaces.push({ type: 'network', path: b.netns });
  const bind = (src: string, dst: string, ro = false) => ({ destination: dst, type: 'bind', source: src, options: ['rbind', 'rprivate', ro ? 'ro' : 'rw'] });
  const etc = b.etcDir ?? dir;
  const own = b.mounts ?? [];
  // A user's mount on /etc/hosts (or the others) replaces the daemon's file there, as in Docker.
  const ownTargets = new Set(own.map((m) => m.target));
  const shmSize = b.resources?.shmSize || DEFAULT_SHM_SIZE;
  const shm = b.shm === 'none' || ownTargets.has('/dev/shm') ? [] : b.shm ? [bind(b.shm, '/dev/shm')] : [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.ceil(shmSize / 1024)}k`] }];
  const proc = b.init ? { ...b.process, args: [INIT_PATH, '--', ...b.process.args] } : b.process;
  return {
    ociVersion: '1.0.2',
    ...(b.annotations ? { annotations: b.annotations } : {}),
    process: { ...processJson(proc, ids), ...(b.resources?.ulimits.length ? { rlimits: ociRlimits(b.resources.ulimits) } : {}) },
    root: { path: b.rootfs, readonly: b.readonlyRootfs === true },
    hostname: hostUts ? undefined : b.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      ...shm,
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // sysfs shows the network devices of the namespace that mounts it; in host mode it is the host's.
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      // The container's own cgroup, read-only (as Docker): a process sees its limits there.
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      ...(['hosts', 'hostname', 'resolv.conf'] as const).filter((f) => !ownTargets.has(`/etc/${f}`)).map((f) => bind(`${etc}/${f}`, `/etc/${f}`)),
      ...(b.init ? [bind(initBinary, INIT_PATH, true)] : []),
      ...userMounts(own),
    ],
    linux: {
      namespaces,
      cgroupsPath: cgroupPath(b.id),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      resources: { devices: [{ allow: false, access: 'rwm' }], ...(b.resources ? ociResources(b.resources) : {}) },
      // IPv4-only networks: no IPv6 addresses or router solicitations in the container's namespace
      // (as Docker does). Never in host mode, where these would be the host's settings.
      // The domain name through its sysctl (kernel.domainname lives in the UTS namespace), as Docker
      // does: runc 1.1 ignores the spec's domainname field.
      // With IPv6 networks the sandbox set IPv6 up already (quietly): "all" would turn it off everywhere.
      sysctl: hostNet ? b.sysctls : { ...(b.ipv6 ? {} : { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' }), ...(b.domainname && !hostUts ? { 'kernel.domainname': b.domainname } : {}), ...b.sysctls },
    },
  };
}

/** Writes config.json into `dir` and the /etc files into the bundle's etcDir (`dir` without one). */
export async function writeBundle(dir: string, b: BundleSpec, hostHostname: string, ids?: ProcessIds): Promise<void> {
  await mkdir(dir, { recursive: true });
  const etc = b.etcDir ?? dir;
  await mkdir(etc, { recursive: true });
  const hostname = b.netns === 'host' || b.uts === 'host' ? hostHostname : b.hostname;
  await writeFile(`${etc}/hosts`, ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...b.hosts, ''].join('\n'));
  await writeFile(`${etc}/hostname`, `${hostname}\n`);
  await writeFile(`${etc}/resolv.conf`, b.resolvConf);
  await writeFile(`${dir}/config.json`, JSON.stringify(configJson(b, dir, ids), null, 1));
}
