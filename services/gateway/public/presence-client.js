/**
 * The presence browser client (an ES module served by the gateway at /client/presence-client.js).
 *
 *   import { connectPresence } from 'http://gateway:9304/client/presence-client.js';
 *   const presence = connectPresence({ url: 'ws://gateway:9304/v1/ws', token, deviceId: 'laptop' });
 *   presence.join('doc', '42');  presence.setStatus('DoNotDisturb', { expiresAt: Date.now() + 3600e3 });
 *   presence.setRoomState('doc', '42', 'typing');   // shown to the room for 5 s
 *
 * Idle detection as in the classic presence client: the user's last activity is the last mouse,
 * key, touch, wheel or focus event, or the tab becoming visible; a hidden tab has no activity, so
 * it ages towards Away while another visible tab keeps the user Online (the processor keeps the
 * newest activity over all tabs). Every heartbeat interval (told by the gateway) the client sends
 * how long the user has been idle; when the user comes back after a pause it sends one at once, so
 * Away turns Online without waiting for the next beat. The tab's session id lives in
 * sessionStorage, so a reload or a reconnect within the gateway's grace is the same session and
 * nobody sees it go Offline and back. Reconnects back off from 1 s to 30 s with jitter; rooms are
 * joined again after a reconnect.
 */

const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus'];

