/**
 * The audit end to end, on the real broker and registry: alice sets Do Not Disturb through the real
 * gateway's HTTP route with her JWT. A body that claims another actor is refused (400, field
 * `actor`); the accepted one lands on presence.override.v1 (decoded through the registry) with actor
 * user/alice, stamped from the token, and her reason. The real processor turns it into a change and
 * the history service shows alice as who set the DND interval, with the reason, in the interval and
 * in the settings; another user sees the DND setting, and nothing at all once alice is invisible.
 * Every history and gateway answer is checked against the services' OpenAPI documents.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type PresenceConfig } from '../core';
import type { PresenceOverride } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { GATEWAY_OPENAPI } from '../gateway/openapi';
import { startGateway, type Gateway } from '../gateway/service';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { LevelPartitionStore } from '../processor/store';
import { consumeMessages, provisionPrefix, step, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { OpenApiChecker } from '../../test/openapi';
import { HISTORY_OPENAPI } from './openapi';
import { startHistoryService, type HistoryService } from './service';

const cfgResult = validateConfig({ heartbeatIntervalMs: 300, offlineAfterMs: 1_500, awayAfterMs: 2_500, roomMemberExpiryMs: 1_500, refreshLeadMs: 300, sessionRetentionMs: 60_000 });
if (!cfgResult.ok) throw new Error('bad test config');
const cfg: PresenceConfig = cfgResult.config;
const SECRET = 'audit-test-secret-0123456789-abcdefghijk';
const historyApi = new OpenApiChecker(HISTORY_OPENAPI);
const gatewayApi = new OpenApiChecker(GATEWAY_OPENAPI);
const log = createLogger('audit-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

interface Interval { status: string; from: number; to: number; cause: string | null; setBy: { at: number; status: string; actor: { kind: string; id: string } | null; reason: string | null } | null }
interface Setting { at: number; kind: string; value: string; actor: { kind: string; id: string } | null; reason: string | null }
interface HistoryBody { intervals: Interval[]; settings: Setting[] }

describe('audit: who set an override, from the token to the history', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let gateway: Gateway;
  let history: HistoryService;
  let processorDir: string;
  let historyDir: string;
  const tokens: Record<string, string> = {};
  let t0 = 0;

  const put = async (path: string, body: object, as = 'alice') => {
    const res = await gatewayApi.fetch(`${gateway.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${tokens[as]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const historyOf = async (userId: string, as: string): Promise<HistoryBody> => {
    const res = await historyApi.fetch(`${history.url}/v1/users/${userId}/history?from=${t0 - 60_000}&to=${Date.now() + 60_000}`, { headers: { authorization: `Bearer ${tokens[as]}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as HistoryBody;
  };
  const overrides = async (count: number): Promise<PresenceOverride[]> => {
    const messages = await consumeMessages(testKafka('audit-reader'), topicName('override', prefix), count, { groupId: `${prefix}reader-${count}` });
    return Promise.all(messages.map(async (m) => serde.decode('override', m.value)));
  };

  beforeAll(async () => {
    prefix = uniquePrefix('audit');
    ({ serde } = await step(`provisioning ${prefix}`, provisionPrefix(prefix, 2)));
    processorDir = mkdtempSync(join(tmpdir(), 'presence-audit-proc-'));
    historyDir = mkdtempSync(join(tmpdir(), 'presence-audit-index-'));
    for (const u of ['alice', 'bob']) tokens[u] = await mintToken(SECRET, u);
    const auth = createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET }));
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: await LevelPartitionStore.open(processorDir), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    gateway = await step('starting the gateway', startGateway({
      kafka: testKafka('gateway'), serde, prefix, cfg, auth, log, host: '127.0.0.1', port: 0, gatewayId: 'gw-audit', coalesceWindowMs: 0,
      reconnectGraceMs: 0, maxFrameBytes: 4_096, pingIntervalMs: 60_000, maxRoomsPerSession: 3, publishTimeoutMs: 5_000, lingerMs: 2,
    }));
    history = await startHistoryService({ kafka: testKafka('history'), serde, prefix, cfg, auth, log, host: '127.0.0.1', port: 0, dataDir: historyDir, maxWindowDays: 31 });
    await waitFor(() => processor.ready() && processor.assigned().length === 2, 'processor ready');
    await step('history indexer caught up', history.startIndexer());
    t0 = Date.now();
  });

  afterAll(async () => {
    await history?.stop();
    await gateway?.stop();
    await processor?.stop();
    rmSync(processorDir, { recursive: true, force: true });
    rmSync(historyDir, { recursive: true, force: true });
  });

  it('stamps the actor from the token, refuses a claimed one, and shows who set DND and why in the history', async () => {
    // A body that tries to say who acts is refused, naming the field, and nothing is published.
    const claimed = await put('/v1/status', { status: 'DoNotDisturb', reason: 'focus time', actor: { kind: 'admin', id: 'mallory' } });
    expect(claimed).toEqual({ status: 400, body: expect.objectContaining({ field: 'actor', code: 'not-allowed' }) });
    const claimedSelf = await put('/v1/visibility', { visibility: 'nobody', actor: { kind: 'user', id: 'alice' } });
    expect([claimedSelf.status, claimedSelf.body['field']]).toEqual([400, 'actor']);

    expect((await put('/v1/status', { status: 'DoNotDisturb', reason: '  focus time ' })).status).toBe(202);
    const [dnd] = await overrides(1);
    expect(dnd).toMatchObject({ kind: 'status', userId: 'alice', status: 'DoNotDisturb', actor: { kind: 'user', id: 'alice' }, reason: 'focus time' });

    // The processor records Offline → DoNotDisturb; the history attributes it to alice's setting.
    const mine = await waitFor(async () => {
      const h = await historyOf('alice', 'alice');
      return h.intervals.some((iv) => iv.status === 'DoNotDisturb') && h.settings.length === 1 ? h : undefined;
    }, 'the DND interval in alice\'s history');
    const interval = mine.intervals.find((iv) => iv.status === 'DoNotDisturb');
    expect(interval).toMatchObject({ cause: 'event', setBy: { at: dnd?.setAt, status: 'DoNotDisturb', actor: { kind: 'user', id: 'alice' }, reason: 'focus time' } });
    expect(mine.intervals.filter((iv) => iv.status !== 'DoNotDisturb').every((iv) => iv.setBy === null)).toBe(true);
    const during = Math.floor(((interval?.from ?? 0) + (interval?.to ?? 0)) / 2);
    const at = await historyApi.fetch(`${history.url}/v1/users/alice/at?t=${during}`, { headers: { authorization: `Bearer ${tokens['alice']}` } });
    expect(await at.json()).toMatchObject({ status: 'DoNotDisturb', setBy: { actor: { kind: 'user', id: 'alice' }, reason: 'focus time' } });
    expect(mine.settings).toEqual([{ at: dnd?.setAt, kind: 'status', value: 'DoNotDisturb', customText: null, expiresAt: null, actor: { kind: 'user', id: 'alice' }, reason: 'focus time' }]);

    // Bob sees the DND and who set it (others could see the DND anyway) ...
    const bobs = await historyOf('alice', 'bob');
    expect(bobs.settings.map((s) => [s.value, s.actor?.id])).toEqual([['DoNotDisturb', 'alice']]);
    expect(bobs.intervals.find((iv) => iv.status === 'DoNotDisturb')?.setBy?.actor).toEqual({ kind: 'user', id: 'alice' });

    // ... clearing it is attributed too; and once alice is invisible, bob sees no audit at all.
    expect((await put('/v1/status', { status: 'Available' })).status).toBe(202);
    expect((await put('/v1/visibility', { visibility: 'nobody', reason: 'heads down' })).status).toBe(202);
    const after = await waitFor(async () => {
      const h = await historyOf('alice', 'alice');
      return h.settings.length === 3 && h.intervals.length >= 3 ? h : undefined;
    }, 'the clearing and the visibility change in alice\'s history');
    expect(after.settings.map((s) => [s.kind, s.value, s.actor?.id, s.reason])).toEqual([
      ['status', 'DoNotDisturb', 'alice', 'focus time'], ['status', 'Available', 'alice', null], ['visibility', 'nobody', 'alice', 'heads down'],
    ]);
    const cleared = after.intervals[after.intervals.findIndex((iv) => iv.status === 'DoNotDisturb') + 1];
    expect(cleared).toMatchObject({ status: 'Offline', cause: 'event', setBy: { status: 'Available', actor: { kind: 'user', id: 'alice' } } });
    const hidden = await waitFor(async () => {
      const h = await historyOf('alice', 'bob');
      return h.settings.length === 0 ? h : undefined;
    }, 'bob no longer seeing alice\'s audit');
    expect(hidden.intervals.every((iv) => iv.setBy === null && iv.status === 'Offline')).toBe(true);

    // Everything on the topic carries the token's subject, never the claimed actor.
    const all = await overrides(3);
    expect(all.map((o) => o.actor)).toEqual([{ kind: 'user', id: 'alice' }, { kind: 'user', id: 'alice' }, { kind: 'user', id: 'alice' }]);
  });
});
