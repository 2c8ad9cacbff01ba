/**
 * The command line, parsed with Node's util.parseArgs into one tagged command, pure. Anything the
 * user typed wrong is a UsageError naming the argument (exit 2), before anything is contacted.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { OverrideStatus, Visibility } from '../core';
import { OVERRIDE_STATUSES, VISIBILITIES } from '../core';
import { parseDuration } from './duration';
import { UsageError } from './errors';

export type CliCommand =
  | { readonly name: 'help'; readonly topic: string | null }
  | { readonly name: 'status'; readonly json: boolean; readonly users: readonly string[] }
  | { readonly name: 'set'; readonly json: boolean; readonly user: string; readonly status: OverrideStatus; readonly forMs: number | null; readonly text: string | null; readonly reason: string | null }
  | { readonly name: 'visibility'; readonly json: boolean; readonly user: string; readonly visibility: Visibility; readonly reason: string | null }
  | { readonly name: 'history'; readonly json: boolean; readonly user: string; readonly window: HistoryWindow }
  | { readonly name: 'room'; readonly json: boolean; readonly kind: string; readonly id: string }
  | { readonly name: 'tail'; readonly json: boolean; readonly users: readonly string[]; readonly fromBeginning: boolean; readonly max: number | null }
  | { readonly name: 'gate'; readonly json: boolean; readonly user: string; readonly channel: string; readonly bypassDnd: boolean }
  | { readonly name: 'dlq'; readonly json: boolean; readonly max: number | null; readonly follow: boolean }
  | { readonly name: 'rebuild'; readonly json: boolean; readonly toPrefix: string; readonly fromPrefix: string | null };

/** The window of `history`: the last `sinceMs` up to now, or [from, to) (to null: now). */
export type HistoryWindow = { readonly sinceMs: number } | { readonly from: number; readonly to: number | null };

/** Without --since or --from, history shows the last day. */
export const DEFAULT_HISTORY_SINCE_MS = 86_400_000;

export type CommandName = Exclude<CliCommand['name'], 'help'>;

/** What `set` accepts, and the override status each one publishes. */
export const SET_STATUSES: Readonly<Record<string, OverrideStatus>> = {
  available: 'Available', clear: 'Available', busy: 'Busy', dnd: 'DoNotDisturb', offline: 'AppearOffline',
};

/** Each command's synopsis and what it does (the order of `presence help`). */
export const USAGE: Readonly<Record<CommandName, readonly [string, string]>> = {
  status: ['status <user>...', 'effective status of users (the query service, one batch read)'],
  set: [`set <user> <${Object.keys(SET_STATUSES).join('|')}> [--for 1h] [--text "..."] [--reason "..."]`, 'publish a manual status to the override topic (actor: admin CLI_SUBJECT)'],
  visibility: [`visibility <user> <${VISIBILITIES.join('|')}> [--reason "..."]`, "publish the user's visibility setting to the override topic (actor: admin CLI_SUBJECT)"],
  history: ['history <user> [--since 2h | --from T [--to T]]', 'status intervals with cause and who set them, and the settings (the history service; T: ISO 8601 or epoch ms; default --since 1d)'],
  room: ['room <kind>/<id>', 'members of a room (the query service)'],
  tail: ['tail [--user u]... [--from-beginning] [--max N]', 'print status changes as they arrive (presence.changes.v1)'],
  gate: ['gate <user> <channel> [--bypass-dnd]', 'may a notification go out on this channel now? (the query service, /v1/gate)'],
  dlq: ['dlq [--max N] [--follow]', 'the dead letters from the beginning, with what each code means'],
  rebuild: ['rebuild --to-prefix <p> [--from-prefix <q>]', 'replay the retained inputs (of TOPIC_PREFIX, or <q>) through the processor journal into the outputs of a fresh prefix <p>'],
};

