/**
 * The demo page in Debian's Chromium, headless (playwright-core): a user's dot turns Online, then
 * Away, then Offline, live over SSE from the query service fed by the real processor.
 */
import { existsSync } from 'node:fs';
import type { Producer } from 'kafkajs';
import { chromium, type Browser } from 'playwright-core';
import { DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { startQueryService, type QueryService } from './service';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** As root in a closed network: no sandbox, and no background calls home. */
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];
const result = validateConfig({ heartbeatIntervalMs: 500, offlineAfterMs: 4_000, awayAfterMs: 2_000, roomMemberExpiryMs: 4_000, refreshLeadMs: 500, sessionRetentionMs: 60_000 });
if (!result.ok) throw new Error('bad test config');
const cfg: PresenceConfig = result.config;
const SECRET = 'demo-page-test-secret-0123456789-abcdef';
const log = createLogger('demo-page-test', process.env['TEST_LOG_LEVEL'] ?? 'silent');

describe('demo page in headless Chromium', () => {
  let prefix: string;
  let serde: AvroSerde;
  let processor: Processor;
  let producer: Producer;
  let query: QueryService;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: make deps installs Debian's chromium`);
    prefix = uniquePrefix('page');
    ({ serde } = await provisionPrefix(prefix, 1));
    processor = await startProcessor({
      kafka: testKafka('processor'), serde, store: new MemoryPartitionStore(), cfg, log, metrics: createProcessorMetrics(), prefix,
      groupId: `${prefix}processor`, guarantee: 'at-least-once', timerResolutionMs: 50,
    });
    producer = testKafka().producer();
    await producer.connect();
    query = await startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth: createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET })), log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], keepAliveMs: 60_000,
      demoPage: { users: ['pat', 'quinn'], rooms: ['doc/1'], gatewayUrl: null, token: await mintToken(SECRET, 'demo-viewer') },
    });
    await query.startReplica();
    await waitFor(() => processor.ready(), 'processor ready');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await query?.stop();
    await producer?.disconnect();
    await processor?.stop();
  });

  it("shows a user's dot turning Online, then Away, then Offline, and the room they joined", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(query.url);
    const pat = page.locator('li[data-user-id="pat"]');
    await expectStatus(pat, 'Offline');
    await page.waitForSelector('#conn[data-state="open"]');

    const hb: PresenceHeartbeat = { kind: 'heartbeat', userId: 'pat', deviceId: 'laptop', sessionId: 'tab1', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: '1', userId: 'pat', sessionId: 'tab1', observedAt: Date.now(), metadata: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'pat', value: await serde.encode('heartbeat', hb) }] });
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/1', value: await serde.encode('room', join) }] });

    await expectStatus(pat, 'Online');
    await page.waitForSelector('.room[data-room="doc/1"] .members:text("pat")', { timeout: 10_000 });
    await expectStatus(pat, 'Away');
    await expectStatus(pat, 'Offline');
    expect(await page.locator('li[data-user-id="quinn"]').getAttribute('data-status')).toBe('Offline');
    expect(await page.textContent('#count-Offline')).toBe('2');
    expect(errors).toEqual([]);
  });
});

async function expectStatus(row: import('playwright-core').Locator, status: string): Promise<void> {
  await row.and(row.page().locator(`[data-status="${status}"]`)).waitFor({ timeout: 10_000 });
}
