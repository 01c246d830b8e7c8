/**
 * SQLite state: the desired state and the source of truth; the kernel is derived from it
 * (daemon/reconcile.ts). Plain rows in, plain rows out; schema changes are numbered migrations.
 * better-sqlite3 is synchronous, so each method is atomic with respect to the event loop, and
 * multi-step changes use `tx()`.
 */
import Database from 'better-sqlite3';
import { EngineError } from '../base/errors';

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
];

export interface NetworkRow {
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
}

export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing';

export interface ContainerRow {
  id: string;
  name: string;
  image_id: string;
  image: string;
  /** JSON of ContainerSpec (core/container-spec.ts) */
  spec: string;
  status: ContainerStatus;
  pid: number;
  exit_code: number;
  error: string;
  created: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface EndpointRow {
  id: string;
  container_id: string;
  network_id: string;
  if_name: string;
  host_if: string;
  ip: string;
  mac: string;
  aliases: string;
}

export interface PortRow {
  container_id: string;
  proto: string;
  host_ip: string;
  host_port: number;
  container_ip: string;
  container_port: number;
}

export interface ImageRow {
  id: string;
  created: string;
  size: number;
  comment: string;
}

export class Store {
  readonly db: Database.Database;

  /** Prepared statements by SQL text: preparing costs more than running one of these queries. */
  private readonly statements = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
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

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }

  // networks
  networks(): NetworkRow[] {
    return this.sql('SELECT * FROM networks ORDER BY created').all() as NetworkRow[];
  }
  network(idOrName: string): NetworkRow | undefined {
    return (this.sql('SELECT * FROM networks WHERE id = ? OR name = ?').get(idOrName, idOrName) ??
      this.uniquePrefix<NetworkRow>('networks', idOrName)) as NetworkRow | undefined;
  }
  insertNetwork(n: NetworkRow): void {
    this
      .sql(`INSERT INTO networks VALUES (@id, @name, @driver, @subnet, @gateway, @ip_range, @bridge, @internal, @options, @labels, @created)`)
      .run(n);
  }
  deleteNetwork(id: string): void {
    this.sql('DELETE FROM networks WHERE id = ?').run(id);
  }

