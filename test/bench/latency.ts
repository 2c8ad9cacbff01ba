/**
 * End-to-end latency: publish an event that changes a user's status, time until the change shows
 * in the query service's SSE stream. Two kinds of probe, alternating:
 *  - "heartbeat": a user never seen (Offline) sends a heartbeat → expect Online;
 *  - "override": a user's manual status toggles DoNotDisturb ↔ Busy → expect the new one.
 * A user gets a new probe only after its previous one was seen, so every event is unambiguous.
 * Both clocks are this process's, so no clock skew enters the figure.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { PresenceOverride } from '../../services/contract/avro-types';
import type { AvroSerde } from '../../services/contract/serde';
import { topicName } from '../../services/contract/topics';
import { sseEvents } from '../sse';
import { distribution, sleep, type Distribution } from './measure';
import type { Population } from './population';

type Kind = 'heartbeat' | 'override';

export interface LatencyResult {
  readonly probesSent: number;
  readonly all: Distribution;
  readonly byKind: Record<Kind, Distribution>;
  /** Probes whose change never showed within the grace period after the window. */
  readonly lost: number;
  /** Probe slots skipped because every override user still waited for its previous change. */
  readonly skipped: number;
  readonly streams: number;
  /** The ten slowest probes: when in the window each was sent (s) and how long it took (ms), to tell a warm-up tail from a stall. */
  readonly slowest: ReadonlyArray<{ readonly atSecond: number; readonly ms: number; readonly kind: Kind }>;
}

interface Pending { readonly expected: string; readonly sentAt: number; readonly kind: Kind }

/** Ids per SSE stream: several streams, as several browser tabs of watchers would open. */
const IDS_PER_STREAM = 100;

export async function sseLatency(o: {
  kafka: Kafka; serde: AvroSerde; prefix: string; queryUrl: string; token: string;
  fresh: Population; toggled: Population; seconds: number; perSecond: number; runId: string;
}): Promise<LatencyResult> {
  const { serde, prefix } = o;
  const freshIds = Array.from({ length: o.fresh.users }, (_, u) => o.fresh.userId(u));
  const toggledIds = Array.from({ length: o.toggled.users }, (_, u) => o.toggled.userId(u));
  const all = [...freshIds, ...toggledIds];
  const pending = new Map<string, Pending>();
  const samples: Record<Kind, number[]> = { heartbeat: [], override: [] };
  const firstSeen = new Set<string>();
  const timed: Array<{ sentAt: number; ms: number; kind: Kind }> = [];

  const streams: Array<{ close: () => Promise<void> }> = [];
  const readers: Promise<void>[] = [];
  for (let i = 0; i < all.length; i += IDS_PER_STREAM) {
    const ids = all.slice(i, i + IDS_PER_STREAM);
    const res = await fetch(`${o.queryUrl}/v1/presence/stream?userIds=${ids.map(encodeURIComponent).join(',')}`, {
      headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream' },
    });
    if (!res.ok) throw new Error(`SSE stream refused: ${res.status} ${await res.text()}`);
    const s = sseEvents(res);
    streams.push(s);
    readers.push((async () => {
      for (;;) {
        let ev;
        try {
          ev = await s.next(3_600_000);
        } catch {
          return; // closed
        }
        const at = Date.now();
        firstSeen.add(ev.userId);
        const p = pending.get(ev.userId);
        if (p && ev.status === p.expected) {
          pending.delete(ev.userId);
          samples[p.kind].push(at - p.sentAt);
          timed.push({ sentAt: p.sentAt, ms: at - p.sentAt, kind: p.kind });
        }
      }
    })());
  }
  // Every stream first sends each user's current state: once all arrived, the streams are live.
  const openDeadline = Date.now() + 30_000;
  while (firstSeen.size < all.length && Date.now() < openDeadline) await sleep(50);
  if (firstSeen.size < all.length) throw new Error(`SSE: initial state of only ${firstSeen.size}/${all.length} users within 30 s`);

  const producer: Producer = o.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let sent = 0;
  let skipped = 0;
  let nextFresh = 0;
  let nextToggle = 0;
  let seq = 0;
  const overrideState = new Map<string, 'DoNotDisturb' | 'Busy'>();
  const send = async (role: 'heartbeat' | 'override', key: string, value: Buffer) => {
    await producer.send({ topic: topicName(role, prefix), messages: [{ key, value }], acks: -1 });
  };
  const probe = async (kind: Kind): Promise<void> => {
    if (kind === 'heartbeat') {
      if (nextFresh >= o.fresh.users) { skipped++; return; }
      const u = nextFresh++;
      const now = Date.now();
      const hb = { ...o.fresh.heartbeatOf(u, 0, 0, now, 0), idleMs: 0 };
      const value = await serde.encode('heartbeat', hb);
      pending.set(hb.userId, { expected: 'Online', sentAt: Date.now(), kind });
      sent++;
      await send('heartbeat', hb.userId, value);
      return;
    }
    // The next override user whose previous change has been seen.
    for (let tried = 0; tried < toggledIds.length; tried++) {
      const userId = toggledIds[nextToggle++ % toggledIds.length] as string;
      if (pending.has(userId)) continue;
      const status = overrideState.get(userId) === 'DoNotDisturb' ? 'Busy' : 'DoNotDisturb';
      overrideState.set(userId, status);
      const now = Date.now();
      const value: PresenceOverride = {
        kind: 'status', userId, eventId: `${o.runId}-probe-${seq++}`, setAt: now,
        status, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null, activity: null, actor: null, reason: null,
      };
      const encoded = await serde.encode('override', value);
      pending.set(userId, { expected: status, sentAt: Date.now(), kind });
      sent++;
      await send('override', userId, encoded);
      return;
    }
    skipped++;
  };

  const failures: unknown[] = [];
  const intervalMs = 1000 / o.perSecond;
  const started = Date.now();
  try {
    for (let i = 0; Date.now() - started < o.seconds * 1000; i++) {
      // Not awaited: a slow send must not delay the next probe (that would hide latency).
      probe(i % 2 === 0 ? 'heartbeat' : 'override').catch((e: unknown) => failures.push(e));
      const next = started + (i + 1) * intervalMs;
      await sleep(Math.max(0, next - Date.now()));
    }
    const grace = Date.now() + 15_000;
    while (pending.size > 0 && Date.now() < grace) await sleep(50);
  } finally {
    await producer.disconnect();
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(readers);
  }
  if (failures.length) throw new Error(`${failures.length} probes could not be published: ${String(failures[0])}`);
  return {
    probesSent: sent,
    all: distribution([...samples.heartbeat, ...samples.override]),
    byKind: { heartbeat: distribution(samples.heartbeat), override: distribution(samples.override) },
    lost: pending.size, skipped, streams: streams.length,
    slowest: timed.sort((a, b) => b.ms - a.ms).slice(0, 10).map((t) => ({ atSecond: Math.round((t.sentAt - started) / 100) / 10, ms: t.ms, kind: t.kind })),
  };
}
