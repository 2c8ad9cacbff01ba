/**
 * The faults, one per scenario, each on its own topic prefix and its own processes. Every scenario
 * runs the same steady stream (harness.ts) before, during and after its fault and ends with the
 * same audit; what each adds is its own figure (handover, zombie writes, time to Offline, ...).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '../../services/contract/serde';
import { sleep } from '../bench/measure';
import { evolvedHeartbeat } from '../helpers';
import { killNode, restartMissingNodes, restartRegistry } from './infra';
import { OFFLINE_AFTER_MS, PARTITIONS, SESSION_TIMEOUT_MS, Stack, type Audit, type Ctx, type Guarantee } from './harness';

export interface ScenarioResult {
  name: string;
  title: string;
  audit?: Audit;
  /** The scenario's own figures (seconds, counts); null: not measured. */
  figures: Record<string, number | string | null>;
  failures: string[];
  notes: string[];
  error?: string;
  seconds: number;
}

type Figures = ScenarioResult['figures'];
interface Body { figures: Figures; audit: Audit; notes?: string[]; expect?: Array<[boolean, string]> }

const WARM_MS = 6_000;
const secs = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/** Provision, start what `setup` asks for, readers, probes and load; warm up; then `body`. */
async function scenario(ctx: Ctx, name: string, title: string, setup: (s: Stack) => Promise<void>, body: (s: Stack) => Promise<Body>, timeoutMs = 150_000): Promise<ScenarioResult> {
  const started = Date.now();
  const s = new Stack(ctx, name);
  const result: ScenarioResult = { name, title, figures: {}, failures: [], notes: [], seconds: 0 };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await s.provision();
        await setup(s);
        await s.startQuery();
        await s.startGateway();
        await s.waitReady();
        ctx.log(`  ${name}: stack ready after ${Date.now() - started} ms`);
        await s.startSnapshotReader();
        s.startProbes();
        s.startLoad();
        await sleep(WARM_MS);
        const b = await body(s);
        result.audit = b.audit;
        result.figures = b.figures;
        result.notes.push(...(b.notes ?? []));
        const a = b.audit;
        const expectations: Array<[boolean, string]> = [
          [a.ackedLostInLog === 0, `${a.ackedLostInLog} acknowledged events missing from the input topics (${a.ackedLostSample.join(', ')})`],
          [a.overridesLost.query + a.overridesLost.topic === 0, `last acknowledged override not shown: query ${a.overridesLost.query}, snapshot topic ${a.overridesLost.topic} (${a.overridesLost.users.join(', ')})`],
          [a.keysLost.query + a.keysLost.topic === 0, `users without their live device: query ${a.keysLost.query}, snapshot topic ${a.keysLost.topic} (${a.keysLost.users.join(', ')})`],
          [a.stalledPartitions === 0, `${a.stalledPartitions} input partitions not committed 20 s after the last event (${a.stalledDetail.join('; ')})`],
          [a.query5xx === 0, `${a.query5xx} query answers 5xx`],
          [a.versionRegressions === 0, `${a.versionRegressions} keys whose snapshot version went back`],
          ...(b.expect ?? []),
        ];
        for (const [ok, what] of expectations) if (!ok) result.failures.push(what);
      })(),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`scenario timed out after ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    result.failures.push(`error: ${result.error}`);
  } finally {
    clearTimeout(timer);
    await s.stop();
    result.seconds = Math.round((Date.now() - started) / 1000);
  }
  return result;
}

/** 1. kill -9 of one of two processors. */
export const processorKill = (ctx: Ctx) => {
  let a!: Awaited<ReturnType<Stack['startProcessor']>>;
  let b!: Awaited<ReturnType<Stack['startProcessor']>>;
  return scenario(ctx, 'processor-kill', 'kill -9 of one of two processors', async (s) => {
    a = await s.startProcessor('a');
    b = await s.startProcessor('b');
  }, async (s) => {
    await until(async () => (await s.partitionsOf(a)).length > 0 && (await s.partitionsOf(b)).length > 0, 30_000);
    const parts = await s.partitionsOf(a);
    const killedAt = Date.now();
    process.kill(a.child.pid, 'SIGKILL');
    await a.child.exited;
    const tookOver = await until(async () => (await s.partitionsOf(b)).length === PARTITIONS, 40_000);
    const takeoverAt = Date.now();
    await until(() => s.firstSnapshotAfter(takeoverAt, parts) !== null, 20_000);
    await sleep(4_000);
    const first = s.firstSnapshotAfter(killedAt, parts);
    // Handover: until the slowest of the killed member's partitions made progress again.
    const pause = s.maxPause(killedAt - 1_000, Date.now(), parts);
    const audit = await s.finish();
    return {
      audit,
      figures: {
        killedPartitions: parts.join(','), handoverS: secs(pause.end - killedAt), takeoverS: secs(tookOver ? takeoverAt - killedAt : null),
        pauseS: secs(pause.ms), staleWrites: audit.staleWrites,
      },
      notes: [`session timeout ${SESSION_TIMEOUT_MS} ms: the survivor gets the partitions only after it`],
      expect: [[first !== null, 'the killed processor\'s partitions never wrote again']],
    };
  });
};

/** 2. a processor paused (SIGSTOP) past its session timeout, then resumed. */
export const zombie = (guarantee: Guarantee) => (ctx: Ctx) => {
  let a!: Awaited<ReturnType<Stack['startProcessor']>>;
  let b!: Awaited<ReturnType<Stack['startProcessor']>>;
  return scenario(ctx, `zombie-${guarantee === 'exactly-once' ? 'eos' : 'alo'}`, `processor SIGSTOP past its session timeout, SIGCONT (${guarantee})`, async (s) => {
    a = await s.startProcessor('a', guarantee);
    b = await s.startProcessor('b', guarantee);
  }, async (s) => {
    await until(async () => (await s.partitionsOf(a)).length > 0 && (await s.partitionsOf(b)).length > 0, 30_000);
    const parts = await s.partitionsOf(a);
    const stoppedAt = Date.now();
    // A's writers: the producer id/epoch of A's partitions' snapshots in the last seconds before the pause.
    process.kill(a.child.pid, 'SIGSTOP');
    await sleep(300); // what A sent before the pause reaches the reader
    const aWriters = new Set(s.snaps.filter((r) => parts.includes(r.partition) && r.t > stoppedAt - 4_000).map((r) => r.writer));
    const tookOver = await until(async () => (await s.partitionsOf(b)).length === PARTITIONS, 30_000);
    const takeoverAt = Date.now();
    await sleep(Math.max(0, stoppedAt + SESSION_TIMEOUT_MS + 6_000 - Date.now()));
    const resumedAt = Date.now();
    process.kill(a.child.pid, 'SIGCONT');
    const rejoin = await a.child.waitLog((l) => l.msg === 'assignment' && (l.time ?? 0) > resumedAt, 20_000, 'rejoin').catch(() => null);
    const rejoinAt = (rejoin?.time as number | undefined) ?? null;
    await sleep(8_000);
    const windowEnd = (rejoinAt ?? resumedAt + 20_000) + 200;
    // The paused member's writes between its resume and its rejoin: by its producers of before the
    // pause, or by a producer first seen after the resume (it replaces its producer after a failed send).
    const newWriters = new Set([...s.writersSeen].filter(([, t]) => t >= resumedAt && t <= windowEnd).map(([w]) => w));
    // Split by when A's producer stamped them: a request already on the wire at the pause lands on
    // resume (at-least-once has no fencing to refuse it; exactly-once aborts it); a record stamped
    // after the resume is one A decided to write after losing its tasks, which must never happen.
    const landedAfterResume = s.snaps.filter((r) => r.t >= resumedAt && r.t <= windowEnd && (aWriters.has(r.writer) || newWriters.has(r.writer)));
    // A record A stamped after its rejoin's assignment is the new generation's, not a zombie's.
    const zombieWrites = landedAfterResume.filter((r) => r.sentAt >= resumedAt && (rejoinAt === null || r.sentAt < rejoinAt));
    const inFlightAtPause = landedAfterResume.filter((r) => r.sentAt < resumedAt);
    const aReplaced = a.child.lines.filter((l) => l.msg === 'producer replaced after a failed send' && (l.time ?? 0) >= resumedAt && (l.time ?? 0) <= windowEnd).length;
    const aFailedWrites = a.child.lines.filter((l) => typeof l.msg === 'string' && l.msg.endsWith('failed; retried') && (l.time ?? 0) >= resumedAt && (l.time ?? 0) <= windowEnd)
      .map((l) => `${l.msg} (partition ${String(l['partition'])}: ${String(l['err'])})`);
    const staleAfterResume = s.staleWrites.filter((r) => r.t >= resumedAt).length;
    const audit = await s.finish();
    const lostTasks = a.child.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('lost its tasks while out of touch'));
    return {
      audit,
      figures: {
        takeoverS: secs(tookOver ? takeoverAt - stoppedAt : null), pausedS: secs(resumedAt - stoppedAt), rejoinS: secs(rejoinAt === null ? null : rejoinAt - resumedAt),
        zombieWrites: zombieWrites.length, inFlightAtPause: inFlightAtPause.length, staleWritesAfterResume: staleAfterResume, staleWrites: audit.staleWrites,
      },
      notes: [
        `A's writers (producer id/epoch) before the pause: ${[...aWriters].join(' ') || 'none seen'}; zombie window: resume to A's first assignment log line after it${rejoinAt === null ? ' (none within 20 s)' : ''}`,
        `A logged "lost its tasks while out of touch": ${lostTasks}`,
        `between resume and rejoin A replaced its producer ${aReplaced} times; writers first seen then: ${[...newWriters].join(' ') || 'none'}; A's failed writes then: ${aFailedWrites.slice(0, 3).join('; ') || 'none'}`,
      ],
      expect: [
        [zombieWrites.length === 0, `${zombieWrites.length} snapshots sent by the resumed member before it rejoined (${zombieWrites.slice(0, 5).map((r) => `${r.key}@v${r.version} p${r.partition} sent +${r.sentAt - resumedAt} ms`).join(', ')})`],
        // At most one produce request of one partition (the record collector's slice) was in flight.
        [inFlightAtPause.length <= (guarantee === 'exactly-once' ? 0 : 256), `${inFlightAtPause.length} snapshots sent before the pause landed after the resume (at most one request's 256 at least once, none exactly once)`],
        [staleAfterResume === 0, `${staleAfterResume} snapshots after resume older than one already written for the key`],
        [aWriters.size > 0, 'no snapshot of the paused member seen before the pause (zombie writes not attributable)'],
      ],
    };
  });
};

