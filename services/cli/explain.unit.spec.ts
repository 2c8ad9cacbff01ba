import { detailedCode, explainDeadLetter } from './explain';

describe('explainDeadLetter', () => {
  it('explains each serde code', () => {
    expect(explainDeadLetter('undecodable', null, 'not a schema-registry framed Avro value (3 bytes)')).toMatch(/^the value is not Avro in the schema-registry wire format/);
    expect(explainDeadLetter('unknown-schema', null, 'schema id 9999 is unknown to the registry')).toContain('schema id the registry does not know');
    expect(explainDeadLetter('wrong-schema', null, 'schema id 3 is presence.v1.PresenceHeartbeat')).toContain("another topic's schema");
  });

  it('explains a rejection by the rule in its reason, naming the field', () => {
    expect(explainDeadLetter('rejected', 'userId', 'too-long: must be at most 256 characters'))
      .toBe('the record decoded, but its content broke a rule of the presence core (ids, sizes, ranges, keys): an id or text is longer than the limit (PRESENCE_* config, maxIdLength and maxCustomTextLength) (field userId)');
    expect(explainDeadLetter('rejected', 'key', 'not-allowed: record key "x" does not match userId')).toContain('the record key does not match');
    expect(explainDeadLetter('rejected', 'channel', "unknown-channel: unknown channel 'email'")).toContain('GATE_CHANNEL_CLASSES');
  });

  it('says so for a code it does not know', () => {
    expect(explainDeadLetter('brand-new', null, 'x')).toBe('code "brand-new" is not one this CLI knows; read the reason');
  });
});

describe('detailedCode', () => {
  it('adds the rule to rejected, and leaves other codes alone', () => {
    expect(detailedCode('rejected', 'empty: must not be empty or blank')).toBe('rejected/empty');
    expect(detailedCode('rejected', 'something else')).toBe('rejected');
    expect(detailedCode('undecodable', 'too-long: x')).toBe('undecodable');
  });
});
