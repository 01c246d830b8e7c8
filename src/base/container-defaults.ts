/**
 * What a container gets when its spec does not say otherwise, as Docker gives it: the paths of
 * /proc and /sys it masks or makes read-only, /dev/shm's size, the stop signal and timeout, the
 * log driver, the IPC mode. The runtime applies these and inspect reports them, from this one
 * place. Also the namespace modes (--pid, --uts, --ipc) parsed and checked.
 */
import { CONTAINER_MODE_PREFIX, ContainerSpec } from './container-spec';
import { EngineError } from './errors';

/** Docker 20.10's default masked paths (bind-mounted over with /dev/null or an empty tmpfs). */
export const MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
/** /dev/shm: 64 MiB */
export const SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_STOP_TIMEOUT = 10;
export const DEFAULT_STOP_SIGNAL = 'SIGTERM';
export const DEFAULT_IPC_MODE = 'private';
/** Where --init's binary appears inside the container (Docker's path). */
export const INIT_PATH = '/sbin/docker-init';

/** Log drivers ctrnet has: the shim keeps the output and `logs` reads it back (json-file, local), or nothing is kept (none). */
export const LOG_DRIVERS = ['json-file', 'local', 'none'];

export const logConfigOf = (s: ContainerSpec): { type: string; config: Record<string, string> } => s.logConfig ?? { type: 'json-file', config: {} };
export const stopTimeoutOf = (s: ContainerSpec): number => s.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
export const stopSignalOf = (s: ContainerSpec): string => s.stopSignal || DEFAULT_STOP_SIGNAL;
export const ipcModeOf = (s: ContainerSpec): string => s.ipcMode || DEFAULT_IPC_MODE;

/** A namespace mode: the container's own, the host's, or another container's. */
export type NamespaceMode = { kind: 'own' } | { kind: 'host' } | { kind: 'container'; target: string };

export function namespaceMode(value: string | undefined): NamespaceMode {
  if (!value || value === 'private' || value === 'shareable' || value === 'none') return { kind: 'own' };
  if (value === 'host') return { kind: 'host' };
  return { kind: 'container', target: value.slice(CONTAINER_MODE_PREFIX.length) };
}

/**
 * Checks --pid, --uts and --ipc as Docker does (its words); container modes must name a container
 * (resolved later, at create).
 */
export function checkNamespaceModes(s: Pick<ContainerSpec, 'pidMode' | 'utsMode' | 'ipcMode'>): void {
  const container = (v: string) => v.startsWith(CONTAINER_MODE_PREFIX) && v.length > CONTAINER_MODE_PREFIX.length;
  if (s.pidMode && s.pidMode !== 'host' && !container(s.pidMode)) throw new EngineError('INVALID_PARAMETER', `invalid PID mode: ${s.pidMode}`, { hint: 'use host or container:NAME' });
  if (s.utsMode && s.utsMode !== 'host') throw new EngineError('INVALID_PARAMETER', `invalid UTS mode: ${s.utsMode}`, { hint: 'use host' });
  if (s.ipcMode && !['private', 'shareable', 'none', 'host'].includes(s.ipcMode) && !container(s.ipcMode)) {
    throw new EngineError('INVALID_PARAMETER', `invalid IPC mode: ${s.ipcMode}`, { hint: 'use private, shareable, none, host or container:NAME' });
  }
}