/** 3. kill -9 of the broker leading most of the scenario's partitions, restarted 30 s later. */
export const brokerKill = (ctx: Ctx) => scenario(ctx, 'broker-kill', 'kill -9 of the broker leading most partitions, restart after 30 s', async (s) => {
  await s.startProcessor('p');
}, async (s) => {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(s.prefix));
  const meta = await ctx.admin.fetchTopicMetadata({ topics });
  const leads = new Map<number, number>();
  for (const t of meta.topics) for (const p of t.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
  const [node, led] = [...leads].sort((x, y) => y[1] - x[1])[0] as [number, number];
  const total = [...leads.values()].reduce((a, b) => a + b, 0);
  const killedAt = Date.now();
  killNode(ctx.infra, node);
  // Where leadership went: partitions still led by the dead node (or by none) 15 s after the kill
  // cannot take writes; with RF 3 and min.insync.replicas 2 there should be none.
  await sleep(15_000);
  const after = await ctx.admin.fetchTopicMetadata({ topics }).catch(() => null);
  const leaderless = after === null ? ['metadata unavailable'] : after.topics.flatMap((t) => t.partitions
    .filter((p) => p.leader === node || p.leader < 0)
    .map((p) => `${t.name.slice(s.prefix.length)}[${p.partitionId}] leader ${p.leader} isr ${p.isr.join(',')}`));
  // A dead replica still in the ISR holds back acks=all writes and the high watermark.
  const deadInIsr = after === null ? [] : after.topics.flatMap((t) => t.partitions.filter((p) => p.isr.includes(node)).map((p) => `${t.name.slice(s.prefix.length)}[${p.partitionId}]`));
  await sleep(15_000);
  const restartAt = Date.now();
  await restartMissingNodes(ctx.infra, ctx.root);
  const backAt = Date.now();
  await sleep(8_000);
  const pause = s.maxPause(killedAt - 1_000, Date.now());
  const readerPause = s.maxPause(killedAt - 1_000, Date.now(), undefined, 'read');
  const resumedAt = pause.end; // the end of the longest pause: when the slowest partition made progress again
  // Whose pause: the writer's (records stamped late) or the reader's (records stamped early, read late).
  const ending = s.snaps.find((r) => r.progress && r.partition === pause.partition && r.sentAt === pause.end);
  // And the gateway's side: when overrides of that partition's users were acknowledged again.
  const pausedUsers = s.users.filter((u) => s.snaps.some((r) => r.key === u && r.partition === pause.partition));
  const firstAck = Math.min(...pausedUsers.map((u) => (s.overrideAckTimes.get(u) ?? []).find((t) => t > killedAt + 1_000) ?? Infinity));
  const afterKill = s.snaps.filter((r) => r.partition === pause.partition && r.t > killedAt + 15_000).slice(0, 6)
    .map((r) => `${r.key} c${r.seq ?? '-'} v${r.version} +${secs(r.t - killedAt)}s (last acked c${s.acked.override.get(r.key) ?? "-"})`);
  const acksNote = `its snapshots from 15 s after the kill: ${afterKill.join(', ') || 'none'}; first override of its ${pausedUsers.length} users acked after the kill: ${Number.isFinite(firstAck) ? `${secs(firstAck - killedAt)} s after it` : 'none'}`;
  const sentLate = ending ? `the record ending it was stamped ${secs(ending.sentAt - killedAt)} s after the kill and read ${secs(ending.t - ending.sentAt)} s later` : 'no record ended it';
  const availability = s.availability(killedAt, backAt);
  const failuresDuring = { ...s.gatewayFailures };
  // Where the slowest partition's first user's overrides are, and what the processor group committed.
  const probeUser = pausedUsers[0];
  const trail: string[] = [];
  if (probeUser !== undefined) {
    await s.readAll('override', async (v, partition) => {
      const o = await s.serde.decode('override', v);
      if (o.userId === probeUser) trail.push(`p${partition}:${o.customText ?? '-'}@${secs(o.setAt - killedAt)}`);
    });
  }
  const committedOverrides = await ctx.admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic('override')] }).catch(() => []);
  const overrideEnds = await ctx.admin.fetchTopicOffsets(s.topic('override')).catch(() => []);
  const offsetsNote = `override offsets committed/end: ${overrideEnds.map((e) => `p${e.partition} ${committedOverrides[0]?.partitions.find((c) => c.partition === e.partition)?.offset ?? '?'}/${e.high}`).join(', ')}`;
  const audit = await s.finish();
  return {
    audit,
    figures: {
      killedNode: node, ledPartitions: `${led}/${total}`, downS: secs(restartAt - killedAt), restartS: secs(backAt - restartAt),
      pauseS: secs(pause.ms), allPartitionsResumedS: secs(resumedAt - killedAt), readerPauseS: secs(readerPause.ms), queryAvailability: availability === null ? null : Math.round(availability * 1000) / 10, staleWrites: audit.staleWrites,
    },
    notes: [
      `gateway non-2xx through the fault: ${JSON.stringify(failuresDuring)}`, `longest snapshot pause on partition ${pause.partition}: ${sentLate}; ${acksNote}`,
      `partitions without a live leader 15 s after the kill: ${leaderless.length === 0 ? 'none' : leaderless.join('; ')}`,
      `partitions with the dead node still in their ISR 15 s after the kill: ${deadInIsr.length === 0 ? 'none' : deadInIsr.join(', ')}`,
      `${probeUser ?? '-'}'s overrides in the topic (partition:text@setAt from the kill): ${trail.slice(-30).join(' ')}; ${offsetsNote}`,
    ],
    // RF 3, min.insync.replicas 2: with one node down every partition must make progress again before it is back.
    expect: [[resumedAt < backAt, `not every partition made progress before the killed node was back (${secs(backAt - killedAt)} s after the kill; longest pause ${secs(pause.ms)} s on partition ${pause.partition})`]],
  };
}, 180_000);

