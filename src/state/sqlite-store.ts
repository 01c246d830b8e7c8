/**
 * The state store on SQLite: the desired state and the source of truth; the kernel is derived
 * from it (daemon/reconcile.ts). It implements the repositories of state/repos.ts: typed records
 * in and out, JSON text (specs, options, labels, aliases) and 0|1 flags exist only here. Schema
 * changes are numbered migrations. better-sqlite3 is synchronous, so each method is atomic with
 * respect to the event loop; decisions taken from the records run in an immediate transaction.
 */
import Database from 'better-sqlite3';
import { EngineError } from '../base/errors';
import { Attachment, AttachmentKind } from '../base/attachment';
import { Container, ContainerStatus, Endpoint, Network, PublishedPort, Volume } from '../base/model';
import { Proto } from '../base/port-spec';
import { addressesOf, AttachmentRepo, ContainerFields, LocalClusterRepo, SwarmRepo, ContainerRepo, EndpointDraft, EndpointRepo, ImageRepo, NetworkRepo, PluginNetwork, PluginNetworkRepo, PortRepo, Repos, VolumeRepo } from './repos';
import { sqliteImageRepo } from './sqlite-image-repo';
import { sqliteLocalClusterRepo, sqliteSwarmRepo } from './sqlite-swarm-repos';

