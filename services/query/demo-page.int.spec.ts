/**
 * The demo page in Debian's Chromium, headless (playwright-core): a user's dot turns Online, then
 * Away, then Offline, live over SSE from the query service fed by the real processor; and the page
 * itself, through the gateway's browser client over a WebSocket, is a session whose idleness,
 * activities (its own Presenting, a followed user's call), Do Not Disturb and closing show up the same way.
 */
import { existsSync } from 'node:fs';
import type { Producer } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { contactKey, DEFAULT_CHANNEL_CLASSES, validateConfig, type PresenceConfig } from '../core';
import type { PresenceHeartbeat, PresenceOverride, RoomEvent } from '../contract/avro-types';
import type { AvroSerde } from '../contract/serde';
import { topicName } from '../contract/topics';
import { authEnv, createAuthenticator, mintToken } from '../platform/auth';
import { createLogger } from '../platform/log';
import { createProcessorMetrics } from '../processor/metrics';
import { startProcessor, type Processor } from '../processor/processor';
import { MemoryPartitionStore } from '../processor/store';
import { freePort, provisionPrefix, testKafka, uniquePrefix, waitFor } from '../../test/helpers';
import { startGateway, type Gateway } from '../gateway/service';
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
  let gateway: Gateway;
  let viewerToken: string;
  let strangerToken: string;

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
    const auth = createAuthenticator(authEnv.parse({ AUTH_JWT_SECRET: SECRET }));
    // The page needs the gateway's URL and the gateway the query service's (for socket subscriptions).
    const gatewayPort = await freePort();
    viewerToken = await mintToken(SECRET, 'viewer-ann');
    strangerToken = await mintToken(SECRET, 'stranger-bo');
    query = await startQueryService({
      kafka: testKafka('query'), serde, prefix, groupIdBase: `${prefix}query`, cfg, classes: DEFAULT_CHANNEL_CLASSES,
      auth, log, host: '127.0.0.1', port: 0,
      batchLimit: 1_000, gateCallers: [], snapshotCallers: ['gw-page'], keepAliveMs: 60_000,
      demoPage: { users: ['pat', 'quinn'], rooms: ['doc/1'], gatewayUrl: `ws://127.0.0.1:${gatewayPort}/v1/ws`, token: viewerToken, viewer: 'viewer-ann',
        contacts: { user: 'priv', stranger: 'stranger-bo', strangerToken } },
    });
    await query.startReplica();
    gateway = await startGateway({
      kafka: testKafka('gateway'), serde, prefix, cfg, auth, log, host: '127.0.0.1', port: gatewayPort, gatewayId: 'gw-page',
      coalesceWindowMs: 200, reconnectGraceMs: 0, maxFrameBytes: 4_096, pingIntervalMs: 60_000, maxRoomsPerSession: 5, publishTimeoutMs: 5_000, lingerMs: 2,
      subscriptions: { queryUrl: query.url, queryToken: await mintToken(SECRET, 'gw-page'), maxPerSocket: 10 },
    });
    await waitFor(() => processor.ready(), 'processor ready');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await query?.stop();
    await gateway?.stop();
    await producer?.disconnect();
    await processor?.stop();
  });

  // Every tab is a gateway session of the viewer: one a failed test left open would keep a device
  // alive in the next test, so each test's tabs are closed after it whatever its outcome.
  const openPages: Page[] = [];
  afterEach(async () => {
    await Promise.all(openPages.splice(0).map((p) => p.close()));
  });

  /** The demo page in a new tab, with the script errors it raises collected. */
  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    openPages.push(page);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(query.url);
    return { page, errors };
  }

  it("shows a user's dot turning Online, then Away, then Offline, and the room they joined", async () => {
    const { page, errors } = await openPage();
    const pat = page.locator('li[data-user-id="pat"]');
    await expectStatus(pat, 'Offline');
    await page.waitForSelector('#conn[data-state="open"]');
    // Away lasts 2 s between Online and Offline: on a loaded machine the test's own steps can take
    // longer, so the page records every status it shows and the sequence is checked at the end.
    // (A string: this project's types have no DOM.)
    await page.evaluate(`(() => {
      const shown = window.patShown = [];
      const record = () => {
        const s = document.querySelector('li[data-user-id="pat"]')?.getAttribute('data-status');
        if (s && shown[shown.length - 1] !== s) shown.push(s);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
    })()`);

    const hb: PresenceHeartbeat = { kind: 'heartbeat', userId: 'pat', deviceId: 'laptop', sessionId: 'tab1', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    const join: RoomEvent = { kind: 'join', roomKind: 'doc', roomId: '1', userId: 'pat', sessionId: 'tab1', observedAt: Date.now(), metadata: null, ephemeral: null, ephemeralTtlMs: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'pat', value: await serde.encode('heartbeat', hb) }] });
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/1', value: await serde.encode('room', join) }] });

    await expectStatus(pat, 'Online');
    await page.waitForSelector('.room[data-room="doc/1"] .members:text("pat")', { timeout: 10_000 });
    const typing: RoomEvent = { ...join, kind: 'ephemeral', observedAt: Date.now(), ephemeral: { state: 'typing', target: null }, ephemeralTtlMs: 3_000 };
    await producer.send({ topic: topicName('room', prefix), messages: [{ key: 'doc/1', value: await serde.encode('room', typing) }] });
    await page.waitForSelector('.room[data-room="doc/1"] .members:text("pat ✎ typing…")', { timeout: 10_000 });
    await expectStatus(pat, 'Offline');
    expect(await page.evaluate('window.patShown')).toEqual(['Offline', 'Online', 'Away', 'Offline']);
    expect(await page.locator('li[data-user-id="quinn"]').getAttribute('data-status')).toBe('Offline');
    expect(await page.textContent('#count-Offline')).toBe('2');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the page is a session of its viewer through the gateway: idle turns Away, a mouse move Online, activities, DND, closing ends the session', async () => {
    const { page, errors } = await openPage();
    const you = page.locator('#you-list li[data-user-id="viewer-ann"]');
    await page.waitForSelector('#gw-conn[data-state="open"]');
    await expectStatus(you, 'Online');
    // The tab follows the first users over its own socket (subscribe frames): quinn comes online there.
    await page.waitForSelector('#following li[data-follow-id="quinn"][data-status="Offline"]', { timeout: 10_000 });
    const beat: PresenceHeartbeat = { kind: 'heartbeat', userId: 'quinn', deviceId: 'q-laptop', sessionId: 'q1', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
    await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'quinn', value: await serde.encode('heartbeat', beat) }] });
    await page.waitForSelector('#following li[data-follow-id="quinn"][data-status="Online"]', { timeout: 10_000 });
    // An integration says quinn is in a call: the grid (SSE) and the followed row (socket) show Busy and why.
    const call: PresenceOverride = {
      kind: 'activity', userId: 'quinn', eventId: 'q-call', setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: null, lastSeenPrivacy: null,
      activity: { activity: 'InACall', source: 'callSystem', customText: null, emoji: '📞', expiresAt: Date.now() + 60_000 }, actor: null, reason: null,
    };
    await producer.send({ topic: topicName('override', prefix), messages: [{ key: 'quinn', value: await serde.encode('override', call) }] });
    await page.waitForSelector('li[data-user-id="quinn"][data-status="Busy"][data-activity="InACall"]', { timeout: 10_000 });
    expect(await page.textContent('li[data-user-id="quinn"] small')).toBe('busy · 📞 in a call (call)');
    await page.waitForSelector('#following li[data-follow-id="quinn"][data-status="Busy"]', { timeout: 10_000 });
    expect(await page.textContent('#following li[data-follow-id="quinn"] .status')).toBe('Busy · 📞 in a call (call)');
    await expectStatus(you, 'Away'); // nobody touches the page: idle past awayAfterMs (2 s)
    await page.mouse.move(40, 40);
    await page.mouse.move(80, 90);
    await expectStatus(you, 'Online');
    // Presenting (this tab's own activity, source manual) folds into Do Not Disturb; stopping it, back to Online.
    await page.click('#present');
    await expectStatus(you, 'DoNotDisturb');
    await you.and(page.locator('[data-activity="Presenting"]')).waitFor({ timeout: 10_000 });
    expect(await you.locator('small').textContent()).toContain('📽️ presenting Demo');
    await page.click('#present');
    await expectStatus(you, 'Online');
    expect(await you.getAttribute('data-activity')).toBe('');
    await page.click('#dnd');
    await expectStatus(you, 'DoNotDisturb');
    await page.click('#join');
    await page.waitForSelector('.room[data-room="doc/1"] .members:text("viewer-ann")', { timeout: 10_000 });
    expect(errors).toEqual([]);

    await page.close(); // the socket closes: the gateway ends the session at once
    const headers = { authorization: `Bearer ${viewerToken}` };
    const status = async () => ((await (await fetch(`${query.url}/v1/users/viewer-ann/presence`, { headers })).json()) as { status: string; devices: unknown[] });
    // DND still wins over the session count, so look at the devices: none left.
    await waitFor(async () => (await status()).devices.length === 0, 'the page session ended', 15_000);
    expect((await status()).status).toBe('DoNotDisturb');
    const room = async () => ((await (await fetch(`${query.url}/v1/rooms/doc/1`, { headers })).json()) as { members: Array<{ userId: string }> });
    await waitFor(async () => !(await room()).members.some((m) => m.userId === 'viewer-ann'), 'the page session leaving doc/1', 15_000);
  });

  it('shows a contacts-only user Online to the viewer in their list and Offline to a stranger', async () => {
    const beat = async () => {
      const hb: PresenceHeartbeat = { kind: 'heartbeat', userId: 'priv', deviceId: 'laptop', sessionId: 'p1', platform: 'web', observedAt: Date.now(), idleMs: 0, gatewayId: null };
      await producer.send({ topic: topicName('heartbeat', prefix), messages: [{ key: 'priv', value: await serde.encode('heartbeat', hb) }] });
    };
    await beat();
    const keepAlive = setInterval(() => void beat(), 1_000);
    try {
      const v: PresenceOverride = { kind: 'visibility', userId: 'priv', eventId: 'pv', setAt: Date.now(), status: null, customText: null, expiresAt: null, visibility: 'contacts', lastSeenPrivacy: null, activity: null, actor: null, reason: null };
      await producer.send({ topic: topicName('override', prefix), messages: [{ key: 'priv', value: await serde.encode('override', v) }] });
      await producer.send({ topic: topicName('contacts', prefix), messages: [{ key: contactKey('priv', 'viewer-ann'), value: await serde.encode('contacts', { owner: 'priv', contact: 'viewer-ann', addedAt: Date.now() }) }] });
      const { page, errors } = await openPage();
      await page.waitForSelector('#contacts:not([hidden])');
      await expectStatus(page.locator('#contacts-as-viewer'), 'Online');
      await waitFor(async () => (await page.locator('#contacts-as-viewer small').textContent())?.includes('1 device'), 'the contact sees the device');
      await expectStatus(page.locator('#contacts-as-stranger'), 'Offline');
      expect(await page.locator('#contacts-as-stranger small').textContent()).toContain('0 devices');
      expect(errors).toEqual([]);
    } finally {
      clearInterval(keepAlive);
    }
  });
});

async function expectStatus(row: import('playwright-core').Locator, status: string): Promise<void> {
  await row.and(row.page().locator(`[data-status="${status}"]`)).waitFor({ timeout: 10_000 });
}
