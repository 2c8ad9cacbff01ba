/** The readable renderings of each command's answer (the JSON is the service's or topic's own record). */
import { deadLetterHeader, deadLetterLine, deadLetterRows } from './dlq';
import { gateTable } from './gate';
import { historyTable } from './history';
import { roomTable } from './room';
import { overrideCell, statusTable } from './status';
import { changeHeader, changeRow } from './tail';

const now = Date.UTC(2025, 0, 2, 12, 0, 0);

describe('readable renderings', () => {
  it('status: one aligned row per user, the override in one cell, the approximate last seen when exact is hidden', () => {
    const text = statusTable([
      { userId: 'ana', status: 'DoNotDisturb', statusSince: now - 60_000, lastSeen: now - 5_000, lastActive: now - 5_000, override: { status: 'DoNotDisturb', customText: 'focus', expiresAt: now + 3_600_000 }, devices: [{ deviceId: 'a', sessionId: 'b', platform: 'web' }] },
      { userId: 'bo', status: 'Offline', statusSince: null, lastSeen: null, lastActive: null, override: null, lastSeenApprox: 'recently', devices: [] },
    ], now).split('\n');
    expect(lines(text[0])).toEqual(['USER', 'STATUS', 'SINCE', 'LAST SEEN', 'OVERRIDE', 'DEVICES']);
    expect(text[1]).toContain('DoNotDisturb until 2025-01-02T13:00:00Z (in 1h) "focus"');
    expect(lines(text[2])).toEqual(['bo', 'Offline', '-', 'recently', '-', '0']);
    expect(overrideCell({ status: 'Busy', customText: null, expiresAt: null }, now)).toBe('Busy');
  });

  it('room: a count line and the members, or "no members"', () => {
    const text = roomTable({ roomKind: 'doc', roomId: '42', members: [{ userId: 'ana', sessionId: 's1', joinedAt: now - 120_000, lastSeen: null, metadata: { cursor: '7', sel: '1-4' }, ephemeral: null }] }, now);
    expect(text.split('\n')[0]).toBe('room doc/42: 1 member');
    expect(lines(text.split('\n')[2])).toEqual(['ana', 's1', '2025-01-02T11:58:00Z (2m ago)', '-', 'cursor=7 sel=1-4']);
    expect(roomTable({ roomKind: 'doc', roomId: '9', members: [] }, now)).toBe('room doc/9: no members\n');
  });

  it('gate: the decision as one row', () => {
    const text = gateTable({ userId: 'ana', channel: 'mobile-push', bypassDoNotDisturb: true, deliver: true, reason: 'bypassed-dnd', status: 'DoNotDisturb', userKnown: true });
    expect(lines(text.split('\n')[1])).toEqual(['ana', 'mobile-push (bypass DND)', 'yes', 'bypassed-dnd', 'DoNotDisturb', 'yes']);
  });

  it('tail: fixed-width rows under one header', () => {
    expect(lines(changeHeader())).toEqual(['AT', 'USER', 'CHANGE', 'CAUSE', 'VERSION']);
    expect(lines(changeRow({ userId: 'ana', from: 'Offline', to: 'Busy', at: now, cause: 'event', version: 3 }))).toEqual(['2025-01-02T12:00:00.000Z', 'ana', 'Offline -> Busy', 'event', '3']);
  });

  it('dlq: where it came from, the detailed code, the reason, then what it means', () => {
    const l = deadLetterLine(0, 4, {
      sourceTopic: 'presence.heartbeat.v1', sourcePartition: 1, sourceOffset: 17, key: Buffer.from('x'), value: Buffer.from([0, 1, 2]),
      errorCode: 'rejected', field: 'key', reason: 'not-allowed: record key "x" does not match userId', service: 'processor', failedAt: now,
    });
    expect(l).toMatchObject({ detailedCode: 'rejected/not-allowed', key: 'x', valueBase64: 'AAEC', valueBytes: 3 });
    const [row, meaning] = deadLetterRows(l).split('\n');
    expect(lines(deadLetterHeader())).toEqual(['DLQ', 'FAILED AT', 'SERVICE', 'SOURCE', 'CODE', 'FIELD', 'REASON']);
    expect(lines(row)).toEqual(['0@4', '2025-01-02T12:00:00Z', 'processor', 'presence.heartbeat.v1[1]@17', 'rejected/not-allowed', 'key', 'not-allowed: record key "x" does not match userId']);
    expect(meaning).toMatch(/^ {4}meaning: the record decoded, but .*the record key does not match .*\(field key\)$/);
  });
});

/** Cells of a rendered line (columns are separated by at least two spaces). */
function lines(line: string | undefined): string[] {
  return (line ?? '').trimEnd().split(/ {2,}/);
}

describe('history rendering', () => {
  it('one row per interval with its duration, cause and who set it; then the settings written in the window', () => {
    const text = historyTable({
      userId: 'ana', from: now - 3_600_000, to: now,
      intervals: [
        { status: 'Online', from: now - 3_600_000, to: now - 1_800_000, cause: null, setBy: null },
        { status: 'DoNotDisturb', from: now - 1_800_000, to: now, cause: 'event', setBy: { at: now - 1_800_100, status: 'DoNotDisturb', actor: { kind: 'user', id: 'ana' }, reason: 'focus' } },
      ],
      settings: [{ at: now - 1_800_100, kind: 'status', value: 'DoNotDisturb', customText: 'deep work', expiresAt: null, actor: { kind: 'user', id: 'ana' }, reason: 'focus' }],
    }, now).split('\n');
    expect(text[0]).toBe('ana: 2 intervals from 2025-01-02T11:00:00Z (1h ago) to 2025-01-02T12:00:00Z (now)');
    expect(lines(text[1])).toEqual(['STATUS', 'FROM', 'TO', 'DURATION', 'CAUSE', 'SET BY', 'REASON']);
    expect(lines(text[2])).toEqual(['Online', '2025-01-02T11:00:00Z (1h ago)', '2025-01-02T11:30:00Z (30m ago)', '30m', '-', '-', '-']);
    expect(lines(text[3])).toEqual(['DoNotDisturb', '2025-01-02T11:30:00Z (30m ago)', '2025-01-02T12:00:00Z (now)', '30m', 'event', 'user:ana (DoNotDisturb)', 'focus']);
    expect(text[5]).toBe('settings written in the window:');
    expect(lines(text[7])).toEqual(['2025-01-02T11:29:59Z (30m ago)', 'status', 'DoNotDisturb "deep work"', 'user:ana', 'focus']);
  });
  it('a setting whose producer recorded no actor', () => {
    const text = historyTable({ userId: 'bo', from: 0, to: now, intervals: [{ status: 'Busy', from: 0, to: now, cause: 'event', setBy: { at: 0, status: 'Busy', actor: null, reason: null } }], settings: [] }, now);
    expect(text).toContain('unrecorded (Busy)');
    expect(text).not.toContain('settings written');
  });
});
