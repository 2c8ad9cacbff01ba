import { DEFAULT_CHANNEL_CLASSES, DEFAULT_CONFIG } from '../core';
import { ConfigError } from '../platform/config';
import { loadGateConfig } from './config';

describe('loadGateConfig', () => {
  it('defaults: group, port, the core channel classes and thresholds', () => {
    const c = loadGateConfig({});
    expect(c.env.GATE_GROUP_ID).toBe('presence-notification-gate');
    expect(c.env.GATE_HTTP_PORT).toBe(9303);
    expect(c.env.GATE_SESSION_TIMEOUT_MS).toBe(30_000);
    expect(c.classes).toEqual(DEFAULT_CHANNEL_CLASSES);
    expect(c.presence).toEqual(DEFAULT_CONFIG);
  });

  it('reads configured channel classes and thresholds', () => {
    const c = loadGateConfig({
      GATE_CHANNEL_CLASSES: '{"push":["mobile-push","pager"],"storeAndForward":["email"]}',
      GATE_GROUP_ID: 'g', GATE_HTTP_PORT: '0', PRESENCE_OFFLINE_AFTER_MS: '60000',
    });
    expect(c.classes).toEqual({ push: ['mobile-push', 'pager'], storeAndForward: ['email'] });
    expect(c.env.GATE_GROUP_ID).toBe('g');
    expect(c.env.GATE_HTTP_PORT).toBe(0);
    expect(c.presence.offlineAfterMs).toBe(60_000);
  });

  it.each([
    ['not JSON', { GATE_CHANNEL_CLASSES: '{push' }, /GATE_CHANNEL_CLASSES: not JSON/],
    ['a channel in both classes', { GATE_CHANNEL_CLASSES: '{"push":["email"],"storeAndForward":["email"]}' }, /GATE_CHANNEL_CLASSES.storeAndForward: channels in both classes: email/],
    ['a missing class', { GATE_CHANNEL_CLASSES: '{"push":["sse"]}' }, /GATE_CHANNEL_CLASSES.storeAndForward: must be a list/],
    ['a bad port', { GATE_HTTP_PORT: '70000' }, /GATE_HTTP_PORT/],
    ['an empty group id', { GATE_GROUP_ID: '' }, /GATE_GROUP_ID/],
    ['a session timeout below the broker minimum', { GATE_SESSION_TIMEOUT_MS: '1000' }, /GATE_SESSION_TIMEOUT_MS/],
    ['contradictory thresholds', { PRESENCE_HEARTBEAT_INTERVAL_MS: '50000', PRESENCE_OFFLINE_AFTER_MS: '45000' }, /offlineAfterMs/],
  ])('refuses %s, naming it', (_what, env, message) => {
    expect(() => loadGateConfig(env)).toThrow(ConfigError);
    expect(() => loadGateConfig(env)).toThrow(message);
  });
});
