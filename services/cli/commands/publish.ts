/**
 * Publishing a user event from the command line, shared by `set` and `visibility`: the event is
 * checked by the core's hygiene (as the gateway's are; a refusal names the CLI argument), then sent
 * with the gateway's typed publisher (services/gateway/publisher.ts: Avro with the registered
 * schema, keyed by userId, acks from all in-sync replicas) and awaited.
 */
import { randomUUID } from 'node:crypto';
import { checkUserEvent, type UserEvent } from '../../core';
import { PresencePublisher } from '../../gateway/publisher';
import { UnreachableError, UsageError } from '../errors';
import { describe } from '../connections';
import type { CommandContext } from './context';

/** The event's field → the argument the user typed for it. */
const ARGUMENT_OF: Readonly<Record<string, string>> = {
  userId: 'user', customText: '--text', expiresAt: '--for', status: 'status', visibility: 'visibility', reason: '--reason', 'actor.id': 'CLI_SUBJECT',
};

/**
 * Checks `raw` (a core event without setAt, eventId and actor) at `now`; a refusal is a UsageError
 * (exit 2). The CLI writes the topic directly as an operator, so its writes carry the actor
 * `{ kind: admin, id: CLI_SUBJECT }`.
 */
export function checkedEvent(raw: Record<string, unknown>, now: number, ctx: Pick<CommandContext, 'presence' | 'env'>): UserEvent {
  const checked = checkUserEvent({ ...raw, setAt: now, eventId: randomUUID(), actor: { kind: 'admin', id: ctx.env.CLI_SUBJECT } }, now, ctx.presence);
  if (!checked.ok) {
    const { field, reason } = checked.rejection;
    throw new UsageError(ARGUMENT_OF[field] ?? field, reason);
  }
  return checked.event;
}

/** Sends one event and waits for the broker's acknowledgement; returns the topic it went to. */
export async function publishEvent(event: UserEvent, ctx: CommandContext): Promise<string> {
  const c = ctx.connections();
  const serde = await c.serde();
  const brokers = `Kafka at ${ctx.env.KAFKA_BROKERS.join(',')} (KAFKA_BROKERS)`;
  let publisher: PresencePublisher;
  try {
    publisher = await PresencePublisher.connect({ kafka: c.kafka, serde, prefix: ctx.env.TOPIC_PREFIX, timeoutMs: ctx.env.CLI_TIMEOUT_MS, lingerMs: 0 });
  } catch (e) {
    throw new UnreachableError(`cannot reach ${brokers}: ${describe(e)}`, e);
  }
  try {
    await publisher.publish(event);
  } catch (e) {
    throw new UnreachableError(`publishing to ${c.topic('override')} on ${brokers} failed: ${describe(e)}`, e);
  } finally {
    await publisher.close();
  }
  return c.topic('override');
}
