import { envFlag, kafkaEnv, mergeConnection, parseConnectionFile, parseEnv } from './config';

const FILE = 'KAFKA_BROKERS=127.0.0.1:29092,127.0.0.1:29094\nSCHEMA_REGISTRY_URL=http://127.0.0.1:28081/apis/ccompat/v7\n# comment\nTOPIC_REPLICATION_FACTOR=3\nOTHER=ignored\n';

describe('connection.env (what make up started)', () => {
  it('is KEY=VALUE lines of the connection variables only', () => {
    expect(parseConnectionFile(FILE)).toEqual({
      KAFKA_BROKERS: '127.0.0.1:29092,127.0.0.1:29094', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:28081/apis/ccompat/v7', TOPIC_REPLICATION_FACTOR: '3',
    });
  });
  it('supplies what the environment does not set; the environment wins', () => {
    const env = parseEnv(kafkaEnv, mergeConnection({ SCHEMA_REGISTRY_URL: 'http://elsewhere:8081/apis/ccompat/v7' }, FILE));
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:29092', '127.0.0.1:29094']);
    expect(env.SCHEMA_REGISTRY_URL).toBe('http://elsewhere:8081/apis/ccompat/v7');
    expect(env.TOPIC_REPLICATION_FACTOR).toBe(3);
  });
  it('without a file the built-in defaults apply', () => {
    const env = parseEnv(kafkaEnv, mergeConnection({}, null));
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(env.TOPIC_REPLICATION_FACTOR).toBe(1);
  });
});

describe('envFlag', () => {
  it.each<[string | undefined, boolean, boolean]>([
    [undefined, true, true], [undefined, false, false], ['', true, true], ['', false, false],
    ['1', false, true], ['true', false, true], ['0', true, false], ['false', true, false],
  ])('%p with default %p reads as %p', (value, dflt, expected) => {
    expect(envFlag(dflt).parse(value)).toBe(expected);
  });

  it('refuses anything else', () => {
    expect(envFlag(true).safeParse('yes').success).toBe(false);
  });
});
