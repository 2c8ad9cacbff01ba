/**
 * The CLI end to end: the real broker and registry, the processor and the query service in this
 * process on a prefix of their own, and the `presence` bin (services/cli/presence.js, as
 * `npx presence` runs it) as a child process for every command, its --json output parsed.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Producer } from 'kafkajs';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { startQueryService, type QueryService } from '../query/service';
import { env, provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';

const ROOT = resolve(__dirname, '../..');
const BIN = resolve(__dirname, 'presence.js');
const SECRET = 'cli-int-test-secret-0123456789-abcdefgh';
const log = createLogger('cli-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');
const result = validateConfig({});
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the presence CLI against the real services', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let query: QueryService;
  let producer: Producer;

  /** Only what the CLI reads (no inherited TOPIC_PREFIX or token); `undefined` in `extra` removes a variable. */
  const cliEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'], HOME: process.env['HOME'],
      KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: prefix,
      QUERY_URL: query.url, AUTH_JWT_SECRET: SECRET, CLI_TIMEOUT_MS: '15000', ...extra,
    };
    for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
    return e;
  };

  /** Starts the bin; `done` resolves when it exits. */
  const start = (args: string[], extra: Record<string, string | undefined> = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<Run>((r) => child.once('close', (code) => r({ code, stdout, stderr })));
    return { child, done, stderr: () => stderr };
  };
  const cli = (args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> => start(args, extra).done;
  /** Runs with --json, expects exit 0, parses the single document. */
  const json = async <T = Record<string, unknown>>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`presence ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const jsonLines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const statusOf = async (user: string) => (await json<{ presences: Array<Record<string, unknown>> }>(['status', user])).presences[0] as Record<string, unknown>;

  const heartbeat = async (userId: string) => {
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: `${userId}-s1`, platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };

  beforeAll(async () => {
    prefix = uniquePrefix('cli');
    ({ serde } = await provisionPrefix(prefix, 2));
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    query = await startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], keepAliveMs: 60_000,
    });
    await query.startReplica();
    producer = testKafka().producer();
    await producer.connect();
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready', 60_000);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await query?.stop();
    await processor?.stop();
  });

  it('set dnd --for 1h --text publishes an override that status then reads; clear removes it', async () => {
    const before = Date.now();
    const published = await json(['set', 'cli-ana', 'dnd', '--for', '1h', '--text', 'focus time']);
    expect(published).toMatchObject({ topic: `${prefix}presence.override.v1`, kind: 'status', userId: 'cli-ana', status: 'DoNotDisturb', customText: 'focus time' });
    expect(published['expiresAt'] as number).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(published['expiresAt'] as number).toBeLessThan(Date.now() + 3_600_000 + 1_000);

    const ana = await waitFor(async () => {
      const p = await statusOf('cli-ana');
      return p['status'] === 'DoNotDisturb' && p;
    }, 'cli-ana in DoNotDisturb');
    expect(ana['override']).toEqual({ status: 'DoNotDisturb', customText: 'focus time', expiresAt: published['expiresAt'] });

    // The readable table: a header and one aligned row.
    const table = await cli(['status', 'cli-ana', 'cli-nobody']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+STATUS\s+SINCE\s+LAST SEEN\s+OVERRIDE\s+DEVICES$/);
    expect(lines[1]).toMatch(/^cli-ana\s+DoNotDisturb\s+.*DoNotDisturb until .*\(in 59m\d*s?\) "focus time"\s+0$/);
    expect(lines[2]).toMatch(/^cli-nobody\s+Offline\s+-\s+-\s+-\s+0$/);
    expect(lines[1]?.indexOf('DoNotDisturb')).toBe(lines[0]?.indexOf('STATUS'));

    expect(await json(['set', 'cli-ana', 'clear'])).toMatchObject({ status: 'Available', expiresAt: null, customText: null });
    // Available is the register's "cleared" value (the core keeps it, for an Available text): no heartbeat, so Offline.
    const cleared = await waitFor(async () => {
      const p = await statusOf('cli-ana');
      return p['status'] === 'Offline' && p;
    }, 'cli-ana override cleared');
    expect(cleared['override']).toEqual({ status: 'Available', customText: null, expiresAt: null });
  });

  it('visibility nobody makes an online user read Offline to others', async () => {
    await heartbeat('cli-vic');
    await waitFor(async () => (await statusOf('cli-vic'))['status'] === 'Online', 'cli-vic Online');
    expect(await json(['visibility', 'cli-vic', 'nobody'])).toMatchObject({ kind: 'visibility', userId: 'cli-vic', visibility: 'nobody' });
    const vic = await waitFor(async () => {
      const p = await statusOf('cli-vic');
      return p['status'] === 'Offline' && p;
    }, 'cli-vic invisible');
    expect(vic).toMatchObject({ lastSeen: null, devices: [] });
    await json(['visibility', 'cli-vic', 'everyone']);
    await waitFor(async () => (await statusOf('cli-vic'))['status'] === 'Online', 'cli-vic visible again');
  });

  it('room lists the members of a room, and an empty one', async () => {
    const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: 'cli-7', userId: 'cli-rae', sessionId: 'rae-tab', observedAt: Date.now(), metadata: { cursor: '12' }, ephemeral: null, ephemeralTtlMs: null };
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/cli-7', value: await serde.encode('room', join) }] });
    const room = await waitFor(async () => {
      const r = await json<{ roomKind: string; roomId: string; members: Array<Record<string, unknown>> }>(['room', 'doc/cli-7']);
      return r.members.length === 1 && r;
    }, 'cli-rae in doc/cli-7');
    expect(room).toMatchObject({ roomKind: 'doc', roomId: 'cli-7', members: [{ userId: 'cli-rae', sessionId: 'rae-tab', metadata: { cursor: '12' } }] });
    expect(await json(['room', 'doc/none'])).toEqual({ roomKind: 'doc', roomId: 'none', members: [] });
    expect((await cli(['room', 'doc/none'])).stdout).toBe('room doc/none: no members\n');
  });

  it('gate answers with the core rule, and a channel the service refuses exits 2 naming it', async () => {
    await json(['set', 'cli-gus', 'dnd']);
    await waitFor(async () => (await statusOf('cli-gus'))['status'] === 'DoNotDisturb', 'cli-gus in DoNotDisturb');
    expect(await json(['gate', 'cli-gus', 'mobile-push'])).toEqual({
      userId: 'cli-gus', channel: 'mobile-push', bypassDoNotDisturb: false, deliver: false, reason: 'suppressed-dnd', status: 'DoNotDisturb', userKnown: true,
    });
    expect(await json(['gate', 'cli-gus', 'mobile-push', '--bypass-dnd'])).toMatchObject({ deliver: true, reason: 'bypassed-dnd' });
    expect(await json(['gate', 'cli-gus', 'email'])).toMatchObject({ deliver: true, reason: 'store-and-forward' });
    const bad = await cli(['gate', 'cli-gus', 'pigeon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('presence: channel: the query service refused it');
  });

  it('tail prints each change as it arrives, and from the beginning', async () => {
    const tail = start(['tail', '--user', 'cli-tia', '--max', '2', '--json']);
    await waitFor(() => tail.stderr().includes('following'), 'tail to be following', 30_000);
    await json(['set', 'cli-tia', 'busy']);
    await json(['set', 'cli-tia', 'clear']);
    const r = await tail.done;
    expect(r.code).toBe(0);
    const changes = jsonLines(r.stdout);
    expect(changes.map((c) => [c['userId'], c['from'], c['to'], c['cause']])).toEqual([
      ['cli-tia', 'Offline', 'Busy', 'event'],
      ['cli-tia', 'Busy', 'Offline', 'event'],
    ]);
    expect(changes[1]?.['version'] as number).toBeGreaterThan(changes[0]?.['version'] as number);

    const replay = await cli(['tail', '--user', 'cli-tia', '--from-beginning', '--max', '1', '--json']);
    expect(replay.code).toBe(0);
    expect(jsonLines(replay.stdout)).toEqual([changes[0]]);

    // Without --max it follows until Ctrl-C, then exits 0.
    const open = start(['tail']);
    await waitFor(() => open.stderr().includes('following'), 'the open tail to be following', 30_000);
    open.child.kill('SIGINT');
    expect((await open.done).code).toBe(0);
  });

  it('dlq reads the dead letters with their code, source and explanation', async () => {
    const heartbeats = topicName('heartbeat', prefix);
    const garbage = await producer.send({ topic: heartbeats, messages: [{ key: 'cli-dee', value: Buffer.from('not avro at all') }] });
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId: 'cli-dee', deviceId: 'd', sessionId: 's', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: heartbeats, messages: [{ key: 'someone-else', value: await serde.encode('heartbeat', v) }] });

    const r = await cli(['dlq', '--follow', '--max', '2', '--json']);
    expect(r.code).toBe(0);
    const letters = jsonLines(r.stdout);
    const undecodable = letters.find((l) => l['errorCode'] === 'undecodable');
    expect(undecodable).toMatchObject({
      service: 'processor', sourceTopic: heartbeats, sourcePartition: garbage[0]?.partition, sourceOffset: Number(garbage[0]?.baseOffset),
      key: 'cli-dee', valueBase64: Buffer.from('not avro at all').toString('base64'), valueBytes: 15,
      explanation: expect.stringContaining('not Avro in the schema-registry wire format'),
    });
    expect(letters.find((l) => l['errorCode'] === 'rejected')).toMatchObject({
      detailedCode: 'rejected/not-allowed', field: 'key', key: 'someone-else', reason: expect.stringContaining('does not match userId'),
      explanation: expect.stringContaining('the record key does not match'),
    });

    // Without --follow it reads what is there and ends; readable rows carry the explanation.
    const readable = await cli(['dlq']);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(/^DLQ\s+FAILED AT\s+SERVICE\s+SOURCE\s+CODE\s+FIELD\s+REASON\n/);
    expect(readable.stdout).toContain(`processor          ${heartbeats}[`);
    expect(readable.stdout).toContain('    meaning: the value is not Avro');
  });

  it('exits 2 for a bad argument and 1 with context when a service cannot be reached', async () => {
    const bad = await cli(['set', 'cli-x', 'dnd', '--for', 'soon']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('presence: --for: "soon" is not a duration');

    const noQuery = await cli(['status', 'cli-x'], { QUERY_URL: 'http://127.0.0.1:59999' });
    expect(noQuery.code).toBe(1);
    expect(noQuery.stderr).toContain('cannot reach the query service at http://127.0.0.1:59999 (QUERY_URL): ECONNREFUSED');

    const noKafka = await cli(['dlq'], { KAFKA_BROKERS: '127.0.0.1:59998', CLI_TIMEOUT_MS: '2000' });
    expect(noKafka.code).toBe(1);
    expect(noKafka.stderr).toContain('cannot reach Kafka at 127.0.0.1:59998 (KAFKA_BROKERS)');

    const noToken = await cli(['status', 'cli-x'], { AUTH_JWT_SECRET: undefined });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('QUERY_TOKEN: required');
  });
});
