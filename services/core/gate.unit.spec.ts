import type { EffectiveStatus } from './events';
import { DEFAULT_CONFIG } from './config';
import { DEFAULT_CHANNEL_CLASSES, decisionTargets, gateDecision, gateStatus, validateChannelClasses } from './gate';
import type { GateAudience, GateReason } from './gate';
import type { UserView } from './user';

const PUSH = ['websocket', 'sse', 'web-push', 'mobile-push'];
const STORE = ['in-app', 'email', 'sms', 'chat'];

describe('gateDecision', () => {
  const table: readonly [EffectiveStatus, boolean, boolean, boolean, GateReason][] = [
    // status, bypassDoNotDisturb, known → deliver, reason (push channels)
    ['Online', false, true, true, 'online'],
    ['Away', false, true, true, 'away'],
    ['Busy', false, true, true, 'busy'],
    ['DoNotDisturb', false, true, false, 'suppressed-dnd'],
    ['DoNotDisturb', true, true, true, 'bypassed-dnd'],
    ['Offline', false, true, false, 'suppressed-offline'],
    ['Offline', true, true, false, 'suppressed-offline'],
    ['Online', false, false, false, 'unknown-user-offline'],
    ['Online', true, false, false, 'unknown-user-offline'],
  ];
  for (const channel of PUSH) {
    it.each(table)(`${channel}: %s bypass=%s known=%s → deliver=%s (%s)`, (status, bypassDoNotDisturb, known, deliver, reason) => {
      expect(gateDecision({ status, channel, bypassDoNotDisturb, known })).toEqual({ ok: true, decision: { deliver, reason } });
    });
  }
  for (const channel of STORE) {
    it.each(table)(`${channel}: %s bypass=%s known=%s → always delivered`, (status, bypassDoNotDisturb, known) => {
      expect(gateDecision({ status, channel, bypassDoNotDisturb, known })).toEqual({
        ok: true,
        decision: { deliver: true, reason: 'store-and-forward' },
      });
    });
  }
  it('rejects an unknown channel with a typed rejection', () => {
    expect(gateDecision({ status: 'Online', channel: 'pigeon', bypassDoNotDisturb: false, known: true })).toEqual({
      ok: false,
      rejection: { code: 'unknown-channel', field: 'channel', reason: "unknown channel 'pigeon'" },
    });
  });
  it('uses configured classes', () => {
    const classes = { push: ['pager'], storeAndForward: [] };
    expect(gateDecision({ status: 'DoNotDisturb', channel: 'pager', bypassDoNotDisturb: false, known: true }, classes)).toMatchObject({
      decision: { deliver: false },
    });
    expect(gateDecision({ status: 'Online', channel: 'email', bypassDoNotDisturb: false, known: true }, classes).ok).toBe(false);
  });
  it('throws only for a status the compiler rules out', () => {
    expect(() =>
      gateDecision({ status: 'Sleeping' as unknown as EffectiveStatus, channel: 'sse', bypassDoNotDisturb: false, known: true }),
    ).toThrow('unreachable');
  });
});

describe('validateChannelClasses', () => {
  it('accepts the defaults', () => {
    expect(validateChannelClasses(DEFAULT_CHANNEL_CLASSES)).toEqual({ ok: true, classes: { push: PUSH, storeAndForward: STORE } });
  });
  it.each([
    ['a channel in both classes', { push: ['email', 'sse'], storeAndForward: ['email'] }, 'storeAndForward', 'both classes: email'],
    ['a duplicate', { push: ['sse', 'sse'], storeAndForward: [] }, 'push', 'twice'],
    ['not a list', { push: 'sse', storeAndForward: [] }, 'push', 'list'],
    ['an empty name', { push: [], storeAndForward: [''] }, 'storeAndForward', 'list'],
    ['missing lists', null, 'push', 'list'],
  ])('rejects %s', (_name, input, field, reason) => {
    const r = validateChannelClasses(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.issues).toEqual(expect.arrayContaining([expect.objectContaining({ field, reason: expect.stringContaining(reason) })]));
  });
});

describe('gateStatus', () => {
  const T = 1_000_000;
  const online = (visibility: 'everyone' | 'nobody'): UserView => ({
    userId: 'u', status: 'Online', statusSince: T - 5_000, lastSeen: T, lastActive: T, override: null, visibility, lastSeenPrivacy: 'exact',
    devices: [{ deviceId: 'd', sessionId: 's', platform: 'web', gatewayId: null, active: true }], version: 3, emittedAt: T,
  });
  it.each<[string, UserView | undefined, GateAudience, EffectiveStatus]>([
    ['no snapshot: Offline for anyone', undefined, 'trusted', 'Offline'],
    ['visible and online, to others', online('everyone'), 'others', 'Online'],
    ['invisible and online, to the pipeline', online('nobody'), 'trusted', 'Online'],
    ['invisible and online, to others: Offline', online('nobody'), 'others', 'Offline'],
  ])('%s', (_name, view, audience, status) => {
    expect(gateStatus(view, T + 1, DEFAULT_CONFIG, audience)).toBe(status);
  });
  it('recomputes from the clock, never trusting the stored status', () => {
    expect(gateStatus(online('everyone'), T + DEFAULT_CONFIG.offlineAfterMs + 1, DEFAULT_CONFIG, 'trusted')).toBe('Offline');
  });
});

describe('decisionTargets', () => {
  const T = 1_000_000;
  const routed: UserView = {
    userId: 'u', status: 'Online', statusSince: T - 5_000, lastSeen: T, lastActive: T, override: null, visibility: 'nobody', lastSeenPrivacy: 'exact',
    devices: [
      { deviceId: 'a', sessionId: 's', platform: 'web', gatewayId: 'gw-2', active: false },
      { deviceId: 'b', sessionId: 's', platform: 'ios', gatewayId: 'gw-3', active: true },
      { deviceId: 'c', sessionId: 's', platform: 'web', gatewayId: null, active: true },
    ],
    version: 3, emittedAt: T,
  };
  const deliver = { deliver: true, reason: 'online' } as const;
  it.each<[string, string, { deliver: boolean; reason: GateReason }, UserView | undefined, number, string[] | null]>([
    // what, channel, decision, view, now → targets
    ['a push that delivers: active gateways first, unknown ones left out', 'mobile-push', deliver, routed, T + 1, ['gw-3', 'gw-2']],
    ['a suppressed push: nothing to route', 'mobile-push', { deliver: false, reason: 'suppressed-dnd' }, routed, T + 1, null],
    ['store-and-forward: not routed by presence', 'email', { deliver: true, reason: 'store-and-forward' }, routed, T + 1, null],
    ['the devices\' lease ran out: none (offline delivery)', 'web-push', { deliver: true, reason: 'busy' }, routed, T + DEFAULT_CONFIG.offlineAfterMs, []],
    ['no snapshot: none', 'sse', deliver, undefined, T, []],
  ])('%s', (_what, channel, decision, view, now, targets) => {
    expect(decisionTargets(channel, decision, view, now, DEFAULT_CONFIG)).toEqual(targets);
  });
});