export function usage(topic: string | null = null): string {
  const entries = topic !== null && topic in USAGE ? [USAGE[topic as CommandName]] : Object.values(USAGE);
  return [
    'usage: presence <command> [options] [--json]',
    '',
    ...entries.flatMap(([synopsis, what]) => [`  presence ${synopsis}`, `      ${what}`]),
    '',
    'Options everywhere: --json (machine-readable: one JSON document; JSON lines for tail and dlq), --help.',
    'Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, TOPIC_PREFIX (as the services), QUERY_URL, HISTORY_URL, QUERY_TOKEN',
    '(or AUTH_JWT_SECRET / AUTH_INSECURE_DEV=1 to mint one for CLI_SUBJECT), CLI_TIMEOUT_MS. See README.md, "CLI".',
  ].join('\n');
}

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON: Options = { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } };
const OPTIONS: Readonly<Record<CommandName, Options>> = {
  status: {},
  set: { for: { type: 'string' }, text: { type: 'string' }, reason: { type: 'string' } },
  visibility: { reason: { type: 'string' } },
  history: { since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  room: {},
  tail: { user: { type: 'string', multiple: true }, 'from-beginning': { type: 'boolean', default: false }, max: { type: 'string' } },
  gate: { 'bypass-dnd': { type: 'boolean', default: false } },
  dlq: { max: { type: 'string' }, follow: { type: 'boolean', default: false } },
  rebuild: { 'to-prefix': { type: 'string' }, 'from-prefix': { type: 'string' } },
};

const isCommand = (s: string): s is CommandName => Object.prototype.hasOwnProperty.call(OPTIONS, s);

/** Parses argv without the node and script paths. */
export function parseCommand(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    return { name: 'help', topic: first === 'help' ? (rest[0] ?? null) : null };
  }
  if (!isCommand(first)) throw new UsageError('command', `unknown command ${JSON.stringify(first)}; one of ${Object.keys(OPTIONS).join(', ')}`);
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...rest], options: { ...COMMON, ...OPTIONS[first] }, strict: true, allowPositionals: true });
  } catch (e) {
    // parseArgs names the option in quotes ("Unknown option '--until'"): the error names it too.
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(/'(--?[\w-]+)/.exec(message)?.[1] ?? first, `${message}\n${usage(first)}`);
  }
  const { values: v, positionals: p } = parsed;
  if (v['help'] === true) return { name: 'help', topic: first };
  const json = v['json'] === true;
  const str = (name: string): string | undefined => v[name] as string | undefined;

  switch (first) {
    case 'status': {
      if (p.length === 0) throw new UsageError('user', `status needs at least one user\n${usage('status')}`);
      p.forEach((u, i) => nonBlank(`user #${i + 1}`, u));
      return { name: 'status', json, users: p };
    }
    case 'set': {
      const [user, word] = exactly('set', p, ['user', 'status']);
      nonBlank('user', user);
      const key = word.toLowerCase();
      if (key === 'away') {
        throw new UsageError('status', 'away is not a manual status: Away comes from idleness reported by heartbeats; the override topic carries ' +
          `${OVERRIDE_STATUSES.join(', ')} (set accepts ${Object.keys(SET_STATUSES).join(', ')})`);
      }
      const status = SET_STATUSES[key];
      if (status === undefined) throw new UsageError('status', `${JSON.stringify(word)} is not one of ${Object.keys(SET_STATUSES).join(', ')}`);
      const forText = str('for');
      const text = str('text');
      // available may carry a text (the core keeps Available's text); clear is Available with nothing.
      if (key === 'clear' && (forText !== undefined || text !== undefined)) {
        throw new UsageError(forText !== undefined ? '--for' : '--text', 'clear removes the manual status and its text; it takes neither --for nor --text (use available --text "...")');
      }
      let forMs: number | null = null;
      if (forText !== undefined) {
        const d = parseDuration(forText);
        if (!d.ok) throw new UsageError('--for', d.reason);
        forMs = d.ms;
      }
      return { name: 'set', json, user, status, forMs, text: text ?? null, reason: str('reason') ?? null };
    }
    case 'visibility': {
      const [user, word] = exactly('visibility', p, ['user', 'visibility']);
      nonBlank('user', user);
      const visibility = VISIBILITIES.find((x) => x === word.toLowerCase());
      if (visibility === undefined) {
        throw new UsageError('visibility', `${JSON.stringify(word)} is not one of ${VISIBILITIES.join(', ')} (the Visibility schema has no other setting)`);
      }
      return { name: 'visibility', json, user, visibility, reason: str('reason') ?? null };
    }
    case 'history': {
      const [user] = exactly('history', p, ['user']);
      nonBlank('user', user);
      return { name: 'history', json, user, window: historyWindow(str('since'), str('from'), str('to')) };
    }
    case 'room': {
      const [key] = exactly('room', p, ['kind/id']);
      const slash = key.indexOf('/');
      if (slash <= 0 || slash === key.length - 1) throw new UsageError('kind/id', `${JSON.stringify(key)} is not <kind>/<id> (e.g. doc/42)`);
      return { name: 'room', json, kind: key.slice(0, slash), id: key.slice(slash + 1) };
    }
    case 'tail': {
      exactly('tail', p, []);
      const users = ((v['user'] as string[] | undefined) ?? []);
      users.forEach((u) => nonBlank('--user', u));
      return { name: 'tail', json, users, fromBeginning: v['from-beginning'] === true, max: count('--max', str('max')) };
    }
    case 'gate': {
      const [user, channel] = exactly('gate', p, ['user', 'channel']);
      nonBlank('user', user);
      nonBlank('channel', channel);
      return { name: 'gate', json, user, channel, bypassDnd: v['bypass-dnd'] === true };
    }
    case 'dlq':
      exactly('dlq', p, []);
      return { name: 'dlq', json, max: count('--max', str('max')), follow: v['follow'] === true };
    case 'rebuild': {
      exactly('rebuild', p, []);
      const toPrefix = str('to-prefix');
      if (toPrefix === undefined) throw new UsageError('--to-prefix', `missing: the prefix the rebuild writes into\n${usage('rebuild')}`);
      const fromPrefix = str('from-prefix') ?? null;
      topicPrefix('--to-prefix', toPrefix);
      if (fromPrefix !== null) topicPrefix('--from-prefix', fromPrefix);
      if (fromPrefix === toPrefix) throw new UsageError('--to-prefix', 'must differ from --from-prefix: a rebuild writes into a fresh prefix, never over the live outputs');
      return { name: 'rebuild', json, toPrefix, fromPrefix };
    }
  }
}

