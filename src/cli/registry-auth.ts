/**
 * The CLI's registry credentials, kept as the docker CLI keeps them: `ctrnet login` stores
 * `{"auths": {"HOST": {"auth": base64(user:password)}}}` in $CTRNET_CONFIG/config.json
 * (default ~/.ctrnet/config.json, mode 0600), and pull, push and run send the entry of the image's
 * registry in the X-Registry-Auth header. Entries of the docker CLI's config (`docker login`;
 * $DOCKER_CONFIG or ~/.docker) are used too when ctrnet has none for that registry. Credential
 * helpers are not supported.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HUB_DOMAIN, parseImageRef } from '../base/image-ref';

/** Docker Hub's key in config files, as the docker CLI writes it. */
export const HUB_KEY = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  [k: string]: unknown;
}

export function configPath(): string {
  return path.join(process.env.CTRNET_CONFIG ?? path.join(os.homedir(), '.ctrnet'), 'config.json');
}

function read(file: string): ConfigFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ConfigFile;
  } catch {
    return {};
  }
}

/** The config key of a registry: HOST[:PORT], Docker Hub's URL for docker.io. */
export function registryKey(server: string | undefined): string {
  const s = (server ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return !s || s === HUB_DOMAIN || s === 'index.docker.io' || s === 'registry-1.docker.io' ? HUB_KEY : s;
}

export function saveCredentials(server: string, username: string, password: string, identityToken?: string): void {
  const file = configPath();
  const c = read(file);
  c.auths ??= {};
  c.auths[registryKey(server)] = identityToken ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: identityToken } : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(c, null, '\t') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Forgets a registry's credentials; false when there were none. */
export function removeCredentials(server: string): boolean {
  const file = configPath();
  const c = read(file);
  const key = registryKey(server);
  if (!c.auths?.[key]) return false;
  delete c.auths[key];
  writeFileSync(file, JSON.stringify(c, null, '\t') + '\n', { mode: 0o600 });
  return true;
}

/** X-Registry-Auth for the registry of an image reference: base64url of Docker's AuthConfig JSON. */
export function authHeaderFor(imageRef: string): string {
  let domain: string = HUB_DOMAIN;
  try {
    domain = parseImageRef(imageRef).domain;
  } catch {
    // an invalid name: the daemon says so; no credentials for it
  }
  const key = registryKey(domain);
  const entry = read(configPath()).auths?.[key] ?? read(path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json')).auths?.[key];
  const cfg: Record<string, string> = {};
  if (entry?.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    cfg.username = text.slice(0, i);
    cfg.password = text.slice(i + 1);
  }
  if (entry?.identitytoken) cfg.identitytoken = entry.identitytoken;
  if (Object.keys(cfg).length) cfg.serveraddress = key;
  return Buffer.from(JSON.stringify(cfg)).toString('base64url');
}
