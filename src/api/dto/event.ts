/**
 * Docker's event JSON: Type, Action, Actor {ID, Attributes}, scope, time, timeNano, and, for
 * container and image events, the legacy status/id/from fields (from is the image; Docker
 * dropped these three in API 1.52).
 */
import { EngineEvent } from '../../base/events';
import { nanosOf } from '../../core/event-log';
import { atLeast } from '../version';
import { Json } from './common';

export function eventJson(e: EngineEvent, version: string): Json {
  const out: Json = {};
  if ((e.type === 'container' || e.type === 'image') && !atLeast(version, '1.52')) {
    out.status = e.action;
    out.id = e.id;
    if (e.type === 'container' && e.attributes.image) out.from = e.attributes.image;
  }
  const ns = nanosOf(e);
  // timeNano is past 2^53: written as a JSON number by hand, without losing digits.
  return { ...out, Type: e.type, Action: e.action, Actor: { ID: e.id, Attributes: e.attributes }, scope: 'local', time: Number(ns / 1_000_000_000n), timeNano: `@@${ns}@@` };
}

/** The JSON text of an event, timeNano as the exact integer it is. */
export function eventText(e: EngineEvent, version: string): string {
  return JSON.stringify(eventJson(e, version)).replace(/"@@(\d+)@@"/, '$1');
}
