/**
 * The parts of Docker's create request beyond networking and ports (api/dto/container.ts reads
 * those): stop timeout, namespace modes (--pid, --uts, --ipc), --init, the log driver,
 * the volume driver, the console size, attach flags, annotations; and the per-endpoint settings
 * added by later API versions (MacAddress from 1.44, GwPriority from 1.48). Each field
 * is read at the request's API version, as Docker reads it.
 */
import { ContainerSpec, EndpointConfig } from '../../base/container-spec';
import { checkNamespaceModes, LOG_DRIVERS } from '../../base/container-defaults';
import { EngineError } from '../../base/errors';
import { endpointSysctls } from '../../base/network-options';
import { atLeast } from '../version';
import { Json, obj, str, stringMap, strings } from './common';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

function optNumber(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new EngineError('INVALID_PARAMETER', `${field} must be a whole number`);
  return v;
}

/** The spec fields a create request sets besides ContainerSpec's first ones. */
export function createOptions(body: Json, hc: Json, version: string): Partial<ContainerSpec> {
  const out: Partial<ContainerSpec> = {};
  const stopTimeout = optNumber(body.StopTimeout, 'StopTimeout');
  if (stopTimeout !== undefined) out.stopTimeout = stopTimeout;
  const modes = { pidMode: str(hc.PidMode, 'HostConfig.PidMode'), utsMode: str(hc.UTSMode, 'HostConfig.UTSMode'), ipcMode: str(hc.IpcMode, 'HostConfig.IpcMode') };
  checkNamespaceModes(modes);
  for (const [k, v] of Object.entries(modes)) if (v) (out as Record<string, string>)[k] = v;
  if (hc.Init === true) out.init = true;
  const lc = obj(hc.LogConfig, 'HostConfig.LogConfig');
  const type = str(lc.Type, 'HostConfig.LogConfig.Type');
  if (type) {
    if (!LOG_DRIVERS.includes(type)) {
      throw new EngineError('INVALID_PARAMETER', `logger: no log driver named '${type}' is registered`, { hint: `ctrnet has the ${LOG_DRIVERS.join(', ')} drivers` });
    }
    out.logConfig = { type, config: stringMap(lc.Config, 'HostConfig.LogConfig.Config') };
  }
  const volumeDriver = str(hc.VolumeDriver, 'HostConfig.VolumeDriver');
  if (volumeDriver) out.volumeDriver = volumeDriver;
  const cs = hc.ConsoleSize;
  if (atLeast(version, '1.42') && Array.isArray(cs) && cs.length === 2 && cs.every((n) => Number.isInteger(n) && n >= 0 && n < 65536) && (cs[0] || cs[1])) {
    out.consoleSize = [cs[0] as number, cs[1] as number];
  }
  if (body.AttachStdout === false) out.attachStdout = false;
  if (body.AttachStderr === false) out.attachStderr = false;
  if (atLeast(version, '1.43')) {
    const annotations = stringMap(hc.Annotations, 'HostConfig.Annotations');
    if (Object.keys(annotations).length) out.annotations = annotations;
  }
  return out;
}

/** The settings of one endpoint beyond address and aliases, at the request's version. */
export function endpointOptions(c: Json, field: string, version: string): Partial<EndpointConfig> {
  const out: Partial<EndpointConfig> = {};
  // DriverOpts and LinkLocalIPs are endpointConfig's (dto/container.ts); the endpoint sysctls are refused at create, not at start.
  endpointSysctls(stringMap(c.DriverOpts, `${field}.DriverOpts`));
  if (atLeast(version, '1.44')) {
    const mac = str(c.MacAddress, `${field}.MacAddress`).toLowerCase();
    if (mac && !MAC.test(mac)) throw new EngineError('INVALID_PARAMETER', `invalid MAC address "${mac}"`, { hint: 'write it as 02:42:ac:11:00:02' });
    if (mac) out.macAddress = mac;
  }
  if (atLeast(version, '1.48')) {
    const p = optNumber(c.GwPriority, `${field}.GwPriority`);
    if (p) out.gwPriority = p;
  }
  return out;
}

/** Before 1.44 a container is created on one network; more are connected afterwards (Docker's words). */
export function checkEndpointCount(names: string[], version: string): void {
  if (names.length > 1 && !atLeast(version, '1.44')) {
    throw new EngineError('INVALID_PARAMETER', `Container cannot be connected to network endpoints: ${names.join(', ')}`, { hint: 'connect the others after create (docker network connect), or use API 1.44 or newer' });
  }
}
