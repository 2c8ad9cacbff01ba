/**
 * One scenario's stack and its accounting: its own topic prefix (RF 3), the product's processor,
 * query service and gateway as child processes (`node --import tsx services/<name>/main.ts`), a
 * steady stream of heartbeats and status overrides sent through the gateway's HTTP API (each one
 * counted as acknowledged only on a 2xx), query probes, a reader of the snapshot topic, and at the
 * end an audit of what was acknowledged against what the input topics, the snapshot topic and the
 * query service hold.
 *
 * Every acknowledged event is identifiable: a heartbeat's idleMs is its per-user sequence number,
 * an override's customText is `c<seq>`. So "lost" is exact: an acked heartbeat or override missing
 * from its input topic, or a user whose final snapshot/query answer does not show its last acked
 * override or its live device.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import WebSocket from 'ws';
import type { PresenceSnapshot } from '../../services/contract/avro-types';
import { provisionTopics } from '../../services/contract/provision';
import { AvroSerde, createRegistry } from '../../services/contract/serde';
import { topicName, type TopicRole } from '../../services/contract/topics';
import { mintToken } from '../../services/platform/auth';
import { Child, freePort, metricValue, scrape } from '../bench/child';
import { sleep } from '../bench/measure';
import type { ChaosInfra } from './infra';

export const SECRET = 'chaos-suite-secret-0123456789-abcdefgh';
export const PARTITIONS = 4;
export const OFFLINE_AFTER_MS = 8_000;
export const SESSION_TIMEOUT_MS = 6_000;
/** Short thresholds so every scenario is short (the core validates them). */
export const THRESHOLDS: Record<string, string> = {
  PRESENCE_HEARTBEAT_INTERVAL_MS: '1000', PRESENCE_OFFLINE_AFTER_MS: String(OFFLINE_AFTER_MS), PRESENCE_AWAY_AFTER_MS: '60000',
  PRESENCE_ROOM_MEMBER_EXPIRY_MS: '5000', PRESENCE_REFRESH_LEAD_MS: '1000', PRESENCE_SESSION_RETENTION_MS: '120000',
};

export type Guarantee = 'at-least-once' | 'exactly-once';

export interface Ctx {
  readonly root: string;
  readonly infra: ChaosInfra;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly runId: string;
  readonly workDir: string;
  readonly log: (s: string) => void;
}

/** One snapshot as the reader saw it; `writer` is the record batch's producer id and epoch (kafkajs' batchContext). */
/** `sentAt`: the record's CreateTime, stamped by the writer's producer when it built the request. */
export interface SnapRecord { t: number; sentAt: number; partition: number; key: string; version: number; seq: number | null; devices: number; writer: string; progress: boolean }

const seqOf = (text: string | null | undefined): number | null => {
  const m = /^c(\d+)$/.exec(text ?? '');
  return m ? Number(m[1]) : null;
};

/** Runs of each scenario name per suite run. */
const runsOf = new Map<string, number>();

export class Stack {
  readonly prefix: string;
  readonly groupId: string;
  readonly users: string[];
  private readonly loadUsers: Set<string>;
  private tokens = new Map<string, string>();
  private observerToken = '';
  serde!: AvroSerde;
  processors: Array<{ child: Child; url: string; dataDir: string; name: string }> = [];
  query!: { child: Child; url: string };
  gateway!: { child: Child; url: string; port: number };
  private children: Child[] = [];
  private consumers: Consumer[] = [];

  // accounting
  readonly acked = { heartbeat: new Map<string, Set<number>>(), override: new Map<string, number>() };
  readonly attempted = { override: new Map<string, number>() };
  ackedCount = { heartbeat: 0, override: 0 };
  gatewayFailures: Record<string, number> = {};
  probes: Array<{ t: number; status: number }> = [];
  snaps: SnapRecord[] = [];
  latest = new Map<string, SnapRecord>();
  versionRegressions = new Set<string>();
  /** Snapshots whose version is below one the reader already saw for the key (`after`: that version). */
  regressions: Array<SnapRecord & { after: number }> = [];
  /** Producer id/epoch → when the reader first saw a snapshot of it. */
  writersSeen = new Map<string, number>();
  /** Snapshots whose override is older than one the reader already saw for the key (`after`: that seq). */
  staleWrites: Array<SnapRecord & { after: number }> = [];
  /** Snapshots that list no device for a key whose previous snapshot listed one (the load never disconnects). */
  deviceDrops: SnapRecord[] = [];
  private maxSeq = new Map<string, number>();
  private lastVersion = new Map<string, number>();
  private ackedOverridesLog = new Map<string, number[]>();
  /** When each acked override was acknowledged (epoch ms), per user. */
  readonly overrideAckTimes = new Map<string, number[]>();
  private running = { heartbeat: false, override: false, probes: false };
  private loops: Array<Promise<void>> = [];
  private probeLoop: Promise<void> = Promise.resolve();

