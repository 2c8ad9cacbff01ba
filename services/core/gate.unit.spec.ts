import type { EffectiveStatus } from './events';
import { DEFAULT_CHANNEL_CLASSES, gateDecision, validateChannelClasses } from './gate';
import type { GateReason } from './gate';

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
