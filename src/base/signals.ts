/**
 * Signals as Docker's API takes them (`kill?signal=`, `--stop-signal`): a name with or without
 * SIG ("TERM", "SIGUSR1"), or a number. Invalid ones are refused with Docker's words.
 */
import os from 'node:os';
import { EngineError } from './errors';

const SIGNALS = os.constants.signals as Record<string, number>;

/** The signal's number; INVALID_PARAMETER ("Invalid signal: X") when it is none. */
export function signalNumber(sig: string): number {
  const s = sig.trim().toUpperCase();
  const n = /^\d+$/.test(s) ? Number(s) : SIGNALS[s.startsWith('SIG') ? s : `SIG${s}`];
  if (!n || !Object.values(SIGNALS).includes(n)) throw new EngineError('INVALID_PARAMETER', `Invalid signal: ${sig}`, { hint: 'name a signal (TERM, KILL, USR1…) or give its number' });
  return n;
}

/** The signal's name without SIG (what runc takes), from a name or number. */
export function signalName(sig: string): string {
  const n = signalNumber(sig);
  return Object.keys(SIGNALS).find((k) => SIGNALS[k] === n)!.replace(/^SIG/, '');
}
