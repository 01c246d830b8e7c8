/**
 * The container runtime's port: what core/ asks of the processes of containers. A container is
 * prepared (bundle written, a shim waiting) and then told to go, so that attach clients and the
 * exit monitor connect before the first byte of output; its stdio, logs and exit code belong to
 * its shim, which outlives the daemon. Execs are processes started the same way inside a running
 * container, under their own id.
 */
import { Socket } from 'node:net';
import { LogLine } from './logs';
import { Resources } from '../base/resources';
import { BundleMount, BundleSpec, ProcessSpec, SharedNamespace } from './bundle';
import { Change } from './changes';
import { CgroupStats } from './stats';
import { Top } from './top';

export type { BundleMount, BundleSpec, CgroupStats, Change, LogLine, ProcessSpec, SharedNamespace, Top };

/** Where a container's root filesystem lives: its writable layer, overlayfs' work directory, the mount point. */
export interface RootfsDirs {
  upper: string;
  work: string;
  merged: string;
  /** the layers under the writable one, top-most first: the mount points' layer, then the image's */
  lower: string[];
}

/** A process that is ready and waits for `go`. */
export interface PendingStart {
  /** runs it; resolves with its PID, rejects with what the runtime said */
  go(): Promise<number>;
  /** gives up before `go`: nothing runs */
  abort(): void;
}

/**
 * A connection to a container's (or exec's) stdio: `attach` carries stdin as well, `output` only
 * output, `monitor` only the exit frame, `follow` output after a first frame of stream 0 whose
 * payload is the log's size (decimal) at that moment: read the log up to there, then the stream,
 * and no byte is missed or seen twice. Frames are Docker's stream framing plus STREAM_EXIT.
 */
export type StdioMode = 'attach' | 'output' | 'monitor' | 'follow';

export interface ContainerRuntime {
  /** Mounts a container's root filesystem over its image's layers (idempotent); returns its path. */
  mountRootfs(id: string, layers: readonly string[]): Promise<string>;
  unmountRootfs(id: string): Promise<void>;
  /** Writes the container's bundle and readies its process; its output goes to its log. */
  prepare(b: BundleSpec, io: { stdin: boolean }): Promise<PendingStart>;
  /**
   * Rewrites one of the files bind-mounted at /etc in a prepared or running container, in place
   * (the same inode, so the container sees it): resolv.conf after a connect gives it embedded DNS.
   */
  writeEtcFile(id: string, file: 'resolv.conf' | 'hosts', text: string): Promise<void>;
  /** Readies a process `execId` inside running container `containerId`. */
  prepareExec(containerId: string, execId: string, proc: ProcessSpec, stdin: boolean): Promise<PendingStart>;
  /** Connects to the stdio of a container or an exec (by its id). */
  connect(id: string, mode: StdioMode): Promise<Socket>;
  resize(id: string, rows: number, cols: number): Promise<void>;
  /** The exit code a finished process left behind, if it finished. */
  exitCode(id: string): Promise<number | undefined>;
  /** A container's output so far, line by line (`upTo`: the log's first bytes only). */
  logs(id: string, upTo?: number): Promise<LogLine[]>;
  /** Where a container's log is kept (for inspect's LogPath). */
  logPath(id: string): string;
  /** Signals the container's process; a container that is already gone is not an error. */
  kill(id: string, signal: string): Promise<void>;
  /** Forgets a container's process (runc state, bundle, stdio files); idempotent. */
  delete(id: string): Promise<void>;
  /** Forgets an exec's stdio files. */
  deleteExec(execId: string): Promise<void>;
  /** Removes a container's own files (writable layer, logs): its removal. */
  removeFiles(id: string): Promise<void>;
  /** Ids of the containers the runtime knows. */
  list(): Promise<string[]>;
  /** Changes a running container's cgroup limits live (`runc update`). */
  update(id: string, r: Resources): Promise<void>;
  /** True when the OOM killer ended a process of the container's cgroup; read before `delete`. */
  oomKilled(id: string): Promise<boolean>;
  /** Ends an exec's process (SIGKILL): a health probe past its timeout. Gone already is not an error. */
  killExec(execId: string): Promise<void>;
  /** The PID of a container's process while it runs (its shim's record; no process spawned), else undefined. */
  pidOf(id: string): Promise<number | undefined>;

  // A container's files and processes: inspect, diff, commit, top, stats, pause.
  /** The /etc files its bundle binds (hosts, hostname, resolv.conf); they outlive its process, as Docker's do. */
  etcFiles(id: string): { hosts: string; hostname: string; resolvConf: string };
  /** Its root filesystem's directories, over an image's layers. */
  rootfsDirs(id: string, imageLayers: readonly string[]): RootfsDirs;
  /** Equivalent to: `runc pause ID` (the cgroup freezer stops every process of the container) */
  pause(id: string): Promise<void>;
  /** Equivalent to: `runc resume ID` */
  resume(id: string): Promise<void>;
  /** Equivalent to: `runc ps --format json ID`: the host PIDs of the container's processes */
  pids(id: string): Promise<number[]>;
  /** Equivalent to: `ps ARGS` narrowed to the container's processes (`docker top`) */
  top(id: string, psArgs: string): Promise<Top>;
  /** Equivalent to: `runc events --stats ID`: the cgroup's CPU, memory, block I/O and pid counters */
  stats(id: string): Promise<CgroupStats>;
  /** Bytes in the container's writable layer (Docker's SizeRw). */
  layerSize(id: string): Promise<number>;
  /** What the container changed in its writable layer over an image's layers (`docker diff`). */
  changes(id: string, imageLayers: readonly string[]): Promise<Change[]>;
  /** The path of another container's namespace of a type (pid, ipc), for sharing it; its process must run. */
  namespaceOf(pid: number, type: 'pid' | 'ipc'): SharedNamespace;
  /** Where a shareable container's /dev/shm is on the host (what joiners bind). */
  shmOf(id: string): string;
}
