/**
 * What a container takes from a committed image's config when its create request leaves it out:
 * the command and entrypoint (together, as Docker takes them), the environment (the image's
 * first, the request's after), the working directory, the labels.
 *
 * Limitations: only committed images carry a config here; issue 17's image configs (pulled and
 * loaded images, User, ExposedPorts, Volumes, Healthcheck) replace this with their own resolution.
 */
import { ContainerSpec } from '../../base/container-spec';
import { Image } from '../../images/image-store';

export function withCommittedDefaults(spec: ContainerSpec, image: Image): ContainerSpec {
  const cfg = image.details?.config;
  if (!cfg) return spec;
  const useImageCommand = spec.cmd.length === 0 && spec.entrypoint.length === 0;
  const names = new Set(spec.env.map((e) => e.split('=')[0]));
  return {
    ...spec,
    cmd: useImageCommand ? (cfg.cmd ?? []) : spec.cmd,
    entrypoint: useImageCommand ? (cfg.entrypoint ?? []) : spec.entrypoint.length ? spec.entrypoint : spec.cmd.length ? (cfg.entrypoint ?? []) : [],
    env: [...cfg.env.filter((e) => !names.has(e.split('=')[0])), ...spec.env],
    workingDir: spec.workingDir || cfg.workingDir,
    labels: { ...cfg.labels, ...spec.labels },
  };
}