  constructor(readonly ctx: Ctx, readonly name: string, opts: { users?: number } = {}) {
    // A scenario run twice in one suite gets fresh topics and groups (it once read the first run's overrides).
    const run = (runsOf.get(`${ctx.runId}/${name}`) ?? 0) + 1;
    runsOf.set(`${ctx.runId}/${name}`, run);
    this.prefix = `${ctx.runId}-${name}${run > 1 ? `-${run}` : ''}.`;
    this.groupId = `${this.prefix}processor`;
    this.users = Array.from({ length: opts.users ?? 24 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    this.loadUsers = new Set(this.users);
  }

  topic(role: TopicRole): string {
    return topicName(role, this.prefix);
  }

  async provision(): Promise<void> {
    await provisionTopics(this.ctx.admin, { prefix: this.prefix, partitions: PARTITIONS, replicationFactor: 3 });
    this.serde = await AvroSerde.create(createRegistry(this.ctx.infra.registryUrl), this.prefix);
    for (const u of this.users) this.tokens.set(u, await mintToken(SECRET, u));
    this.observerToken = await mintToken(SECRET, 'chaos-observer');
  }

  private baseEnv(): Record<string, string> {
    return { KAFKA_BROKERS: this.ctx.infra.brokers.join(','), SCHEMA_REGISTRY_URL: this.ctx.infra.registryUrl, TOPIC_PREFIX: this.prefix, ...THRESHOLDS };
  }

  private spawn(name: string, main: string, env: Record<string, string>): Child {
    // A scenario run twice in one suite keeps both runs' logs (the prefix is unique per run).
    const logFile = join(this.ctx.workDir, existsSync(join(this.ctx.workDir, `${this.name}-${name}.log`)) ? `${this.prefix.replace(/\.$/, '')}-${name}.log` : `${this.name}-${name}.log`);
    const c = new Child(name, this.ctx.root, main, { ...this.baseEnv(), KAFKA_CLIENT_ID: `${this.prefix}${name}`, ...env }, logFile);
    this.children.push(c);
    return c;
  }

  async startProcessor(name: string, guarantee: Guarantee = 'at-least-once', dataDir?: string): Promise<{ child: Child; url: string; dataDir: string; name: string }> {
    const port = await freePort();
    const dir = dataDir ?? join(this.ctx.workDir, `${this.name}-${name}-store`);
    mkdirSync(dir, { recursive: true });
    const child = this.spawn(name, 'services/processor/main.ts', {
      PROCESSOR_DATA_DIR: dir, PROCESSOR_GROUP_ID: this.groupId, PROCESSOR_GUARANTEE: guarantee, PROCESSOR_HTTP_PORT: String(port),
      PROCESSOR_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), PROCESSOR_COMMIT_INTERVAL_MS: guarantee === 'exactly-once' ? '100' : '1000',
      LOG_LEVEL: 'info',
    });
    const p = { child, url: `http://127.0.0.1:${port}`, dataDir: dir, name };
    this.processors.push(p);
    return p;
  }

  async startQuery(): Promise<void> {
    const port = await freePort();
    this.query = { child: this.spawn('query', 'services/query/main.ts', { AUTH_JWT_SECRET: SECRET, QUERY_PORT: String(port), LOG_LEVEL: 'warn' }), url: `http://127.0.0.1:${port}` };
  }

  async startGateway(port?: number, name = 'gateway'): Promise<void> {
    const p = port ?? (await freePort());
    const child = this.spawn(name, 'services/gateway/main.ts', {
      AUTH_JWT_SECRET: SECRET, GATEWAY_PORT: String(p), GATEWAY_ID: `${this.name}-${name}`, GATEWAY_COALESCE_MS: '0', GATEWAY_LEASE_MS: '3000', LOG_LEVEL: 'warn',
    });
    this.gateway = { child, url: `http://127.0.0.1:${p}`, port: p };
  }

  /** Processors, query and gateway up and ready; the snapshot reader running. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await Promise.all([
      ...this.processors.filter((p) => p.child.alive).map((p) => p.child.waitHttpOk(`${p.url}/readyz`, timeoutMs)),
      this.query.child.waitHttpOk(`${this.query.url}/readyz`, timeoutMs),
      this.gateway.child.waitHttpOk(`${this.gateway.url}/readyz`, timeoutMs),
    ]);
  }

  async partitionsOf(p: { url: string }): Promise<number[]> {
    const res = await fetch(`${p.url}/healthz`);
    const body = (await res.json()) as { detail?: { partitions?: number[] } };
    return body.detail?.partitions ?? [];
  }

  async snapshotsWritten(p: { url: string }): Promise<number> {
    return metricValue(await scrape(`${p.url}/metrics`), 'presence_processor_snapshots_total') ?? 0;
  }

  // ---- readers ----

  async startSnapshotReader(): Promise<void> {
    const consumer = this.ctx.kafka.consumer({ groupId: `${this.prefix}chaos-reader`, maxWaitTimeInMs: 100 });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic('snapshot'), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!message.value) return;
        const key = message.key?.toString() ?? '';
        const s: PresenceSnapshot = await this.serde.decode('snapshot', message.value);
        const ctx = (message as unknown as { batchContext?: { producerId?: string; producerEpoch?: number } }).batchContext;
        const r: SnapRecord = { t: Date.now(), sentAt: Number(message.timestamp), partition, key, version: s.version, seq: seqOf(s.override?.customText), devices: s.devices.length, writer: `${ctx?.producerId}/${ctx?.producerEpoch}`, progress: false };
        this.snaps.push(r);
        const lastV = this.lastVersion.get(key);
        if (lastV !== undefined && r.version < lastV) {
          this.versionRegressions.add(key);
          this.regressions.push({ ...r, after: lastV });
        }
        if (!this.writersSeen.has(r.writer)) this.writersSeen.set(r.writer, r.t);
        this.lastVersion.set(key, Math.max(lastV ?? 0, r.version));
        const max = this.maxSeq.get(key);
        if (max !== undefined && (r.seq === null || r.seq < max)) this.staleWrites.push({ ...r, after: max });
        // Progress: a newer override than any seen for the key (only input processing makes one).
        r.progress = r.seq !== null && r.seq > (max ?? -1);
        if (r.seq !== null) this.maxSeq.set(key, Math.max(max ?? -1, r.seq));
        const prev = this.latest.get(key);
        if (prev && prev.devices > 0 && r.devices === 0 && this.loadUsers.has(key)) this.deviceDrops.push(r);
        this.latest.set(key, r);
      },
    });
  }

  /** Reads a topic from the start to the end offsets of now; `each` sees every value. */
  async readAll(role: TopicRole, each: (value: Buffer, partition: number) => Promise<void>, timeoutMs = 30_000): Promise<number> {
    const topic = this.topic(role);
    const ends = new Map((await this.ctx.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    const pos = new Map<number, number>([...ends.keys()].map((p) => [p, 0]));
    const consumer = this.ctx.kafka.consumer({ groupId: `${this.prefix}audit-${role}-${Date.now()}`, maxWaitTimeInMs: 100 });
    let n = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          pos.set(partition, Number(message.offset) + 1);
          n++;
          if (message.value) await each(message.value, partition).catch(() => undefined);
        },
      });
      const deadline = Date.now() + timeoutMs;
      // transaction markers and compaction leave offsets without records: done at the end offset or when quiet near it
      while ([...ends].some(([p, end]) => (pos.get(p) ?? 0) < end) && Date.now() < deadline) await sleep(100);
      await sleep(300);
    } finally {
      await consumer.disconnect();
    }
    return n;
  }

  // ---- load ----

  private async gatewayCall(method: string, path: string, user: string, body: unknown): Promise<boolean> {
    try {
      const res = await fetch(`${this.gateway.url}${path}`, {
        method, headers: { authorization: `Bearer ${this.tokens.get(user)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body), signal: AbortSignal.timeout(8_000),
      });
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) return true;
      this.gatewayFailures[String(res.status)] = (this.gatewayFailures[String(res.status)] ?? 0) + 1;
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name ?? 'error';
      this.gatewayFailures[code] = (this.gatewayFailures[code] ?? 0) + 1;
      await sleep(200);
    }
    return false;
  }

  /** Each user heartbeats every second and sets an override every 2 s, one request at a time per user and kind. */
  startLoad(): void {
    this.running.heartbeat = true;
    this.running.override = true;
    this.users.forEach((u, i) => {
      this.acked.heartbeat.set(u, new Set());
      this.loops.push((async () => {
        await sleep((i * 1000) / this.users.length);
        for (let seq = 0; this.running.heartbeat; seq++) {
          const t = Date.now();
          if (await this.gatewayCall('POST', '/v1/heartbeat', u, { deviceId: `d-${u}`, sessionId: `s-${u}`, platform: 'web', idleMs: seq })) {
            this.acked.heartbeat.get(u)?.add(seq);
            this.ackedCount.heartbeat++;
          }
          await sleep(Math.max(0, 1000 - (Date.now() - t)));
        }
      })());
      this.loops.push((async () => {
        await sleep((i * 2000) / this.users.length + 300);
        for (let seq = 0; this.running.override; seq++) {
          const t = Date.now();
          this.attempted.override.set(u, seq);
          if (await this.gatewayCall('PUT', '/v1/status', u, { status: seq % 2 ? 'Busy' : 'DoNotDisturb', customText: `c${seq}` })) {
            this.acked.override.set(u, seq);
            this.ackedOverridesLog.set(u, [...(this.ackedOverridesLog.get(u) ?? []), seq]);
            this.overrideAckTimes.set(u, [...(this.overrideAckTimes.get(u) ?? []), Date.now()]);
            this.ackedCount.override++;
          }
          await sleep(Math.max(0, 2000 - (Date.now() - t)));
        }
      })());
    });
  }

  stopOverrides(): void {
    this.running.override = false;
  }

  async stopLoad(): Promise<void> {
    this.running.heartbeat = false;
    this.running.override = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  async batchGet(userIds: readonly string[] = this.users): Promise<{ status: number; presences?: Array<{ userId: string; status: string; override: { customText: string | null } | null; devices: Array<{ deviceId: string }> }> }> {
    try {
      const res = await fetch(`${this.query.url}/v1/presence:batchGet`, {
        method: 'POST', headers: { authorization: `Bearer ${this.observerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userIds }), signal: AbortSignal.timeout(5_000),
      });
      const body = res.ok ? ((await res.json()) as { presences: [] }) : (await res.arrayBuffer(), {});
      return { status: res.status, ...body };
    } catch {
      return { status: 0 };
    }
  }

  /** Four batchGet probes a second; each answer's status is kept (0: no answer). */
  startProbes(): void {
    this.running.probes = true;
    this.probeLoop = ((async () => {
      while (this.running.probes) {
        const t = Date.now();
        const r = await this.batchGet();
        this.probes.push({ t, status: r.status });
        await sleep(Math.max(0, 250 - (Date.now() - t)));
      }
    })());
  }

  async stopProbes(): Promise<void> {
    this.running.probes = false;
    await this.probeLoop;
  }

  /** Share of probes in [from, to] answered 2xx. */
  availability(from: number, to: number): number | null {
    const inWindow = this.probes.filter((p) => p.t >= from && p.t <= to);
    if (!inWindow.length) return null;
    return inWindow.filter((p) => p.status >= 200 && p.status < 300).length / inWindow.length;
  }

  /**
   * Longest gap between progress snapshots (a newer override for its key: input was processed;
   * timer and lease snapshots do not count) on any partition within [from, to] (ms), and the partition.
   * `by`: when the processor's producer stamped them (`sent`, the processor's progress; default) or
   * when this reader got them (`read`: adds the reader's own stalls, a kafkajs group consumer here).
   */
  maxPause(from: number, to: number, partitions?: readonly number[], by: 'sent' | 'read' = 'sent'): { ms: number; partition: number; end: number } {
    let worst = { ms: 0, partition: -1, end: from };
    const at = (s: SnapRecord) => (by === 'sent' ? s.sentAt : s.t);
    for (const p of partitions ?? Array.from({ length: PARTITIONS }, (_, i) => i)) {
      const ts = this.snaps.filter((s) => s.progress && s.partition === p && at(s) >= from && at(s) <= to).map(at).sort((a, b) => a - b);
      let prev = from;
      for (const t of [...ts, to]) {
        if (t - prev > worst.ms) worst = { ms: t - prev, partition: p, end: t };
        prev = t;
      }
    }
    return worst;
  }

  firstSnapshotAfter(t: number, partitions: readonly number[]): number | null {
    const firsts = partitions.map((p) => this.snaps.find((s) => s.progress && s.partition === p && s.t > t)?.t ?? null);
    return firsts.some((f) => f === null) ? null : Math.max(...(firsts as number[]));
  }

  // ---- the audit ----

  private overrideOk(u: string, seq: number | null): boolean {
    const acked = this.acked.override.get(u);
    if (acked === undefined) return true;
    return seq !== null && seq >= acked && seq <= (this.attempted.override.get(u) ?? acked);
  }

  /**
   * Overrides stop; heartbeats go on until every user's final state is visible (or timeout):
   * then heartbeats stop and the accounting runs.
   */
  async finish(opts: { excludeLive?: ReadonlySet<string>; settleMs?: number } = {}): Promise<Audit> {
    this.stopOverrides();
    const stoppedAt = Date.now();
    const deadline = stoppedAt + (opts.settleMs ?? 25_000);
    const check = (q: Awaited<ReturnType<Stack['batchGet']>>) => {
      const presences = new Map((q.presences ?? []).map((p) => [p.userId, p]));
      const queryOverrideLost = this.users.filter((u) => !this.overrideOk(u, seqOf(presences.get(u)?.override?.customText)));
      const queryKeysLost = this.users.filter((u) => !opts.excludeLive?.has(u) && !(presences.get(u)?.devices ?? []).some((d) => d.deviceId === `d-${u}`));
      const topicOverrideLost = this.users.filter((u) => !this.overrideOk(u, this.latest.get(u)?.seq ?? null));
      const topicKeysLost = this.users.filter((u) => !opts.excludeLive?.has(u) && !((this.latest.get(u)?.devices ?? 0) > 0));
      return { queryOverrideLost, queryKeysLost, topicOverrideLost, topicKeysLost };
    };
    let last = check(await this.batchGet());
    while (Date.now() < deadline) {
      last = check(await this.batchGet());
      if (Object.values(last).every((l) => l.length === 0)) break;
      await sleep(250);
    }
    const convergedMs = Date.now() - stoppedAt;
    this.ctx.log(`  ${this.name}: final state ${Object.values(last).every((l) => l.length === 0) ? 'visible' : `NOT visible: ${JSON.stringify(last)}`} after ${convergedMs} ms`);
    await this.stopLoad();
    await this.stopProbes();

    // Partitions stalled: input the group has not committed within 20 s of the last event.
    const inputs = (['heartbeat', 'override', 'room'] as const).map((r) => this.topic(r));
    let lagging: string[] = [];
    const lagDeadline = Date.now() + 20_000;
    do {
      lagging = [];
      const committed = await this.ctx.admin.fetchOffsets({ groupId: this.groupId, topics: inputs });
      for (const t of committed) {
        const ends = await this.ctx.admin.fetchTopicOffsets(t.topic);
        for (const e of ends) {
          const c = Number(t.partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
          if (Number(e.high) > 0 && c < Number(e.high)) lagging.push(`${t.topic.slice(this.prefix.length)}[${e.partition}] ${c}/${e.high}`);
        }
      }
      if (lagging.length) await sleep(500);
    } while (lagging.length && Date.now() < lagDeadline);

    this.ctx.log(`  ${this.name}: ${lagging.length} input partitions behind (${lagging.join('; ')}); auditing the input topics`);
    // Acked events in the input log.
    const hbInLog = new Set<string>();
    await this.readAll('heartbeat', async (v) => {
      const h = await this.serde.decode('heartbeat', v);
      hbInLog.add(`${h.userId}/${h.idleMs}`);
    });
    const ovInLog = new Set<string>();
    await this.readAll('override', async (v) => {
      const o = await this.serde.decode('override', v);
      ovInLog.add(`${o.userId}/${o.customText}`);
    });
    this.ctx.log(`  ${this.name}: input topics read (${hbInLog.size} heartbeats, ${ovInLog.size} overrides)`);
    const lostHeartbeats: string[] = [];
    for (const [u, seqs] of this.acked.heartbeat) for (const s of seqs) if (!hbInLog.has(`${u}/${s}`)) lostHeartbeats.push(`${u}/${s}`);
    // every acked override, not only the last
    const lostOverrides: string[] = [];
    for (const [u, seqs] of this.ackedOverridesLog) for (const s of seqs) if (!ovInLog.has(`${u}/c${s}`)) lostOverrides.push(`${u}/c${s}`);
    const dlq = (await this.ctx.admin.fetchTopicOffsets(this.topic('dlq'))).reduce((n, p) => n + Number(p.high), 0);
    const query5xx = this.probes.filter((p) => p.status >= 500).length;
    const queryNoAnswer = this.probes.filter((p) => p.status === 0).length;
    return {
      acked: { ...this.ackedCount }, gatewayFailures: { ...this.gatewayFailures },
      ackedLostInLog: lostHeartbeats.length + lostOverrides.length, ackedLostSample: [...lostHeartbeats, ...lostOverrides].slice(0, 10),
      overridesLost: { query: last.queryOverrideLost.length, topic: last.topicOverrideLost.length, users: [...new Set([...last.queryOverrideLost, ...last.topicOverrideLost])] },
      keysLost: { query: last.queryKeysLost.length, topic: last.topicKeysLost.length, users: [...new Set([...last.queryKeysLost, ...last.topicKeysLost])] },
      convergedMs, versionRegressions: this.versionRegressions.size, staleWrites: this.staleWrites.length,
      regressionSample: this.regressions.slice(0, 8).map((r) => `${r.key} p${r.partition} v${r.version} after v${r.after} c${r.seq} at ${new Date(r.t).toISOString().slice(11, 23)} by ${r.writer}`),
      deviceDrops: this.deviceDrops.length,
      deviceDropSample: this.deviceDrops.slice(0, 5).map((r) => `${r.key} p${r.partition} v${r.version} at ${new Date(r.t).toISOString().slice(11, 23)} by ${r.writer}`),
      staleSample: this.staleWrites.slice(0, 8).map((r) => `${r.key} p${r.partition} v${r.version} c${r.seq} after c${r.after} at ${new Date(r.t).toISOString().slice(11, 23)} by ${r.writer}`),
      stalledPartitions: lagging.length, stalledDetail: lagging, dlq, query5xx, queryNoAnswer, probes: this.probes.length,
      snapshots: this.snaps.length,
    };
  }

  async stop(): Promise<void> {
    this.running = { heartbeat: false, override: false, probes: false };
    await Promise.all([...this.loops, this.probeLoop]).catch(() => undefined);
    await Promise.all(this.children.map((c) => c.stop(10_000).catch(() => undefined)));
    await Promise.all(this.consumers.map((c) => c.disconnect().catch(() => undefined)));
    for (const p of this.processors) rmSync(p.dataDir, { recursive: true, force: true });
  }

  /** Opens WebSocket sessions that heartbeat every second until the socket dies. */
  async openSockets(users: readonly string[]): Promise<WebSocket[]> {
    const sockets: WebSocket[] = [];
    for (const u of users) {
      this.tokens.set(u, this.tokens.get(u) ?? (await mintToken(SECRET, u)));
      const ws = new WebSocket(`ws://127.0.0.1:${this.gateway.port}/v1/ws?deviceId=d-${u}&sessionId=s-${u}&platform=web&access_token=${this.tokens.get(u)}`);
      await new Promise<void>((res, rej) => { ws.once('message', () => res()); ws.once('error', rej); });
      const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"heartbeat","idleMs":0}'), 1000);
      ws.on('close', () => clearInterval(timer));
      ws.on('error', () => clearInterval(timer));
      sockets.push(ws);
    }
    return sockets;
  }
}

export interface Audit {
  acked: { heartbeat: number; override: number };
  gatewayFailures: Record<string, number>;
  ackedLostInLog: number;
  ackedLostSample: string[];
  overridesLost: { query: number; topic: number; users: string[] };
  keysLost: { query: number; topic: number; users: string[] };
  convergedMs: number;
  versionRegressions: number;
  staleWrites: number;
  staleSample: string[];
  deviceDrops: number;
  deviceDropSample: string[];
  regressionSample: string[];
  stalledPartitions: number;
  stalledDetail: string[];
  dlq: number;
  query5xx: number;
  queryNoAnswer: number;
  probes: number;
  snapshots: number;
}
