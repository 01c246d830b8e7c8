/**
 * Docker's rules for --sysctl: only settings the kernel keeps per namespace (IPC's kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*; the network namespace's net.*), and net.* only for a
 * container with a network namespace of its own (not host or container mode).
 */
import { ContainerSpec, modeOf } from '../../base/container-spec';
import { EngineError } from '../../base/errors';

const IPC = [/^kernel\.msg/, /^kernel\.sem$/, /^kernel\.shm/, /^fs\.mqueue\./];

export function checkSysctls(spec: ContainerSpec): void {
  const mode = modeOf(spec.networkMode).kind;
  for (const [key, value] of Object.entries(spec.sysctls ?? {})) {
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(key) || /\s/.test(value) || value === '') throw new EngineError('INVALID_PARAMETER', `invalid sysctl ${JSON.stringify(`${key}=${value}`)}`);
    if (key.startsWith('net.')) {
      if (mode === 'host') throw new EngineError('CONFLICTING_OPTIONS', `sysctl "${key}" not allowed in host network namespace`);
      if (mode === 'container') throw new EngineError('CONFLICTING_OPTIONS', `sysctl "${key}" is not allowed when joining another container's network namespace`);
      continue;
    }
    if (!IPC.some((re) => re.test(key))) throw new EngineError('INVALID_PARAMETER', `sysctl '${key}' is not whitelisted`, { hint: 'only namespaced settings: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*' });
  }
}
