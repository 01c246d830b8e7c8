/**
 * What a container takes from its image at create, as Docker merges them (daemon/commit.go
 * merge): User, WorkingDir and StopSignal when the container sets none; Env entries whose name the
 * container does not set; Labels and ExposedPorts it lacks (so `-P` publishes the image's ports);
 * Entrypoint and Cmd when the container gives no entrypoint: the image's Cmd only when the
 * container gives no command either (`run IMAGE ARGS` keeps the image's entrypoint with new
 * arguments; `--entrypoint X` drops the image's Cmd; `--entrypoint ""` clears the entrypoint).
 */
import { ContainerSpec } from '../../base/container-spec';
import { ImageConfig } from '../../base/image-config';

const key = (e: string): string => e.split('=')[0];

export function withImageDefaults(spec: ContainerSpec, img: ImageConfig): ContainerSpec {
  const out: ContainerSpec = { ...spec };
  if (!out.user && img.user) out.user = img.user;
  if (!out.workingDir) out.workingDir = img.workingDir;
  if (!out.stopSignal && img.stopSignal) out.stopSignal = img.stopSignal;
  if (out.env.length === 0) out.env = [...img.env];
  else out.env = [...out.env, ...img.env.filter((e) => !out.env.some((u) => key(u) === key(e)))];
  out.labels = { ...img.labels, ...out.labels };
  out.exposedPorts = [...out.exposedPorts, ...img.exposedPorts.filter((p) => !out.exposedPorts.includes(p))];
  const reset = out.entrypoint.length === 1 && out.entrypoint[0] === '';
  if (reset) out.entrypoint = [];
  else if (out.entrypoint.length === 0) {
    if (out.cmd.length === 0) out.cmd = [...(img.cmd ?? [])];
    out.entrypoint = [...(img.entrypoint ?? [])];
  }
  return out;
}
