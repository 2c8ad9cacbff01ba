import { ConfigError } from '../platform/config';
import { loadGatewayConfig } from './config';

const base = { AUTH_JWT_SECRET: 'x'.repeat(32) };

describe('gateway config', () => {
  it('has documented defaults', () => {
    const { env, presence, gatewayId } = loadGatewayConfig(base);
    expect(env).toMatchObject({
      GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: 9304, GATEWAY_COALESCE_MS: 1_000, GATEWAY_RECONNECT_GRACE_MS: 5_000,
      GATEWAY_MAX_FRAME_BYTES: 8_192, GATEWAY_PING_INTERVAL_MS: 20_000, GATEWAY_MAX_ROOMS_PER_SESSION: 50,
      GATEWAY_PUBLISH_TIMEOUT_MS: 5_000, GATEWAY_LINGER_MS: 5, GATEWAY_COMMANDS_PER_SECOND: 5, GATEWAY_COMMAND_BURST: 20,
      GATEWAY_LEASE_MS: 10_000,
    });
    expect(presence.heartbeatIntervalMs).toBe(15_000);
    expect(gatewayId.length).toBeGreaterThan(0);
  });

  it.each<[Record<string, string>, string]>([
    [{ GATEWAY_PORT: 'eighty' }, 'GATEWAY_PORT'],
    [{ GATEWAY_MAX_FRAME_BYTES: '10' }, 'GATEWAY_MAX_FRAME_BYTES'],
    [{ GATEWAY_COALESCE_MS: '15000' }, 'GATEWAY_COALESCE_MS: must be less than the heartbeat interval'],
    [{ PRESENCE_HEARTBEAT_INTERVAL_MS: '2000', PRESENCE_REFRESH_LEAD_MS: '2000', GATEWAY_COALESCE_MS: '2000' }, 'GATEWAY_COALESCE_MS'],
    [{ GATEWAY_RECONNECT_GRACE_MS: '45000' }, 'GATEWAY_RECONNECT_GRACE_MS: must be less than the offline threshold'],
    [{ GATEWAY_LEASE_MS: '500' }, 'GATEWAY_LEASE_MS: must be 0 (no lease) or at least 1000'],
    [{ GATEWAY_LEASE_MS: '45000' }, 'GATEWAY_LEASE_MS: must be 0 (no lease) or at least 1000 and less than the offline threshold'],
    [{ GATEWAY_LEASE_MS: 'soon' }, 'GATEWAY_LEASE_MS'],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadGatewayConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...base, ...env })).toThrow(message);
  });

  it('accepts GATEWAY_LEASE_MS=0 (no lease) and a lease below the offline threshold', () => {
    expect(loadGatewayConfig({ ...base, GATEWAY_LEASE_MS: '0' }).env.GATEWAY_LEASE_MS).toBe(0);
    expect(loadGatewayConfig({ ...base, GATEWAY_LEASE_MS: '3000' }).env.GATEWAY_LEASE_MS).toBe(3_000);
  });

});