/**
 * 4. registry restart mid-stream. While it is down, a producer also writes heartbeats (Kafka-acked)
 * for five more users with a second version of the heartbeat schema registered just before, whose
 * id the processor has never seen: it must wait for the registry, not dead-letter them.
 */
export const registryRestart = (ctx: Ctx) => scenario(ctx, 'registry-restart', 'schema registry restart mid-stream (+ a new schema id during it)', async (s) => {
  await s.startProcessor('p');
}, async (s) => {
  const extra = ['r0', 'r1', 'r2', 'r3', 'r4'];
  const v2 = await evolvedHeartbeat(createRegistry(ctx.infra.registryUrl), s.prefix);
  const producer = ctx.kafka.producer();
  await producer.connect();
  const at = Date.now();
  const restarting = restartRegistry(ctx.infra, ctx.root);
  await until(async () => !(await fetch(`${ctx.infra.registryUrl}/subjects`).then((r) => r.ok, () => false)), 30_000, 100);
  const downSeenAt = Date.now();
  await producer.send({ topic: s.topic('heartbeat'), acks: -1, messages: extra.map((u) => ({ key: u, value: v2.encode({ kind: 'heartbeat', userId: u, deviceId: `d-${u}`, sessionId: `s-${u}`, platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null }) })) });
  await restarting;
  const back = Date.now();
  // Applied: the processor wrote a snapshot for each (it may already read Offline: the beats are old by then).
  const seen = await until(() => extra.every((u) => s.latest.has(u)), 20_000);
  const extraSeenAt = Date.now();
  await producer.disconnect();
  await sleep(4_000);
  const pause = s.maxPause(at - 1_000, Date.now());
  const audit = await s.finish();
  return {
    audit,
    figures: {
      registryDownS: secs(back - at), pauseS: secs(pause.ms), queryAvailability: Math.round((s.availability(at, back) ?? 0) * 1000) / 10,
      newIdUsersSeenS: seen ? secs(extraSeenAt - back) : null, dlq: audit.dlq, staleWrites: audit.staleWrites,
    },
    notes: [`registry unreachable ${secs(downSeenAt - at)} s after the restart began; v2 heartbeat schema id ${v2.id}`],
    expect: [[seen, 'heartbeats with the new schema id, written while the registry was down, never applied'], [audit.dlq === 0, `${audit.dlq} dead letters (a registry outage is not the record's fault)`]],
  };
});

