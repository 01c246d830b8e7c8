/** The environment of a container's processes: Docker's default PATH unless the image or user set one. */

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function withPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env];
}
