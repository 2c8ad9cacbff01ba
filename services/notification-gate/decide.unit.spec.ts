import { DEFAULT_CHANNEL_CLASSES, DEFAULT_CONFIG, type ChannelClasses, type EffectiveStatus, type UserView } from '../core';
import type { NotificationRequest } from '../contract/avro-types';
import { deadLetter, decideRequest, SERVICE } from './decide';

const cfg = DEFAULT_CONFIG;
const NOW = 1_700_000_000_000;

/** A snapshot view as the processor would have emitted it some time before NOW. */
function view(p: Partial<UserView> = {}): UserView {
  return {
    userId: 'u1', status: 'Online', statusSince: NOW - 60_000, lastSeen: NOW - 1_000, lastActive: NOW - 1_000,
    override: null, visibility: 'everyone', lastSeenPrivacy: 'exact',
    devices: [{ deviceId: 'd1', sessionId: 's1', platform: 'web', gatewayId: 'gw-a', active: true }], version: 3, emittedAt: NOW - 1_000,
    ...p,
  };
}
const dnd = (expiresAt: number | null = null) => ({ status: 'DoNotDisturb' as const, customText: null, expiresAt });

const VIEWS: Record<string, UserView | undefined> = {
  online: view(),
  away: view({ lastActive: NOW - cfg.awayAfterMs }),
  busy: view({ override: { status: 'Busy', customText: 'meeting', expiresAt: null } }),
  dnd: view({ status: 'DoNotDisturb', override: dnd() }),
  'dnd without devices': view({ status: 'DoNotDisturb', override: dnd(), devices: [] }),
  'dnd expired': view({ status: 'DoNotDisturb', override: dnd(NOW) }),
  'appear offline': view({ override: { status: 'AppearOffline', customText: null, expiresAt: null } }),
  'invisible but online': view({ visibility: 'nobody' }),
  // The snapshot still says Online, but its lease ran out: the gate recomputes Offline.
  'stale online': view({ lastSeen: NOW - cfg.offlineAfterMs, lastActive: NOW - cfg.offlineAfterMs }),
  'no devices': view({ status: 'Offline', devices: [] }),
  unknown: undefined,
};

const request = (p: Partial<NotificationRequest> = {}): NotificationRequest => ({
  requestId: 'r1', userId: 'u1', channel: 'mobile-push', bypassDoNotDisturb: false, requestedAt: NOW - 5, ...p,
});

describe('decideRequest: push channels', () => {
  const A = ['gw-a'];
  const table: readonly [string, boolean, EffectiveStatus, boolean, string, string[] | null][] = [
    // view, bypassDoNotDisturb → status seen, deliver, reason, target gateways (null when not delivered)
    ['online', false, 'Online', true, 'online', A],
    ['away', false, 'Away', true, 'away', A],
    ['busy', false, 'Busy', true, 'busy', A],
    ['dnd', false, 'DoNotDisturb', false, 'suppressed-dnd', null],
    ['dnd', true, 'DoNotDisturb', true, 'bypassed-dnd', A],
    ['dnd without devices', false, 'DoNotDisturb', false, 'suppressed-dnd', null],
    ['dnd without devices', true, 'DoNotDisturb', true, 'bypassed-dnd', []],
    ['dnd expired', false, 'Online', true, 'online', A],
    ['appear offline', false, 'Offline', false, 'suppressed-offline', null],
    ['appear offline', true, 'Offline', false, 'suppressed-offline', null],
    ['invisible but online', false, 'Online', true, 'online', A],
    ['stale online', false, 'Offline', false, 'suppressed-offline', null],
    ['no devices', true, 'Offline', false, 'suppressed-offline', null],
    ['unknown', false, 'Offline', false, 'unknown-user-offline', null],
    ['unknown', true, 'Offline', false, 'unknown-user-offline', null],
  ];
  for (const channel of DEFAULT_CHANNEL_CLASSES.push) {
    it.each(table)(`${channel}, %s, bypass=%s → %s, deliver=%s (%s), targets %j`, (name, bypassDoNotDisturb, status, deliver, reason, targetGateways) => {
      const req = request({ channel, bypassDoNotDisturb });
      expect(decideRequest(req, VIEWS[name], NOW, cfg, DEFAULT_CHANNEL_CLASSES)).toEqual({
        ok: true,
        decision: {
          requestId: 'r1', userId: 'u1', channel, deliver, reason, status,
          userKnown: name !== 'unknown', decidedAt: NOW, targetGateways,
        },
      });
    });
  }
});