/** 5. gateway kill -9: how long until its users read Offline (the offline threshold today). */
export const gatewayKill = (ctx: Ctx) => {
  const socketUsers = ['w0', 'w1', 'w2', 'w3', 'w4'];
  return scenario(ctx, 'gateway-kill', 'gateway kill -9 (its WebSocket users until Offline)', async (s) => {
    await s.startProcessor('p');
  }, async (s) => {
    await s.openSockets(socketUsers);
    const online = await until(async () => (await s.batchGet(socketUsers)).presences?.every((p) => p.status !== 'Offline') ?? false, 20_000);
    const port = s.gateway.port;
    const old = s.gateway.child;
    const killedAt = Date.now();
    process.kill(old.pid, 'SIGKILL');
    await old.exited;
    await s.startGateway(port, 'gateway-2');
    let offlineAt: number | null = null;
    await until(async () => {
      const all = (await s.batchGet(socketUsers)).presences?.every((p) => p.status === 'Offline') ?? false;
      if (all) offlineAt = Date.now();
      return all;
    }, OFFLINE_AFTER_MS + 20_000, 100);
    await s.gateway.child.waitHttpOk(`${s.gateway.url}/readyz`, 60_000);
    await sleep(4_000);
    const audit = await s.finish();
    return {
      audit,
      figures: { socketUsers: socketUsers.length, offlineAfterS: secs(offlineAt === null ? null : (offlineAt as number) - killedAt), thresholdS: OFFLINE_AFTER_MS / 1000, staleWrites: audit.staleWrites },
      notes: ['the gateway announces a lease of 3 s (GATEWAY_LEASE_MS): its users should read Offline within the lease plus the timer resolution, not at the offline threshold'],
      expect: [[online, 'socket users never read online before the kill'], [offlineAt !== null, 'socket users still not Offline 20 s past the threshold']],
    };
  });
};