/** Exactly these positionals, or a UsageError naming the first missing (or the first extra) one. */
function exactly<const N extends readonly string[]>(command: CommandName, p: readonly string[], names: N): { -readonly [K in keyof N]: string } {
  if (p.length < names.length) throw new UsageError(names[p.length] as string, `missing\n${usage(command)}`);
  if (p.length > names.length) throw new UsageError(command, `unexpected argument ${JSON.stringify(p[names.length])}\n${usage(command)}`);
  return [...p] as { -readonly [K in keyof N]: string };
}

/** --since alone, or --from with an optional --to, never both kinds; instants are ISO 8601 or epoch ms. */
function historyWindow(since: string | undefined, from: string | undefined, to: string | undefined): HistoryWindow {
  if (since !== undefined && (from !== undefined || to !== undefined)) throw new UsageError(from !== undefined ? '--from' : '--to', 'give either --since or --from/--to, not both');
  if (to !== undefined && from === undefined) throw new UsageError('--to', 'needs --from');
  if (from !== undefined) {
    const f = instant('--from', from);
    const t = to === undefined ? null : instant('--to', to);
    if (t !== null && t <= f) throw new UsageError('--to', 'must be after --from');
    return { from: f, to: t };
  }
  if (since === undefined) return { sinceMs: DEFAULT_HISTORY_SINCE_MS };
  const d = parseDuration(since);
  if (!d.ok) throw new UsageError('--since', d.reason);
  return { sinceMs: d.ms };
}

/** Epoch milliseconds (digits) or an ISO 8601 date-time, as the history service reads them. */
function instant(argument: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError(argument, `${JSON.stringify(text)} is not an instant: ISO 8601 (2026-12-02T09:00:00Z) or epoch milliseconds`);
  return ms;
}

/** A topic prefix as TOPIC_PREFIX accepts it (letters, digits, . _ -); empty is the unprefixed deployment. */
function topicPrefix(argument: string, value: string): void {
  if (!/^[A-Za-z0-9._-]*$/.test(value)) throw new UsageError(argument, `${JSON.stringify(value)} is not a topic prefix (letters, digits, . _ -)`);
}

function nonBlank(argument: string, value: string): void {
  if (value.trim() === '') throw new UsageError(argument, 'must not be empty');
}

function count(argument: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new UsageError(argument, `${JSON.stringify(text)} is not a whole number of at least 1`);
  return Number(text);
}