describe('decideRequest: the target gateways of a push that goes out', () => {
  const d = (deviceId: string, gatewayId: string | null, active: boolean) => ({ deviceId, sessionId: 's', platform: 'web' as const, gatewayId, active });
  const table: readonly [string, UserView['devices'], string[]][] = [
    // the snapshot's devices → target gateways
    ['one active session', [d('a', 'gw-1', true)], ['gw-1']],
    ['active gateways first, then idle ones, each by id', [d('a', 'gw-3', false), d('b', 'gw-2', true), d('c', 'gw-1', false), d('e', 'gw-4', true)], ['gw-2', 'gw-4', 'gw-1', 'gw-3']],
    ['a gateway with an active and an idle session: once, as active', [d('a', 'gw-1', false), d('b', 'gw-1', true), d('c', 'gw-0', false)], ['gw-1', 'gw-0']],
    ['sessions of unknown gateway are left out', [d('a', null, true), d('b', 'gw-1', false)], ['gw-1']],
    ['only unknown gateways: nothing to route to', [d('a', null, true)], []],
    ['all idle', [d('a', 'gw-2', false), d('b', 'gw-1', false)], ['gw-1', 'gw-2']],
  ];
  it.each(table)('%s', (_name, devices, targets) => {
    const outcome = decideRequest(request({ channel: 'web-push' }), view({ devices }), NOW, cfg, DEFAULT_CHANNEL_CLASSES);
    expect(outcome.ok && outcome.decision).toMatchObject({ deliver: true, reason: 'online', targetGateways: targets });
  });
  it('a snapshot whose devices\' lease ran out routes nowhere, even where Busy still delivers', () => {
    const busy = view({ override: { status: 'Busy', customText: null, expiresAt: null }, lastSeen: NOW - cfg.offlineAfterMs });
    const outcome = decideRequest(request(), busy, NOW, cfg, DEFAULT_CHANNEL_CLASSES);
    expect(outcome.ok && outcome.decision).toMatchObject({ deliver: true, reason: 'busy', targetGateways: [] });
  });
});

describe('decideRequest: store-and-forward channels always deliver, with the status seen', () => {
  const table: readonly [string, EffectiveStatus][] = [
    ['online', 'Online'], ['dnd', 'DoNotDisturb'], ['appear offline', 'Offline'], ['stale online', 'Offline'], ['unknown', 'Offline'],
  ];
  for (const channel of DEFAULT_CHANNEL_CLASSES.storeAndForward) {
    it.each(table)(`${channel}, %s → %s`, (name, status) => {
      const outcome = decideRequest(request({ channel }), VIEWS[name], NOW, cfg, DEFAULT_CHANNEL_CLASSES);
      expect(outcome).toEqual({
        ok: true,
        decision: expect.objectContaining({ deliver: true, reason: 'store-and-forward', status, userKnown: name !== 'unknown', targetGateways: null }),
      });
    });
  }
});

describe('decideRequest: bad requests are rejections for the DLQ', () => {
  const long = 'x'.repeat(cfg.maxIdLength + 1);
  const table: readonly [string, Partial<NotificationRequest>, string, string][] = [
    // what, request fields → field, reason
    ['empty requestId', { requestId: '' }, 'requestId', 'empty: must not be empty or blank'],
    ['blank userId', { userId: '  ' }, 'userId', 'empty: must not be empty or blank'],
    ['oversize requestId', { requestId: long }, 'requestId', `too-long: must be at most ${cfg.maxIdLength} characters`],
    ['oversize userId', { userId: long }, 'userId', `too-long: must be at most ${cfg.maxIdLength} characters`],
    ['control character in userId', { userId: 'u\u0000' }, 'userId', 'invalid-character: must not contain control characters'],
    ['empty channel', { channel: '' }, 'channel', 'empty: must not be empty or blank'],
    ['oversize channel', { channel: long }, 'channel', `too-long: must be at most ${cfg.maxIdLength} characters`],
    ['unknown channel', { channel: 'pigeon' }, 'channel', "unknown-channel: unknown channel 'pigeon'"],
    ['channel in the wrong case', { channel: 'Email' }, 'channel', "unknown-channel: unknown channel 'Email'"],
    ['unknown channel with bypass', { channel: 'pigeon', bypassDoNotDisturb: true }, 'channel', "unknown-channel: unknown channel 'pigeon'"],
  ];
  it.each(table)('%s', (_what, fields, field, reason) => {
    for (const v of [VIEWS['online'], undefined]) {
      expect(decideRequest(request(fields), v, NOW, cfg, DEFAULT_CHANNEL_CLASSES)).toEqual({ ok: false, rejection: { code: 'rejected', field, reason } });
    }
  });

  it('ids exactly at the limit are accepted', () => {
    const id = 'y'.repeat(cfg.maxIdLength);
    expect(decideRequest(request({ requestId: id, userId: id }), undefined, NOW, cfg, DEFAULT_CHANNEL_CLASSES).ok).toBe(true);
  });
});