function corrupt(dir: string): string[] {
  const touched: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) touched.push(...corrupt(path));
    else if (e.name !== 'LOCK') {
      writeFileSync(path, randomBytes(Math.max(64, Math.min(statSync(path).size, 1 << 20))));
      touched.push(e.name);
    }
  }
  return touched;
}

/** 6. a corrupt LevelDB store: garbage in the processor's data dir before its restart. */
export const corruptStore = (ctx: Ctx) => {
  let p!: Awaited<ReturnType<Stack['startProcessor']>>;
  return scenario(ctx, 'corrupt-store', 'processor kill -9, garbage in its LevelDB dir, restart', async (s) => {
    p = await s.startProcessor('p');
  }, async (s) => {
    await sleep(2_000); // a checkpoint or two in the store
    const killedAt = Date.now();
    process.kill(p.child.pid, 'SIGKILL');
    await p.child.exited;
    const touched = corrupt(p.dataDir);
    for (const junk of ['000999.ldb', 'MANIFEST-999999', 'junk.bin']) writeFileSync(join(p.dataDir, junk), randomBytes(4096));
    const p2 = await s.startProcessor('p2', 'at-least-once', p.dataDir);
    await p2.child.waitHttpOk(`${p2.url}/readyz`, 90_000);
    const readyAt = Date.now();
    await sleep(6_000);
    const pause = s.maxPause(killedAt - 1_000, Date.now());
    const audit = await s.finish();
    const moved = p2.child.lines.find((l) => typeof l.msg === 'string' && /could not be opened|unreadable/.test(l.msg));
    return {
      audit,
      figures: { downToReadyS: secs(readyAt - killedAt), pauseS: secs(pause.ms), staleWrites: audit.staleWrites, storeHandling: moved ? String(moved.msg).split(';')[0] ?? '' : 'opened as is' },
      notes: [`overwrote ${touched.length} store files with random bytes and added 3 junk files`],
    };
  });
};