function newId() {
  return globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function tabSessionId() {
  try {
    let id = sessionStorage.getItem('presence.sessionId');
    if (!id) sessionStorage.setItem('presence.sessionId', (id = newId()));
    return id;
  } catch {
    return newId(); // storage blocked: one session per page load
  }
}

/**
 * @param {object} o
 * @param {string} o.url        the gateway's WebSocket URL (ws://…/v1/ws)
 * @param {string} o.token      a bearer JWT whose sub is the user
 * @param {string} o.deviceId   stable id of this device or browser profile
 * @param {string} [o.platform] web (default), desktop, ios, android, other
 * @param {string} [o.sessionId] default: one per tab (sessionStorage)
 * @param {(state: {connection: string, welcome?: object, error?: object}) => void} [o.onState]
 * @param {(presence: {userId: string, status: string, [field: string]: unknown}) => void} [o.onPresence]
 *        called with the presence of each user this socket follows (subscribe), at once and on every change
 */
export function connectPresence(o) {
  const doc = globalThis.document;
  const sessionId = o.sessionId || tabSessionId();
  const rooms = new Map();
  /** Users this socket follows: subscribed again after a reconnect. */
  const following = new Set();
  let lastActivity = Date.now();
  let lastReportedActivity = -Infinity;
  let intervalMs = 15000;
  let socket = null;
  let beatTimer = null;
  let retryMs = 1000;
  let closed = false;
  let connection = 'connecting';

  const notify = (extra = {}) => o.onState && o.onState({ connection, ...extra });
  const send = (frame) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };
  const idleMs = () => Math.max(0, Date.now() - lastActivity);
  const beat = () => {
    lastReportedActivity = lastActivity;
    send({ type: 'heartbeat', idleMs: idleMs() });
  };

  let lastMove = 0;
  const onActivity = (e) => {
    const now = Date.now();
    if (e && e.type === 'pointermove' && now - lastMove < 1000) return; // moves are many; one a second is plenty
    lastMove = now;
    const pausedFor = now - lastReportedActivity;
    lastActivity = now;
    // Back after a pause: tell at once (the gateway coalesces bursts), so Away turns Online now.
    if (pausedFor >= Math.min(intervalMs, 10000)) beat();
  };
  const onVisibility = () => {
    if (doc && doc.visibilityState === 'visible') onActivity();
  };
  for (const name of ACTIVITY_EVENTS) globalThis.addEventListener(name, onActivity, { passive: true, capture: true });
  if (doc) doc.addEventListener('visibilitychange', onVisibility);

  const connect = () => {
    const url = new URL(o.url);
    url.searchParams.set('access_token', o.token);
    url.searchParams.set('deviceId', o.deviceId);
    url.searchParams.set('sessionId', sessionId);
    url.searchParams.set('platform', o.platform || 'web');
    connection = 'connecting';
    notify();
    socket = new WebSocket(url);
    socket.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'welcome') {
        retryMs = 1000;
        intervalMs = msg.heartbeatIntervalMs || intervalMs;
        connection = 'open';
        beat();
        for (const [, r] of rooms) send({ type: 'join', roomKind: r.roomKind, roomId: r.roomId, metadata: r.metadata });
        if (following.size) send({ type: 'subscribe', userIds: [...following] });
        clearInterval(beatTimer);
        beatTimer = setInterval(beat, intervalMs);
        notify({ welcome: msg });
      } else if (msg.type === 'presence') {
        if (o.onPresence) o.onPresence(msg);
      } else if (msg.type === 'error') {
        notify({ error: msg });
      }
    };
    socket.onclose = () => {
      clearInterval(beatTimer);
      beatTimer = null;
      if (closed) return;
      connection = 'reconnecting';
      notify();
      const wait = retryMs * (0.5 + Math.random());
      retryMs = Math.min(30000, retryMs * 2);
      setTimeout(() => { if (!closed) connect(); }, wait);
    };
  };
  connect();

  return {
    sessionId,
    idleMs,
    get connection() { return connection; },
    /** Available, Busy, DoNotDisturb or AppearOffline; expiresAt in epoch ms or null. */
    setStatus(status, { customText = null, expiresAt = null } = {}) {
      send({ type: 'override', status, customText, expiresAt });
    },
    setVisibility(visibility) {
      send({ type: 'visibility', visibility });
    },
    /** How others see this user's last-seen times: exact, coarse (recently / within a week / long ago) or hidden. */
    setLastSeenPrivacy(lastSeenPrivacy) {
      send({ type: 'lastSeenPrivacy', lastSeenPrivacy });
    },
    /**
     * What the user is doing: 'InACall', 'InAMeeting', 'Presenting', 'Focusing' or 'Custom' (with
     * customText or an emoji), null to clear. source defaults to 'manual'; expiresAt in epoch ms or
     * null. Presenting/Focusing read Do Not Disturb, a call or meeting Busy, unless a manual status
     * decides.
     */
    setActivity(activity, { source = 'manual', customText = null, emoji = null, expiresAt = null } = {}) {
      send({ type: 'activity', activity, source, customText, emoji, expiresAt });
    },
    join(roomKind, roomId, metadata = null) {
      rooms.set(`${roomKind}/${roomId}`, { roomKind, roomId, metadata });
      send({ type: 'join', roomKind, roomId, metadata });
    },
    leave(roomKind, roomId) {
      rooms.delete(`${roomKind}/${roomId}`);
      send({ type: 'leave', roomKind, roomId });
    },
    /**
     * What this session is doing in the room right now, e.g. setRoomState('doc', '42', 'typing',
     * { target: 'comment-3' }); others see it for ttlMs (default 5 s: call it again while it goes
     * on). setRoomState(kind, id, null) clears it at once. A short token, never content.
     */
    setRoomState(roomKind, roomId, state, { target = null, ttlMs } = {}) {
      send({ type: 'ephemeral', roomKind, roomId, ephemeral: state === null ? null : { state, target }, ...(ttlMs === undefined ? {} : { ephemeralTtlMs: ttlMs }) });
    },
    /**
     * Follows these users' presence over this socket (at most the gateway's limit, 200 by
     * default): o.onPresence gets each one's presence at once, then every change, as this user may
     * see them. Kept across reconnects.
     */
    subscribe(userIds) {
      for (const u of userIds) following.add(u);
      send({ type: 'subscribe', userIds });
    },
    unsubscribe(userIds) {
      for (const u of userIds) following.delete(u);
      send({ type: 'unsubscribe', userIds });
    },
    /** Ends the session: the gateway publishes the room exits and a clean disconnect. */
    close() {
      closed = true;
      clearInterval(beatTimer);
      for (const name of ACTIVITY_EVENTS) globalThis.removeEventListener(name, onActivity, { capture: true });
      if (doc) doc.removeEventListener('visibilitychange', onVisibility);
      connection = 'closed';
      if (socket) socket.close(1000, 'client closed');
      notify();
    },
  };
}