describe('decideRequest: configured channel classes', () => {
  const classes: ChannelClasses = { push: ['pager-push'], storeAndForward: ['letter'] };
  it.each([
    ['pager-push', true, 'suppressed-dnd'],
    ['letter', true, 'store-and-forward'],
    ['mobile-push', false, "unknown-channel: unknown channel 'mobile-push'"],
    ['email', false, "unknown-channel: unknown channel 'email'"],
  ] as const)('%s under custom classes', (channel, ok, reason) => {
    const outcome = decideRequest(request({ channel }), VIEWS['dnd'], NOW, cfg, classes);
    if (ok) expect(outcome).toEqual({ ok: true, decision: expect.objectContaining({ reason }) });
    else expect(outcome).toEqual({ ok: false, rejection: { code: 'rejected', field: 'channel', reason } });
  });
});

describe('decideRequest is pure', () => {
  it('the same inputs give the same outcome and the inputs are not changed', () => {
    const v = VIEWS['dnd'] as UserView;
    const before = JSON.stringify(v);
    const a = decideRequest(request(), v, NOW, cfg, DEFAULT_CHANNEL_CLASSES);
    const b = decideRequest(request(), v, NOW, cfg, DEFAULT_CHANNEL_CLASSES);
    expect(a).toEqual(b);
    expect(JSON.stringify(v)).toBe(before);
  });
  it('decides with the clock it is given, not the time of the request', () => {
    const v = view({ override: dnd(NOW + 10) });
    expect(decideRequest(request(), v, NOW + 9, cfg, DEFAULT_CHANNEL_CLASSES)).toMatchObject({ decision: { reason: 'suppressed-dnd', decidedAt: NOW + 9 } });
    expect(decideRequest(request(), v, NOW + 10, cfg, DEFAULT_CHANNEL_CLASSES)).toMatchObject({ decision: { reason: 'online', decidedAt: NOW + 10 } });
  });
});

describe('deadLetter', () => {
  it('keeps where the record came from, its bytes and the reason, like the processor', () => {
    const key = Buffer.from('u1');
    const value = Buffer.from([1, 2, 3]);
    const d = deadLetter({ topic: 'notification.request.v1', partition: 2, offset: '41', key, value }, { code: 'undecodable', field: null, reason: 'not framed' }, NOW);
    expect(d).toEqual({
      sourceTopic: 'notification.request.v1', sourcePartition: 2, sourceOffset: 41, key, value,
      errorCode: 'undecodable', field: null, reason: 'not framed', service: SERVICE, failedAt: NOW,
    });
    expect(d.value).not.toBe(value); // a copy: kafkajs may reuse the fetch buffer
  });
  it('a record without key or value keeps nulls', () => {
    const d = deadLetter({ topic: 't', partition: 0, offset: '0', key: null, value: null }, { code: 'rejected', field: 'channel', reason: 'x' }, NOW);
    expect([d.key, d.value, d.field]).toEqual([null, null, 'channel']);
  });
});

describe('decideRequest with the processor watermark of the recipient partition', () => {
  // Emitted long ago; its lastSeen lease ran out, but the processor says its partition is current.
  const held = view({ lastSeen: NOW - 600_000, lastActive: NOW - 600_000 + 1, emittedAt: NOW - 600_000 });
  it('a current watermark keeps a continuously online user deliverable', () => {
    expect(decideRequest(request(), held, NOW, cfg, DEFAULT_CHANNEL_CLASSES, NOW - 1_000)).toMatchObject({ ok: true, decision: { deliver: true, status: 'Online' } });
  });
  it('without one, or once it stalled for longer than the grace, the lease rule says Offline', () => {
    expect(decideRequest(request(), held, NOW, cfg, DEFAULT_CHANNEL_CLASSES)).toMatchObject({ ok: true, decision: { deliver: false, status: 'Offline' } });
    expect(decideRequest(request(), held, NOW, cfg, DEFAULT_CHANNEL_CLASSES, NOW - cfg.watermarkGraceMs)).toMatchObject({ ok: true, decision: { deliver: false, status: 'Offline' } });
  });
});