const MIGRATIONS: string[] = [
  `CREATE TABLE networks (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,
     subnet TEXT, gateway TEXT, ip_range TEXT, bridge TEXT,
     internal INTEGER NOT NULL DEFAULT 0, options TEXT NOT NULL DEFAULT '{}', labels TEXT NOT NULL DEFAULT '{}',
     created TEXT NOT NULL);
   CREATE TABLE containers (
     id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL, image TEXT NOT NULL,
     spec TEXT NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL DEFAULT 0,
     exit_code INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
     created TEXT NOT NULL, started_at TEXT, finished_at TEXT);
   CREATE TABLE endpoints (
     id TEXT PRIMARY KEY, container_id TEXT NOT NULL, network_id TEXT NOT NULL,
     if_name TEXT NOT NULL, host_if TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL, mac TEXT NOT NULL,
     aliases TEXT NOT NULL DEFAULT '[]',
     UNIQUE (network_id, ip), UNIQUE (container_id, network_id));
   CREATE TABLE ports (
     container_id TEXT NOT NULL, proto TEXT NOT NULL, host_ip TEXT NOT NULL, host_port INTEGER NOT NULL,
     container_ip TEXT NOT NULL, container_port INTEGER NOT NULL,
     PRIMARY KEY (proto, host_ip, host_port));
   CREATE TABLE images (id TEXT PRIMARY KEY, created TEXT NOT NULL, size INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '');
   CREATE TABLE tags (tag TEXT PRIMARY KEY, image_id TEXT NOT NULL);`,
  // A container's ports (ps, inspect, teardown) and the ports on one host port (collision checks)
  // without scanning every published port.
  `CREATE INDEX ports_by_container ON ports (container_id);
   CREATE INDEX ports_by_port ON ports (proto, host_port);`,
  // Networks: IPAM's auxiliary addresses and options (JSON); a link the driver made for the network (macvlan's parent).
  `ALTER TABLE networks ADD COLUMN ipam TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE networks ADD COLUMN created_link TEXT;`,
  // Images from registries and archives (issue 17): layers shared by digest, the blobs kept for
  // them, the manifests images came by, an image's parent.
  `CREATE TABLE layers (diff_id TEXT PRIMARY KEY, size INTEGER NOT NULL, tar_size INTEGER NOT NULL, created TEXT NOT NULL);
   CREATE TABLE layer_blobs (digest TEXT PRIMARY KEY, diff_id TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL);
   CREATE INDEX layer_blobs_by_layer ON layer_blobs (diff_id);
   CREATE TABLE image_digests (repo TEXT NOT NULL, digest TEXT NOT NULL, image_id TEXT NOT NULL, media_type TEXT NOT NULL DEFAULT '', PRIMARY KEY (repo, digest));
   ALTER TABLE images ADD COLUMN parent TEXT NOT NULL DEFAULT '';`,
  // Volumes; a container's restart count, manual stop, OOM kill, health and last addresses.
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY, driver TEXT NOT NULL, options TEXT, labels TEXT,
     anonymous INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
   ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE containers ADD COLUMN health TEXT;
   ALTER TABLE containers ADD COLUMN last_addresses TEXT;`,
  // Sandboxes of other runtimes attached through the CNI and Docker plugins (issue 19), and the
  // Docker networks of the Docker plugin.
  `CREATE TABLE attachments (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL, scope TEXT NOT NULL, if_name TEXT NOT NULL,
     name TEXT NOT NULL, aliases TEXT NOT NULL DEFAULT '[]', netns TEXT NOT NULL, network_id TEXT NOT NULL,
     ipam_lease INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
   CREATE INDEX attachments_by_key ON attachments (kind, ref, scope, if_name);
   CREATE TABLE plugin_networks (
     docker_id TEXT PRIMARY KEY, network TEXT NOT NULL, type TEXT NOT NULL, subnet TEXT NOT NULL,
     gateway TEXT NOT NULL, made INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);`,
  // IPv6 (issue 18, migration 7): a network's IPv6 subnet, gateway and range, and whether it has IPv4; an
  // endpoint's IPv6 address, and no IPv4 one on an IPv6-only network (ip NULL: the table is
  // rebuilt, SQLite cannot drop a NOT NULL; NULLs never collide in UNIQUE).
  `ALTER TABLE networks ADD COLUMN subnet6 TEXT;
   ALTER TABLE networks ADD COLUMN gateway6 TEXT;
   ALTER TABLE networks ADD COLUMN ip_range6 TEXT;
   ALTER TABLE networks ADD COLUMN ipv4 INTEGER NOT NULL DEFAULT 1;
   CREATE TABLE endpoints_v6 (
     id TEXT PRIMARY KEY, container_id TEXT NOT NULL, network_id TEXT NOT NULL,
     if_name TEXT NOT NULL, host_if TEXT NOT NULL DEFAULT '', ip TEXT, mac TEXT NOT NULL,
     aliases TEXT NOT NULL DEFAULT '[]', ip6 TEXT,
     UNIQUE (network_id, ip), UNIQUE (network_id, ip6), UNIQUE (container_id, network_id));
   INSERT INTO endpoints_v6 (id, container_id, network_id, if_name, host_if, ip, mac, aliases)
     SELECT id, container_id, network_id, if_name, host_if, ip, mac, aliases FROM endpoints;
   DROP TABLE endpoints;
   ALTER TABLE endpoints_v6 RENAME TO endpoints;`,
  // A paused container (docker pause, issue 16, migration 8): its processes are frozen; it stays running.
  `ALTER TABLE containers ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;`,
  // Duplicate network names (issue 16, migration 9): API < 1.44 without CheckDuplicate makes a
  // second network of a name (Docker 20.10 does). SQLite cannot drop a UNIQUE: the table is rebuilt
  // with every other column, default and the primary key as they were; no other table references
  // it by a foreign key (endpoints, attachments hold the id as text). Names are looked up by an index.
  `CREATE TABLE networks_v9 (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, driver TEXT NOT NULL,
     subnet TEXT, gateway TEXT, ip_range TEXT, bridge TEXT,
     internal INTEGER NOT NULL DEFAULT 0, options TEXT NOT NULL DEFAULT '{}', labels TEXT NOT NULL DEFAULT '{}',
     created TEXT NOT NULL, ipam TEXT NOT NULL DEFAULT '{}', created_link TEXT,
     subnet6 TEXT, gateway6 TEXT, ip_range6 TEXT, ipv4 INTEGER NOT NULL DEFAULT 1);
   INSERT INTO networks_v9 (id, name, driver, subnet, gateway, ip_range, bridge, internal, options, labels, created, ipam, created_link, subnet6, gateway6, ip_range6, ipv4)
     SELECT id, name, driver, subnet, gateway, ip_range, bridge, internal, options, labels, created, ipam, created_link, subnet6, gateway6, ip_range6, ipv4 FROM networks;
   DROP TABLE networks;
   ALTER TABLE networks_v9 RENAME TO networks;
   CREATE INDEX networks_by_name ON networks (name);`,
  // A one-node swarm (issue 16, migration 10): its record (one row, JSON), the overlay networks of
  // its one-member cluster store, and a network's Attachable and Ingress flags.
  `CREATE TABLE swarm (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
   CREATE TABLE local_cluster_networks (id TEXT PRIMARY KEY, network TEXT NOT NULL);
   ALTER TABLE networks ADD COLUMN attachable INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE networks ADD COLUMN ingress INTEGER NOT NULL DEFAULT 0;`,
];

// ------------------------------------------------------------------ rows (the columns as SQLite has them)

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  subnet: string | null;
  gateway: string | null;
  ip_range: string | null;
  bridge: string | null;
  internal: number;
  options: string;
  labels: string;
  created: string;
  ipam: string;
  created_link: string | null;
  subnet6: string | null;
  gateway6: string | null;
  ip_range6: string | null;
  ipv4: number;
  attachable: number;
  ingress: number;
}

interface ContainerRow {
  id: string;
  name: string;
  image_id: string;
  image: string;
  spec: string;
  status: string;
  pid: number;
  exit_code: number;
  error: string;
  created: string;
  started_at: string | null;
  finished_at: string | null;
  restart_count: number;
  manually_stopped: number;
  oom_killed: number;
  health: string | null;
  last_addresses: string | null;
  paused: number;
}

interface VolumeRow {
  name: string;
  driver: string;
  options: string | null;
  labels: string | null;
  anonymous: number;
  created: string;
}

interface EndpointRow {
  id: string;
  container_id: string;
  network_id: string;
  if_name: string;
  host_if: string;
  ip: string | null;
  mac: string;
  aliases: string;
  ip6: string | null;
}

interface PortRow {
  container_id: string;
  proto: string;
  host_ip: string;
  host_port: number;
  container_ip: string;
  container_port: number;
}

interface AttachmentRow {
  id: string;
  kind: string;
  ref: string;
  scope: string;
  if_name: string;
  name: string;
  aliases: string;
  netns: string;
  network_id: string;
  ipam_lease: number;
  created: string;
}

interface PluginNetworkRow {
  docker_id: string;
  network: string;
  type: string;
  subnet: string;
  gateway: string;
  made: number;
  created: string;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** Records leave absent optional fields out (rather than holding undefined). */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const toNetwork = (r: NetworkRow): Network => compact({
  id: r.id, name: r.name, driver: r.driver, subnet: opt(r.subnet), gateway: opt(r.gateway), ipRange: opt(r.ip_range), bridge: opt(r.bridge),
  internal: r.internal === 1, options: JSON.parse(r.options) as Record<string, string>, labels: JSON.parse(r.labels) as Record<string, string>, created: r.created,
  ...(JSON.parse(r.ipam) as Pick<Network, 'auxAddresses' | 'ipamOptions'>), createdLink: opt(r.created_link),
  subnet6: opt(r.subnet6), gateway6: opt(r.gateway6), ipRange6: opt(r.ip_range6), ...(r.ipv4 === 0 ? { ipv4: false as const } : {}),
  ...(r.attachable === 1 ? { attachable: true as const } : {}), ...(r.ingress === 1 ? { ingress: true as const } : {}),
} satisfies Network);
const networkRow = (n: Network): NetworkRow => ({
  id: n.id, name: n.name, driver: n.driver, subnet: n.subnet ?? null, gateway: n.gateway ?? null, ip_range: n.ipRange ?? null, bridge: n.bridge ?? null,
  internal: n.internal ? 1 : 0, options: JSON.stringify(n.options), labels: JSON.stringify(n.labels), created: n.created,
  ipam: JSON.stringify({ auxAddresses: n.auxAddresses, ipamOptions: n.ipamOptions }), created_link: n.createdLink ?? null,
  subnet6: n.subnet6 ?? null, gateway6: n.gateway6 ?? null, ip_range6: n.ipRange6 ?? null, ipv4: n.ipv4 === false ? 0 : 1,
  attachable: n.attachable ? 1 : 0, ingress: n.ingress ? 1 : 0,
});

const toContainer = (r: ContainerRow): Container => compact({
  id: r.id, name: r.name, imageId: r.image_id, image: r.image, spec: JSON.parse(r.spec) as Container['spec'], status: r.status as ContainerStatus,
  pid: r.pid, exitCode: r.exit_code, error: r.error, created: r.created, startedAt: opt(r.started_at), finishedAt: opt(r.finished_at),
  restartCount: r.restart_count || undefined, manuallyStopped: r.manually_stopped === 1 || undefined, oomKilled: r.oom_killed === 1 || undefined,
  health: r.health === null ? undefined : (JSON.parse(r.health) as Container['health']),
  lastAddresses: r.last_addresses === null ? undefined : (JSON.parse(r.last_addresses) as Record<string, string>),
  paused: r.paused === 1 ? true : undefined,
} satisfies Container);
/** The columns of the fields given (an update writes only those). */
function containerColumns(c: ContainerFields): Partial<ContainerRow> {
  const out: Partial<ContainerRow> = {};
  if (c.name !== undefined) out.name = c.name;
  if (c.imageId !== undefined) out.image_id = c.imageId;
  if (c.image !== undefined) out.image = c.image;
  if (c.spec !== undefined) out.spec = JSON.stringify(c.spec);
  if (c.status !== undefined) out.status = c.status;
  if (c.pid !== undefined) out.pid = c.pid;
  if (c.exitCode !== undefined) out.exit_code = c.exitCode;
  if (c.error !== undefined) out.error = c.error;
  if (c.created !== undefined) out.created = c.created;
  // An explicit undefined clears a time (a start clears finishedAt).
  if ('startedAt' in c) out.started_at = c.startedAt ?? null;
  if ('finishedAt' in c) out.finished_at = c.finishedAt ?? null;
  if ('restartCount' in c) out.restart_count = c.restartCount ?? 0;
  if ('manuallyStopped' in c) out.manually_stopped = c.manuallyStopped ? 1 : 0;
  if ('oomKilled' in c) out.oom_killed = c.oomKilled ? 1 : 0;
  if ('health' in c) out.health = c.health === undefined ? null : JSON.stringify(c.health);
  if ('lastAddresses' in c) out.last_addresses = c.lastAddresses === undefined ? null : JSON.stringify(c.lastAddresses);
  if ('paused' in c) out.paused = c.paused ? 1 : 0;
  return out;
}

const toVolume = (r: VolumeRow): Volume => compact({
  name: r.name, driver: r.driver, options: r.options === null ? undefined : (JSON.parse(r.options) as Record<string, string>),
  labels: r.labels === null ? undefined : (JSON.parse(r.labels) as Record<string, string>), anonymous: r.anonymous === 1, created: r.created,
} satisfies Volume);
const volumeRow = (v: Volume): VolumeRow => ({
  name: v.name, driver: v.driver, options: v.options === undefined ? null : JSON.stringify(v.options),
  labels: v.labels === undefined ? null : JSON.stringify(v.labels), anonymous: v.anonymous ? 1 : 0, created: v.created,
});

const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id, containerId: r.container_id, networkId: r.network_id, ifName: r.if_name, hostIf: r.host_if, ip: r.ip ?? '', mac: r.mac, aliases: JSON.parse(r.aliases) as string[],
  ...(r.ip6 ? { ip6: r.ip6 } : {}),
});
const endpointRow = (e: Endpoint): EndpointRow => ({
  id: e.id, container_id: e.containerId, network_id: e.networkId, if_name: e.ifName, host_if: e.hostIf, ip: e.ip || null, mac: e.mac, aliases: JSON.stringify(e.aliases),
  ip6: e.ip6 ?? null,
});

const toPort = (r: PortRow): PublishedPort => ({
  containerId: r.container_id, proto: r.proto as Proto, hostIp: r.host_ip, hostPort: r.host_port, containerIp: r.container_ip, containerPort: r.container_port,
});
const portRow = (p: PublishedPort): PortRow => ({
  container_id: p.containerId, proto: p.proto, host_ip: p.hostIp, host_port: p.hostPort, container_ip: p.containerIp, container_port: p.containerPort,
});

const toAttachment = (r: AttachmentRow): Attachment => ({
  id: r.id, kind: r.kind as AttachmentKind, ref: r.ref, scope: r.scope, ifName: r.if_name, name: r.name, aliases: JSON.parse(r.aliases) as string[],
  netns: r.netns, networkId: r.network_id, ...(r.ipam_lease ? { ipamLease: true } : {}), created: r.created,
});
const attachmentRow = (a: Attachment): AttachmentRow => ({
  id: a.id, kind: a.kind, ref: a.ref, scope: a.scope, if_name: a.ifName, name: a.name, aliases: JSON.stringify(a.aliases),
  netns: a.netns, network_id: a.networkId, ipam_lease: a.ipamLease ? 1 : 0, created: a.created,
});
const toPluginNetwork = (r: PluginNetworkRow): PluginNetwork => ({
  dockerId: r.docker_id, network: r.network, type: r.type, subnet: r.subnet, gateway: r.gateway, made: r.made === 1, created: r.created,
});

/** Docker's words for a term that names several networks. */
const ambiguousNetwork = (term: string, n: number, on: 'name' | 'ID prefix'): EngineError =>
  new EngineError('NETWORK_AMBIGUOUS', `network ${term} is ambiguous (${n} matches found ${on === 'name' ? 'on name' : 'based on ID prefix'})`, {
    hint: 'name the network by its id (`ctrnet network ls --no-trunc`)',
  });

// ------------------------------------------------------------------ the store

export class SqliteStore implements Repos {
  private readonly db: Database.Database;
  /** Prepared statements by SQL text: preparing costs more than running one of these queries. */
  private readonly statements = new Map<string, Database.Statement>();

  readonly networks: NetworkRepo;
  readonly containers: ContainerRepo;
  readonly endpoints: EndpointRepo;
  readonly ports: PortRepo;
  readonly images: ImageRepo;
  readonly attachments: AttachmentRepo;
  readonly pluginNetworks: PluginNetworkRepo;
  readonly volumes: VolumeRepo;
  readonly swarm: SwarmRepo;
  readonly localCluster: LocalClusterRepo;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.networks = this.networkRepo();
    this.containers = this.containerRepo();
    this.endpoints = this.endpointRepo();
    this.ports = this.portRepo();
    this.images = this.imageRepo();
    this.attachments = this.attachmentRepo();
    this.pluginNetworks = this.pluginNetworkRepo();
    this.volumes = this.volumeRepo();
    this.swarm = sqliteSwarmRepo((t) => this.sql(t));
    this.localCluster = sqliteLocalClusterRepo((t) => this.sql(t));
  }

  close(): void {
    this.db.close();
  }

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Docker resolves an unambiguous id prefix too. */
  private uniquePrefix<T>(table: 'containers' | 'networks', prefix: string): T | undefined {
    if (!/^[0-9a-f]{1,64}$/.test(prefix)) return undefined;
    const rows = this.sql(`SELECT * FROM ${table} WHERE id LIKE ? LIMIT 2`).all(`${prefix}%`) as T[];
    return rows.length === 1 ? rows[0] : undefined;
  }

  private networkRepo(): NetworkRepo {
    const insert = `INSERT INTO networks (id, name, driver, subnet, gateway, ip_range, bridge, internal, options, labels, created, ipam, created_link, subnet6, gateway6, ip_range6, ipv4, attachable, ingress)
      VALUES (@id, @name, @driver, @subnet, @gateway, @ip_range, @bridge, @internal, @options, @labels, @created, @ipam, @created_link, @subnet6, @gateway6, @ip_range6, @ipv4, @attachable, @ingress)`;
    return {
      list: () => (this.sql('SELECT * FROM networks ORDER BY created').all() as NetworkRow[]).map(toNetwork),
      // Docker's order (its daemon's FindNetwork): the full id, then the name, then an id prefix;
      // several of a name (API < 1.44 made them) or of a prefix are ambiguous, never a pick.
      get: (term) => {
        const byId = this.sql('SELECT * FROM networks WHERE id = ?').get(term) as NetworkRow | undefined;
        if (byId) return toNetwork(byId);
        const byName = this.sql('SELECT * FROM networks WHERE name = ?').all(term) as NetworkRow[];
        if (byName.length > 1) throw ambiguousNetwork(term, byName.length, 'name');
        if (byName.length === 1) return toNetwork(byName[0]);
        if (!/^[0-9a-f]{1,64}$/.test(term)) return undefined;
        const byPrefix = this.sql('SELECT * FROM networks WHERE id LIKE ?').all(`${term}%`) as NetworkRow[];
        if (byPrefix.length > 1) throw ambiguousNetwork(term, byPrefix.length, 'ID prefix');
        return byPrefix.length === 1 ? toNetwork(byPrefix[0]) : undefined;
      },
      insert: (n) => void this.sql(insert).run(networkRow(n)),
      put: (n) => void this.sql(insert.replace('INSERT', 'INSERT OR REPLACE')).run(networkRow(n)),
      delete: (id) => void this.sql('DELETE FROM networks WHERE id = ?').run(id),
    };
  }

  private containerRepo(): ContainerRepo {
    return {
      list: () => (this.sql('SELECT * FROM containers ORDER BY created DESC').all() as ContainerRow[]).map(toContainer),
      get: (idOrName) => {
        const name = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
        const r = (this.sql('SELECT * FROM containers WHERE id = ? OR name = ?').get(name, name) ?? this.uniquePrefix<ContainerRow>('containers', name)) as ContainerRow | undefined;
        return r && toContainer(r);
      },
      insert: (c) => {
        try {
          this.sql(`INSERT INTO containers (id, name, image_id, image, spec, status, pid, exit_code, error, created, started_at, finished_at)
                    VALUES (@id, @name, @image_id, @image, @spec, @status, @pid, @exit_code, @error, @created, @started_at, @finished_at)`).run({
            ...containerColumns(c), id: c.id, started_at: c.startedAt ?? null, finished_at: c.finishedAt ?? null,
          });
        } catch (e) {
          if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
            const other = this.containers.get(c.name);
            throw new EngineError('NAME_IN_USE', `Conflict. The container name "/${c.name}" is already in use by container "${other?.id ?? '?'}"`, {
              hint: 'remove (or rename) that container to be able to reuse that name',
            });
          }
          throw e;
        }
      },
      update: (id, fields) => {
        const cols = containerColumns(fields);
        const keys = Object.keys(cols);
        if (keys.length === 0) return;
        this.sql(`UPDATE containers SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
      },
      delete: (id) =>
        this.tx(() => {
          this.sql('DELETE FROM ports WHERE container_id = ?').run(id);
          this.sql('DELETE FROM endpoints WHERE container_id = ?').run(id);
          this.sql('DELETE FROM containers WHERE id = ?').run(id);
        }),
    };
  }

  private endpointRepo(): EndpointRepo {
    return {
      list: (filter = {}) => {
        let rows: EndpointRow[];
        if (filter.containerId) rows = this.sql('SELECT * FROM endpoints WHERE container_id = ? ORDER BY if_name').all(filter.containerId) as EndpointRow[];
        else if (filter.networkId) rows = this.sql('SELECT * FROM endpoints WHERE network_id = ?').all(filter.networkId) as EndpointRow[];
        else rows = this.sql('SELECT * FROM endpoints').all() as EndpointRow[];
        return rows.map(toEndpoint);
      },
      lease: (draft: EndpointDraft, pick) =>
        this.tx(() => {
          const used = new Set<string>();
          for (const r of this.sql('SELECT ip, ip6 FROM endpoints WHERE network_id = ?').all(draft.networkId) as { ip: string | null; ip6: string | null }[]) {
            if (r.ip) used.add(r.ip);
            if (r.ip6) used.add(r.ip6);
          }
          const ep: Endpoint = { ...draft, ...addressesOf(pick(used)) };
          this.sql(`INSERT INTO endpoints (id, container_id, network_id, if_name, host_if, ip, mac, aliases, ip6)
            VALUES (@id, @container_id, @network_id, @if_name, @host_if, @ip, @mac, @aliases, @ip6)`).run(endpointRow(ep));
          return ep;
        }),
      update: (id, fields) => {
        const cols: Partial<EndpointRow> = {};
        if (fields.mac !== undefined) cols.mac = fields.mac;
        if (fields.hostIf !== undefined) cols.host_if = fields.hostIf;
        const keys = Object.keys(cols);
        if (keys.length === 0) return;
        this.sql(`UPDATE endpoints SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
      },
      delete: (id) => void this.sql('DELETE FROM endpoints WHERE id = ?').run(id),
    };
  }

  private portRepo(): PortRepo {
    const at = (proto: string, hostPort: number) => (this.sql('SELECT * FROM ports WHERE proto = ? AND host_port = ?').all(proto, hostPort) as PortRow[]).map(toPort);
    return {
      list: (containerId) =>
        (containerId ? (this.sql('SELECT * FROM ports WHERE container_id = ?').all(containerId) as PortRow[]) : (this.sql('SELECT * FROM ports').all() as PortRow[])).map(toPort),
      at,
      reserve: (choose) =>
        this.tx(() => {
          const chosen = choose(at);
          const ins = this.sql('INSERT INTO ports VALUES (@container_id, @proto, @host_ip, @host_port, @container_ip, @container_port)');
          for (const p of chosen) ins.run(portRow(p));
          return chosen;
        }),
      release: (containerId) => void this.sql('DELETE FROM ports WHERE container_id = ?').run(containerId),
    };
  }

  private attachmentRepo(): AttachmentRepo {
    return {
      list: (filter = {}) => {
        const where: string[] = [];
        const args: string[] = [];
        if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
        if (filter.scope !== undefined) (where.push('scope = ?'), args.push(filter.scope));
        if (filter.networkId) (where.push('network_id = ?'), args.push(filter.networkId));
        const sql = `SELECT * FROM attachments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created`;
        return (this.sql(sql).all(...args) as AttachmentRow[]).map(toAttachment);
      },
      get: (idOrName) => {
        const byId = this.sql('SELECT * FROM attachments WHERE id = ?').get(idOrName) as AttachmentRow | undefined;
        if (byId) return toAttachment(byId);
        const rows = this.sql('SELECT * FROM attachments WHERE name = ? OR id LIKE ? LIMIT 2').all(idOrName, /^[0-9a-f]{1,64}$/.test(idOrName) ? `${idOrName}%` : '-') as AttachmentRow[];
        return rows.length === 1 ? toAttachment(rows[0]) : undefined;
      },
      find: (kind, ref, scope, ifName) => {
        const r = this.sql('SELECT * FROM attachments WHERE kind = ? AND ref = ? AND scope = ? AND if_name = ?').get(kind, ref, scope, ifName) as AttachmentRow | undefined;
        return r && toAttachment(r);
      },
      insert: (a) => void this.sql('INSERT INTO attachments VALUES (@id, @kind, @ref, @scope, @if_name, @name, @aliases, @netns, @network_id, @ipam_lease, @created)').run(attachmentRow(a)),
      update: (id, fields) => {
        const row = attachmentRow({ ...this.attachments.get(id)!, ...fields });
        this.sql('UPDATE attachments SET ref = @ref, scope = @scope, if_name = @if_name, name = @name, aliases = @aliases, netns = @netns, network_id = @network_id, ipam_lease = @ipam_lease WHERE id = @id').run(row);
      },
      delete: (id) =>
        this.tx(() => {
          this.sql('DELETE FROM ports WHERE container_id = ?').run(id);
          this.sql('DELETE FROM endpoints WHERE container_id = ?').run(id);
          this.sql('DELETE FROM attachments WHERE id = ?').run(id);
        }),
    };
  }

  private pluginNetworkRepo(): PluginNetworkRepo {
    return {
      list: () => (this.sql('SELECT * FROM plugin_networks ORDER BY created').all() as PluginNetworkRow[]).map(toPluginNetwork),
      get: (id) => {
        const r = this.sql('SELECT * FROM plugin_networks WHERE docker_id = ?').get(id) as PluginNetworkRow | undefined;
        return r && toPluginNetwork(r);
      },
      put: (n) =>
        void this.sql('INSERT OR REPLACE INTO plugin_networks VALUES (@docker_id, @network, @type, @subnet, @gateway, @made, @created)').run({
          docker_id: n.dockerId, network: n.network, type: n.type, subnet: n.subnet, gateway: n.gateway, made: n.made ? 1 : 0, created: n.created,
        }),
      delete: (id) => void this.sql('DELETE FROM plugin_networks WHERE docker_id = ?').run(id),
    };
  }

  private imageRepo(): ImageRepo {
    return sqliteImageRepo((t) => this.sql(t), (fn) => this.tx(fn));
  }
  private volumeRepo(): VolumeRepo {
    return {
      list: () => (this.sql('SELECT * FROM volumes ORDER BY created, name').all() as VolumeRow[]).map(toVolume),
      get: (name) => {
        const r = this.sql('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
        return r && toVolume(r);
      },
      ensure: (v) =>
        this.tx(() => {
          this.sql('INSERT OR IGNORE INTO volumes VALUES (@name, @driver, @options, @labels, @anonymous, @created)').run(volumeRow(v));
          return toVolume(this.sql('SELECT * FROM volumes WHERE name = ?').get(v.name) as VolumeRow);
        }),
      delete: (name) => void this.sql('DELETE FROM volumes WHERE name = ?').run(name),
    };
  }
}
