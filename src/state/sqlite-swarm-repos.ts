/**
 * The swarm's repositories on SQLite (part of state/sqlite-store.ts, kept apart for its size):
 * the one row of this engine's swarm (table `swarm`, migration 10) and the overlay networks of
 * the one-member cluster store (table `local_cluster_networks`, state/local-cluster-store.ts).
 */
import Database from 'better-sqlite3';
import { SwarmState } from '../base/swarm';
import { OverlayNetwork } from './cluster-store';
import { LocalClusterRepo, SwarmRepo } from './repos';

export function sqliteSwarmRepo(sql: (text: string) => Database.Statement): SwarmRepo {
  return {
    get: () => {
      const r = sql('SELECT state FROM swarm WHERE id = 1').get() as { state: string } | undefined;
      return r && (JSON.parse(r.state) as SwarmState);
    },
    put: (s) => void sql('INSERT OR REPLACE INTO swarm (id, state) VALUES (1, ?)').run(JSON.stringify(s)),
    delete: () => void sql('DELETE FROM swarm').run(),
  };
}

export function sqliteLocalClusterRepo(sql: (text: string) => Database.Statement): LocalClusterRepo {
  return {
    list: () => (sql('SELECT network FROM local_cluster_networks ORDER BY rowid').all() as { network: string }[]).map((r) => JSON.parse(r.network) as OverlayNetwork),
    insert: (n) => void sql('INSERT INTO local_cluster_networks (id, network) VALUES (?, ?)').run(n.id, JSON.stringify(n)),
    delete: (id) => void sql('DELETE FROM local_cluster_networks WHERE id = ?').run(id),
  };
}
