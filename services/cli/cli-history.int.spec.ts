/**
 * `presence history` end to end: the real broker and registry, the processor and the history
 * service in this process on a prefix of their own, and the `presence` bin as a child process. A
 * user's DND is set with `presence set … --reason` (the CLI writes the topic as an admin, its
 * CLI_SUBJECT), a heartbeat brings another user Online; then `history` (--json and the table, with
 * --since and with --from/--to) shows the intervals, their causes and who set the DND and why.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve, join } from 'node:path';
import type { Producer } from 'kafkajs';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { startHistoryService, type HistoryService } from '../history/service';
import { authEnv, createAuthenticator } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { env, freePort, provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import type { HistoryBody } from './history-client';

const ROOT = resolve(__dirname, '../..');
const BIN = resolve(__dirname, 'presence.js');
const SECRET = 'cli-history-test-secret-0123456789-abcde';
const log = createLogger('cli-history-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');
const result = validateConfig({});
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

describe('presence history against the real history service', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let history: HistoryService;
  let producer: Producer;
  let historyDir: string;

  const cli = (args: string[], extra: Record<string, string> = {}): Promise<Run> => {
    const e: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'], HOME: process.env['HOME'],
      KAFKA_BROKERS: env.KAFKA_BROKERS.join(','), SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL, TOPIC_PREFIX: prefix,
      HISTORY_URL: history.url, AUTH_JWT_SECRET: SECRET, CLI_SUBJECT: 'ops-desk', CLI_TIMEOUT_MS: '15000', ...extra,
    };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr })));
  };
  const json = async <T>(args: string[], extra: Record<string, string> = {}): Promise<T> => {
    const r = await cli([...args, '--json'], extra);
    if (r.code !== 0) throw new Error(`presence ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const heartbeat = async (userId: string) => {
    const v: PresenceHeartbeat = { kind: 'heartbeat', userId, deviceId: `${userId}-laptop`, sessionId: `${userId}-s1`, platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: userId, value: await serde.encode('heartbeat', v) }] });
  };

  beforeAll(async () => {
    prefix = uniquePrefix('clihist');
    ({ serde } = await provisionPrefix(prefix, 2));
    historyDir = mkdtempSync(join(tmpdir(), 'presence-cli-history-'));
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    history = await startHistoryService({
      kafka: testKafka('history'), serde, prefix, cfg, auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log,
      host: '127.0.0.1', port: 0, dataDir: historyDir, maxWindowDays: 31,
    });
    producer = testKafka().producer();
    await producer.connect();
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready', 60_000);
    await history.startIndexer();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await history?.stop();
    await processor?.stop();
    rmSync(historyDir, { recursive: true, force: true });
  });

  it('shows the intervals with cause and who set the DND, as JSON and as a table, for --since and --from/--to', async () => {
    const t0 = Date.now();
    const set = await json<Record<string, unknown>>(['set', 'hist-ana', 'dnd', '--text', 'focus', '--reason', 'incident 42']);
    expect(set).toMatchObject({ status: 'DoNotDisturb', actor: { kind: 'admin', id: 'ops-desk' }, reason: 'incident 42' });
    await heartbeat('hist-bo');

    const ana = await waitFor(async () => {
      const h = await json<HistoryBody>(['history', 'hist-ana', '--since', '1h']);
      return h.intervals.some((iv) => iv.status === 'DoNotDisturb') && h;
    }, 'hist-ana\'s DND in the history');
    expect(ana.userId).toBe('hist-ana');
    expect(ana.to - ana.from).toBeGreaterThanOrEqual(3_600_000 - 1_000);
    expect(ana.intervals.map((iv) => [iv.status, iv.cause, iv.setBy?.actor ?? null, iv.setBy?.reason ?? null])).toEqual([
      ['Offline', null, null, null], ['DoNotDisturb', 'event', { kind: 'admin', id: 'ops-desk' }, 'incident 42'],
    ]);
    // Another caller (ops-desk is not hist-ana) sees the DND setting too: others could see it anyway.
    expect(ana.settings).toEqual([{ at: set['setAt'], kind: 'status', value: 'DoNotDisturb', customText: 'focus', expiresAt: null, actor: { kind: 'admin', id: 'ops-desk' }, reason: 'incident 42' }]);

    // The table: a summary line, the aligned intervals, then the settings.
    const table = await cli(['history', 'hist-ana', '--since', '1h']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^hist-ana: 2 intervals from \S+ \(1h ago\) to \S+ \(now\)$/);
    expect(lines[1]).toMatch(/^STATUS\s+FROM\s+TO\s+DURATION\s+CAUSE\s+SET BY\s+REASON$/);
    expect(lines[3]).toMatch(/^DoNotDisturb\s+\S+ \(.+\)\s+\S+ \(now\)\s+\d+m?s?\s+event\s+admin:ops-desk \(DoNotDisturb\)\s+incident 42$/);
    expect(lines[3]?.indexOf('event')).toBe(lines[1]?.indexOf('CAUSE'));
    expect(table.stdout).toContain('settings written in the window:');

    // --from/--to: hist-bo's Online from the heartbeat, with no manual status behind it.
    const bo = await waitFor(async () => {
      const h = await json<HistoryBody>(['history', 'hist-bo', '--from', new Date(t0 - 1_000).toISOString(), '--to', String(Date.now() + 1_000)]);
      return h.intervals.some((iv) => iv.status === 'Online') && h;
    }, 'hist-bo Online in the history');
    expect(bo.from).toBe(t0 - 1_000);
    expect(bo.intervals.find((iv) => iv.status === 'Online')).toMatchObject({ cause: 'event', setBy: null });
    expect(bo.settings).toEqual([]);
  });

  it('refuses bad arguments (exit 2) and names HISTORY_URL when the service is not there (exit 1)', async () => {
    const bad = await cli(['history', 'hist-ana', '--since', 'soon']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^presence: --since: "soon" is not a duration/)]);
    const both = await cli(['history', 'hist-ana', '--since', '1h', '--from', '1000']);
    expect(both.code).toBe(2);
    const port = await freePort();
    const down = await cli(['history', 'hist-ana'], { HISTORY_URL: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`cannot reach the history service at http://127\\.0\\.0\\.1:${port} \\(HISTORY_URL\\): ECONNREFUSED`));
  });
});
