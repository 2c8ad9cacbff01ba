import { Population, roomIds, userIds, type ClientAction } from './population';

const T = 1_800_000_000_000;
const run = (seed: number, seconds: number) => {
  const pop = new Population({ users: 50, rooms: 5, heartbeatIntervalMs: 5_000, seed }, T);
  const steps: Array<{ at: number; actions: ClientAction[] }> = [];
  for (let s = 0; s <= seconds; s++) steps.push({ at: T + s * 1_000, actions: pop.step(T + s * 1_000) });
  return steps;
};

describe('simulated population', () => {
  const steps = run(7, 900);
  const all = steps.flatMap((s) => s.actions.map((a) => ({ at: s.at, a })));

  it('is reproducible from its seed', () => {
    expect(JSON.stringify(run(7, 120))).toBe(JSON.stringify(steps.slice(0, 121)));
    expect(JSON.stringify(run(8, 120))).not.toBe(JSON.stringify(steps.slice(0, 121)));
  });

  it('sessions follow the client protocol: connect before sending, nothing after close or drop, beats spaced by the interval', () => {
    const open = new Map<string, number | null>();
    for (const { at, a } of all) {
      const key = `${a.userId}/${a.sessionId}`;
      if (a.type === 'connect') {
        expect(open.has(key)).toBe(false);
        open.set(key, null);
        continue;
      }
      expect(open.has(key)).toBe(true);
      if (a.type === 'close' || a.type === 'drop') open.delete(key);
      if (a.type === 'heartbeat') {
        const last = open.get(key);
        if (last != null) expect(at - last).toBeGreaterThanOrEqual(5_000);
        open.set(key, at);
        expect(a.idleMs).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('rooms: a session joins before it heartbeats or leaves a room, and only known rooms', () => {
    const inRoom = new Map<string, string>();
    for (const { a } of all) {
      const key = `${a.userId}/${a.sessionId}`;
      if (a.type === 'join') {
        expect(inRoom.has(key)).toBe(false);
        expect(roomIds(5)).toContain(`${a.roomKind}/${a.roomId}`);
        inRoom.set(key, `${a.roomKind}/${a.roomId}`);
      } else if (a.type === 'leave' || a.type === 'roomHeartbeat' || a.type === 'typing') {
        expect(inRoom.get(key)).toBe(`${a.roomKind}/${a.roomId}`);
        if (a.type === 'leave') inRoom.delete(key);
      } else if (a.type === 'close' || a.type === 'drop') inRoom.delete(key);
    }
  });

  it('a demo of fifteen minutes shows every kind of behaviour', () => {
    const kinds = new Set(all.map(({ a }) => (a.type === 'override' ? `override:${a.status}` : a.type === 'activity' ? `activity:${a.activity}` : a.type)));
    for (const k of ['connect', 'heartbeat', 'close', 'drop', 'override:DoNotDisturb', 'override:Busy', 'join', 'leave', 'roomHeartbeat', 'typing']) expect(kinds).toContain(k);
    for (const k of ['activity:InAMeeting', 'activity:InACall', 'activity:Presenting', 'activity:Focusing', 'activity:Custom']) expect(kinds).toContain(k);
    expect(new Set(all.map(({ a }) => a.userId)).size).toBe(50);
    for (const { at, a } of all) if (a.type === 'override' || a.type === 'activity') expect(a.expiresAt).toBeGreaterThan(at);
    expect(userIds(3)).toEqual(['user-001', 'user-002', 'user-003']);
  });
});
