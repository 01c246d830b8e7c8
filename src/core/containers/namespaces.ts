/**
 * The PID, UTS and IPC namespaces of a container (--pid, --uts, --ipc), besides its network:
 *   pid   its own; host; container:X (X's, which must be running)
 *   uts   its own; host (the host's hostname; also implied by the host network)
 *   ipc   private (its own, Docker's default); shareable (its own, with a /dev/shm others may
 *         join); none (its own, no /dev/shm); host; container:X (X's namespace and /dev/shm: X
 *         must be running and shareable, or the host's)
 * Container modes name the container by its full id from create on, as Docker records them.
 */
import { CONTAINER_MODE_PREFIX, ContainerSpec } from '../../base/container-spec';
import { ipcModeOf, namespaceMode } from '../../base/container-defaults';
import { EngineError } from '../../base/errors';
import { Container } from '../../base/model';
import { BundleSpec, ContainerRuntime } from '../../runtime/runtime';

/** At create: container:NAME → container:ID (CONTAINER_NOT_FOUND when there is none). */
export function resolveNamespaceModes(spec: ContainerSpec, find: (ref: string) => Container | undefined): ContainerSpec {
  const resolve = (mode: string | undefined): string | undefined => {
    const m = namespaceMode(mode);
    if (m.kind !== 'container') return mode;
    const t = find(m.target);
    if (!t) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${m.target}`);
    return `${CONTAINER_MODE_PREFIX}${t.id}`;
  };
  return { ...spec, ...(spec.pidMode ? { pidMode: resolve(spec.pidMode) } : {}), ...(spec.ipcMode ? { ipcMode: resolve(spec.ipcMode) } : {}) };
}

/** At start: the bundle's namespace fields. */
export function namespaceBundle(
  c: Container,
  get: (id: string) => Container | undefined,
  runtime: Pick<ContainerRuntime, 'namespaceOf' | 'shmOf'>,
): Pick<BundleSpec, 'pid' | 'uts' | 'ipc' | 'shm'> {
  const out: Pick<BundleSpec, 'pid' | 'uts' | 'ipc' | 'shm'> = {};
  const running = (id: string, what: string): Container => {
    const t = get(id);
    if (!t || t.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `cannot join ${what} of a non running container: ${t?.name ?? id}`, { hint: 'start that container first' });
    return t;
  };
  const pid = namespaceMode(c.spec.pidMode);
  if (pid.kind === 'host') out.pid = 'host';
  if (pid.kind === 'container') out.pid = runtime.namespaceOf(running(pid.target, 'PID').pid, 'pid');
  if (c.spec.utsMode === 'host') out.uts = 'host';
  const ipcMode = ipcModeOf(c.spec);
  const ipc = namespaceMode(ipcMode);
  if (ipc.kind === 'host') {
    out.ipc = 'host';
    out.shm = '/dev/shm';
  } else if (ipc.kind === 'container') {
    const t = running(ipc.target, 'IPC');
    const mode = ipcModeOf(t.spec);
    if (mode !== 'shareable' && mode !== 'host') {
      throw new EngineError('CONFLICTING_OPTIONS', `can't join IPC of container ${t.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    out.ipc = mode === 'host' ? 'host' : runtime.namespaceOf(t.pid, 'ipc');
    out.shm = mode === 'host' ? '/dev/shm' : runtime.shmOf(t.id);
  } else if (ipcMode === 'shareable') {
    out.shm = 'shareable';
  } else if (ipcMode === 'none') {
    out.shm = 'none';
  }
  return out;
}
