import { decodeJwt } from 'jose';
import { ConfigError } from '../platform/config';
import { loadCliConfig, queryToken } from './config';

describe('CLI configuration', () => {
  it('defaults to the local services, and names a bad variable', () => {
    const { env } = loadCliConfig({});
    expect(env).toMatchObject({ KAFKA_BROKERS: ['127.0.0.1:9092'], QUERY_URL: 'http://127.0.0.1:9302', TOPIC_PREFIX: '', CLI_SUBJECT: 'presence-cli', CLI_TIMEOUT_MS: 10_000, LOG_LEVEL: 'silent' });
    expect(loadCliConfig({ QUERY_URL: 'http://q:1/' }).env.QUERY_URL).toBe('http://q:1');
    expect(() => loadCliConfig({ QUERY_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => loadCliConfig({ CLI_TIMEOUT_MS: '5' })).toThrow(/CLI_TIMEOUT_MS/);
    expect(() => loadCliConfig({ KAFKA_BROKERS: 'nohost' })).toThrow(/KAFKA_BROKERS/);
  });

  it('uses QUERY_TOKEN as it is, else mints one for CLI_SUBJECT, else says what to set', async () => {
    expect(await queryToken(loadCliConfig({ QUERY_TOKEN: 'abc', AUTH_JWT_SECRET: 'x'.repeat(32) }).env)).toBe('abc');
    expect(decodeJwt(await queryToken(loadCliConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), CLI_SUBJECT: 'ops' }).env)).sub).toBe('ops');
    expect(decodeJwt(await queryToken(loadCliConfig({ AUTH_INSECURE_DEV: '1' }).env)).sub).toBe('presence-cli');
    await expect(queryToken(loadCliConfig({}).env)).rejects.toThrow(/^QUERY_TOKEN: required/);
  });
});