/** 7. a poison record on every input topic: dead-lettered, processing continues. */
export const poison = (ctx: Ctx) => scenario(ctx, 'poison', 'poison records on every input topic', async (s) => {
  await s.startProcessor('p');
}, async (s) => {
  const producer = ctx.kafka.producer();
  await producer.connect();
  const unknownId = Buffer.alloc(5 + 8);
  unknownId.writeUInt8(0, 0);
  unknownId.writeUInt32BE(987_654, 1); // magic byte, then a schema id nobody registered
  const garbage = Buffer.from('this is not avro');
  const at = Date.now();
  let sent = 0;
  for (const [role, key] of [['heartbeat', 'u00'], ['override', 'u01'], ['room', 'document/poison']] as const) {
    await producer.send({ topic: s.topic(role), acks: -1, messages: [{ key, value: garbage }, { key, value: unknownId }] });
    sent += 2;
  }
  await producer.disconnect();
  await sleep(8_000);
  const pause = s.maxPause(at - 1_000, Date.now());
  const audit = await s.finish();
  return {
    audit,
    figures: { poisonSent: sent, dlq: audit.dlq, pauseS: secs(pause.ms), staleWrites: audit.staleWrites },
    expect: [[audit.dlq === sent, `${audit.dlq} dead letters for ${sent} poison records`], [pause.ms < 5_000, `partition ${pause.partition} paused ${secs(pause.ms)} s after the poison`]],
  };
});

export const SCENARIOS: Record<string, (ctx: Ctx) => Promise<ScenarioResult>> = {
  'processor-kill': processorKill,
  'zombie-alo': zombie('at-least-once'),
  'zombie-eos': zombie('exactly-once'),
  'broker-kill': brokerKill,
  'registry-restart': registryRestart,
  'gateway-kill': gatewayKill,
  'corrupt-store': corruptStore,
  poison,
};
