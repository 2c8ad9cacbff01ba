import { parseCommand, usage } from './args';
import { UsageError } from './errors';

const refused = (argv: string[]): UsageError => {
  try {
    parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
};

describe('parseCommand', () => {
  it.each<[string, string[], unknown]>([
    ['history: the last day by default', ['history', 'ana'], { name: 'history', json: false, user: 'ana', window: { sinceMs: 86_400_000 } }],
    ['history --since', ['history', 'ana', '--since', '2h', '--json'], { name: 'history', json: true, user: 'ana', window: { sinceMs: 7_200_000 } }],
    ['history --from alone: up to now', ['history', 'ana', '--from', '2026-12-01T09:00:00Z'], { name: 'history', json: false, user: 'ana', window: { from: Date.parse('2026-12-01T09:00:00Z'), to: null } }],
    ['history --from --to in epoch ms', ['history', 'ana', '--from', '1000', '--to', '5000'], { name: 'history', json: false, user: 'ana', window: { from: 1_000, to: 5_000 } }],
  ])('%s', (_name, argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each<[string, string[], string]>([
    ['history without a user', ['history'], 'user'],
    ['history of a blank user', ['history', ' '], 'user'],
    ['two users', ['history', 'ana', 'bo'], 'history'],
    ['a bad duration', ['history', 'ana', '--since', '2'], '--since'],
    ['--since with --from', ['history', 'ana', '--since', '1h', '--from', '1000'], '--from'],
    ['--to without --from', ['history', 'ana', '--to', '1000'], '--to'],
    ['an instant that is not one', ['history', 'ana', '--from', 'yesterday'], '--from'],
    ['--to not after --from', ['history', 'ana', '--from', '5000', '--to', '5000'], '--to'],
  ])('history refuses %s, naming the argument', (_name, argv, argument) => {
    expect(refused(argv).argument).toBe(argument);
  });

  it('rebuild takes the target prefix and an optional source prefix', () => {
    expect(parseCommand(['rebuild', '--to-prefix', 'rebuilt.', '--json'])).toEqual({ name: 'rebuild', json: true, toPrefix: 'rebuilt.', fromPrefix: null });
    expect(parseCommand(['rebuild', '--to-prefix', 'b.', '--from-prefix', 'a.'])).toEqual({ name: 'rebuild', json: false, toPrefix: 'b.', fromPrefix: 'a.' });
    expect(parseCommand(['rebuild', '--to-prefix', 'b.', '--from-prefix', ''])).toMatchObject({ fromPrefix: '' });
  });

  it.each<[string[], string, RegExp]>([
    [['rebuild'], '--to-prefix', /missing: the prefix the rebuild writes into/],
    [['rebuild', '--to-prefix', 'a b'], '--to-prefix', /"a b" is not a topic prefix/],
    [['rebuild', '--to-prefix', 'b.', '--from-prefix', 'x/y'], '--from-prefix', /not a topic prefix/],
    [['rebuild', '--to-prefix', 'a.', '--from-prefix', 'a.'], '--to-prefix', /must differ from --from-prefix/],
    [['rebuild', '--to-prefix', 'a.', 'extra'], 'rebuild', /unexpected argument "extra"/],
  ])('rebuild refuses %j, naming %s', (argv, argument, message) => {
    const e = refused(argv);
    expect(e.argument).toBe(argument);
    expect(e.message).toMatch(message);
  });

  it('status takes one or more users', () => {
    expect(parseCommand(['status', 'ana', 'bo', '--json'])).toEqual({ name: 'status', json: true, users: ['ana', 'bo'] });
    expect(parseCommand(['status', 'ana'])).toEqual({ name: 'status', json: false, users: ['ana'] });
    expect(refused(['status']).argument).toBe('user');
    expect(refused(['status', ' ']).argument).toBe('user #1');
  });

  it('set maps the words to override statuses, with a duration and text', () => {
    expect(parseCommand(['set', 'ana', 'dnd', '--for', '1h', '--text', 'focus time'])).toEqual({
      name: 'set', json: false, user: 'ana', status: 'DoNotDisturb', forMs: 3_600_000, text: 'focus time', reason: null,
    });
    expect(parseCommand(['set', 'ana', 'dnd', '--reason', 'incident 42'])).toMatchObject({ reason: 'incident 42' });
    expect(parseCommand(['set', 'ana', 'BUSY'])).toMatchObject({ status: 'Busy', forMs: null, text: null });
    expect(parseCommand(['set', 'ana', 'offline'])).toMatchObject({ status: 'AppearOffline' });
    expect(parseCommand(['set', 'ana', 'clear', '--json'])).toMatchObject({ status: 'Available', json: true });
    expect(parseCommand(['set', 'ana', 'available'])).toMatchObject({ status: 'Available', text: null });
    expect(parseCommand(['set', 'ana', 'available', '--text', 'back from lunch', '--for', '2h'])).toMatchObject({ status: 'Available', text: 'back from lunch', forMs: 7_200_000 });
  });

  it('set refuses what the override topic cannot carry, naming the argument', () => {
    expect(refused(['set', 'ana', 'away']).message).toMatch(/^status: away is not a manual status/);
    expect(refused(['set', 'ana', 'sleepy']).message).toContain('status: "sleepy" is not one of available, clear, busy, dnd, offline');
    expect(refused(['set', 'ana', 'dnd', '--for', '5']).message).toMatch(/^--for: "5" is not a duration/);
    expect(refused(['set', 'ana', 'clear', '--for', '1h']).argument).toBe('--for');
    expect(refused(['set', 'ana', 'clear', '--text', 'x']).argument).toBe('--text');
    expect(refused(['set', 'ana']).argument).toBe('status');
    expect(refused(['set']).argument).toBe('user');
    expect(refused(['set', 'ana', 'dnd', 'extra']).message).toContain('unexpected argument "extra"');
    expect(refused(['set', 'ana', 'dnd', '--until', '1h'])).toMatchObject({ argument: '--until', message: expect.stringContaining("Unknown option '--until'") });
    expect(refused(['set', 'ana', 'dnd', '--for']).message).toContain("Option '--for <value>' argument missing");
  });

  it('visibility takes the settings of the Visibility schema only', () => {
    expect(parseCommand(['visibility', 'ana', 'nobody'])).toEqual({ name: 'visibility', json: false, user: 'ana', visibility: 'nobody', reason: null });
    expect(parseCommand(['visibility', 'ana', 'nobody', '--reason', 'support'])).toMatchObject({ reason: 'support' });
    expect(parseCommand(['visibility', 'ana', 'Everyone', '--json'])).toMatchObject({ visibility: 'everyone', json: true });
    expect(parseCommand(['visibility', 'ana', 'contacts'])).toMatchObject({ visibility: 'contacts' });
    expect(refused(['visibility', 'ana', 'friends']).message).toContain('visibility: "friends" is not one of everyone, contacts, nobody');
  });

  it('room splits kind/id at the first slash', () => {
    expect(parseCommand(['room', 'doc/42'])).toEqual({ name: 'room', json: false, kind: 'doc', id: '42' });
    expect(parseCommand(['room', 'doc/a/b'])).toMatchObject({ kind: 'doc', id: 'a/b' });
    for (const bad of ['doc', '/42', 'doc/']) expect(refused(['room', bad]).argument).toBe('kind/id');
  });

  it('tail takes repeated --user, --from-beginning and a positive --max', () => {
    expect(parseCommand(['tail'])).toEqual({ name: 'tail', json: false, users: [], fromBeginning: false, max: null });
    expect(parseCommand(['tail', '--user', 'a', '--user', 'b', '--from-beginning', '--max', '3', '--json'])).toEqual({
      name: 'tail', json: true, users: ['a', 'b'], fromBeginning: true, max: 3,
    });
    for (const bad of ['0', '-1', '1.5', 'x']) expect(refused(['tail', '--max', bad]).argument).toBe('--max');
    expect(refused(['tail', 'ana']).message).toContain('unexpected argument "ana"');
  });

  it('gate takes a user, a channel and --bypass-dnd', () => {
    expect(parseCommand(['gate', 'ana', 'mobile-push'])).toEqual({ name: 'gate', json: false, user: 'ana', channel: 'mobile-push', bypassDnd: false });
    expect(parseCommand(['gate', 'ana', 'sms', '--bypass-dnd'])).toMatchObject({ bypassDnd: true });
    expect(refused(['gate', 'ana']).argument).toBe('channel');
  });

  it('dlq takes --max and --follow', () => {
    expect(parseCommand(['dlq'])).toEqual({ name: 'dlq', json: false, max: null, follow: false });
    expect(parseCommand(['dlq', '--max', '10', '--follow', '--json'])).toEqual({ name: 'dlq', json: true, max: 10, follow: true });
  });

  it('help, and unknown commands', () => {
    expect(parseCommand([])).toEqual({ name: 'help', topic: null });
    expect(parseCommand(['--help'])).toEqual({ name: 'help', topic: null });
    expect(parseCommand(['help', 'set'])).toEqual({ name: 'help', topic: 'set' });
    expect(parseCommand(['tail', '-h'])).toEqual({ name: 'help', topic: 'tail' });
    expect(refused(['reboot']).message).toMatch(/^command: unknown command "reboot"/);
  });

  it('usage lists exactly the commands that exist', () => {
    const commands = usage().split('\n').filter((l) => l.startsWith('  presence ')).map((l) => l.split(/\s+/)[2]);
    expect(commands).toEqual(['status', 'set', 'visibility', 'history', 'room', 'tail', 'gate', 'dlq', 'rebuild']);
    expect(usage('set').split('\n').filter((l) => l.startsWith('  presence '))).toHaveLength(1);
  });
});