  // containers
  containers(): ContainerRow[] {
    return this.sql('SELECT * FROM containers ORDER BY created DESC').all() as ContainerRow[];
  }
  container(idOrName: string): ContainerRow | undefined {
    const name = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    return (this.sql('SELECT * FROM containers WHERE id = ? OR name = ?').get(name, name) ??
      this.uniquePrefix<ContainerRow>('containers', name)) as ContainerRow | undefined;
  }
  insertContainer(c: ContainerRow): void {
    try {
      this
        .sql(`INSERT INTO containers VALUES (@id, @name, @image_id, @image, @spec, @status, @pid, @exit_code, @error, @created, @started_at, @finished_at)`)
        .run(c);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const other = this.container(c.name);
        throw new EngineError('NAME_IN_USE', `Conflict. The container name "/${c.name}" is already in use by container "${other?.id ?? '?'}"`, {
          hint: 'remove (or rename) that container to be able to reuse that name',
        });
      }
      throw e;
    }
  }
  updateContainer(id: string, fields: Partial<Omit<ContainerRow, 'id'>>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.sql(`UPDATE containers SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
  }
  deleteContainer(id: string): void {
    this.tx(() => {
      this.sql('DELETE FROM ports WHERE container_id = ?').run(id);
      this.sql('DELETE FROM endpoints WHERE container_id = ?').run(id);
      this.sql('DELETE FROM containers WHERE id = ?').run(id);
    });
  }

  // endpoints: a row is the address lease
  endpoints(filter: { containerId?: string; networkId?: string } = {}): EndpointRow[] {
    if (filter.containerId) return this.sql('SELECT * FROM endpoints WHERE container_id = ? ORDER BY if_name').all(filter.containerId) as EndpointRow[];
    if (filter.networkId) return this.sql('SELECT * FROM endpoints WHERE network_id = ?').all(filter.networkId) as EndpointRow[];
    return this.sql('SELECT * FROM endpoints').all() as EndpointRow[];
  }
  /**
   * Leases an address and records the endpoint in one transaction: `pick` sees every address in use
   * on the network and returns the one to take.
   */
  leaseAddress(e: Omit<EndpointRow, 'ip'>, pick: (used: Set<string>) => string): EndpointRow {
    return this.tx(() => {
      const used = new Set((this.sql('SELECT ip FROM endpoints WHERE network_id = ?').all(e.network_id) as { ip: string }[]).map((r) => r.ip));
      const row = { ...e, ip: pick(used) };
      this.sql(`INSERT INTO endpoints VALUES (@id, @container_id, @network_id, @if_name, @host_if, @ip, @mac, @aliases)`).run(row);
      return row;
    });
  }
  updateEndpoint(id: string, fields: Partial<Pick<EndpointRow, 'mac' | 'host_if'>>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.sql(`UPDATE endpoints SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
  }
  deleteEndpoint(id: string): void {
    this.sql('DELETE FROM endpoints WHERE id = ?').run(id);
  }

  // published ports
  ports(containerId?: string): PortRow[] {
    if (containerId) return this.sql('SELECT * FROM ports WHERE container_id = ?').all(containerId) as PortRow[];
    return this.sql('SELECT * FROM ports').all() as PortRow[];
  }
  /** The published ports on one host port (any host address). */
  portsAt(proto: string, hostPort: number): PortRow[] {
    return this.sql('SELECT * FROM ports WHERE proto = ? AND host_port = ?').all(proto, hostPort) as PortRow[];
  }
  /** Records a container's ports in one transaction; `choose` looks up the ports in use there and returns the rows. */
  reservePorts(choose: (usedAt: (proto: string, hostPort: number) => PortRow[]) => PortRow[]): PortRow[] {
    return this.tx(() => {
      const rows = choose((proto, hostPort) => this.portsAt(proto, hostPort));
      const ins = this.sql('INSERT INTO ports VALUES (@container_id, @proto, @host_ip, @host_port, @container_ip, @container_port)');
      for (const r of rows) ins.run(r);
      return rows;
    });
  }
  releasePorts(containerId: string): void {
    this.sql('DELETE FROM ports WHERE container_id = ?').run(containerId);
  }

  // images
  images(): ImageRow[] {
    return this.sql('SELECT * FROM images ORDER BY created DESC').all() as ImageRow[];
  }
  image(id: string): ImageRow | undefined {
    return this.sql('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  }
  insertImage(i: ImageRow): void {
    this.sql('INSERT OR REPLACE INTO images VALUES (@id, @created, @size, @comment)').run(i);
  }
  deleteImage(id: string): void {
    this.tx(() => {
      this.sql('DELETE FROM tags WHERE image_id = ?').run(id);
      this.sql('DELETE FROM images WHERE id = ?').run(id);
    });
  }
  tags(imageId?: string): { tag: string; image_id: string }[] {
    if (imageId) return this.sql('SELECT * FROM tags WHERE image_id = ? ORDER BY tag').all(imageId) as { tag: string; image_id: string }[];
    return this.sql('SELECT * FROM tags ORDER BY tag').all() as { tag: string; image_id: string }[];
  }
  tagImage(tag: string, imageId: string): void {
    this.sql('INSERT OR REPLACE INTO tags VALUES (?, ?)').run(tag, imageId);
  }
  untag(tag: string): void {
    this.sql('DELETE FROM tags WHERE tag = ?').run(tag);
  }
  imageIdByTag(tag: string): string | undefined {
    return (this.sql('SELECT image_id FROM tags WHERE tag = ?').get(tag) as { image_id: string } | undefined)?.image_id;
  }

  /** Docker resolves an unambiguous id prefix too. */
  private uniquePrefix<T>(table: 'containers' | 'networks', prefix: string): T | undefined {
    if (!/^[0-9a-f]{1,64}$/.test(prefix)) return undefined;
    const rows = this.sql(`SELECT * FROM ${table} WHERE id LIKE ? LIMIT 2`).all(`${prefix}%`) as T[];
    return rows.length === 1 ? rows[0] : undefined;
  }
}
