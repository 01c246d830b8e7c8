/** Readers of Docker's request JSON (typed, with the field named in every error) and shared constants. */
import { EngineError } from '../../base/errors';

export type Json = Record<string, unknown>;

/** Docker's zero time, for times that have not happened */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EngineError('INVALID_PARAMETER', `${field} must be a list of strings`);
  return v as string[];
}

export function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new EngineError('INVALID_PARAMETER', `${field} must be a string`);
  return v;
}

export function obj(v: unknown, field: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new EngineError('INVALID_PARAMETER', `${field} must be an object`);
  return v as Json;
}

export function stringMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  if (Object.values(o).some((x) => typeof x !== 'string')) throw new EngineError('INVALID_PARAMETER', `${field} values must be strings`);
  return o as Record<string, string>;
}

/** "80/tcp" → { port: 80, proto: "tcp" } */
export function portKey(k: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(k);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new EngineError('INVALID_PORT_SPEC', `invalid container port "${k}"`, { hint: 'write it as PORT/tcp or PORT/udp' });
  return { port: Number(m[1]), proto: (m[2] as 'tcp' | 'udp') ?? 'tcp' };
}
