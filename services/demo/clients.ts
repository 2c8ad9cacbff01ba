/**
 * The demo population's devices as real gateway clients: one WebSocket per simulated session,
 * carrying what the population model says they send. A session that signs off cleanly closes its
 * socket (the gateway publishes the disconnect); one that "drops" just falls silent with its socket
 * left open, like a frozen tab, so it expires at the offline threshold; when that device comes back
 * under the same session id, its new socket replaces the silent one.
 */
import WebSocket from 'ws';
import type { ClientAction } from './population';

interface Device {
  readonly ws: WebSocket;
  /** Frames sent before the socket opened go out on open. */
  readonly backlog: string[];
}

export class SimulatedClients {
  private readonly devices = new Map<string, Device>();
  /** Frames sent, refused by the gateway, and sockets that failed. */
  readonly counts = { frames: 0, refused: 0, socketErrors: 0 };

  constructor(private readonly wsUrl: string, private readonly tokens: ReadonlyMap<string, string>) {}

  apply(a: ClientAction): void {
    const key = `${a.userId}/${a.sessionId}`;
    switch (a.type) {
      case 'connect': {
        const token = this.tokens.get(a.userId) ?? '';
        const url = `${this.wsUrl}?${new URLSearchParams({ deviceId: a.deviceId, sessionId: a.sessionId, platform: a.platform, access_token: token })}`;
        const ws = new WebSocket(url);
        const device: Device = { ws, backlog: [] };
        ws.on('open', () => {
          for (const f of device.backlog.splice(0)) ws.send(f);
        });
        ws.on('message', (data) => {
          if ((JSON.parse(data.toString()) as { type?: string }).type === 'error') this.counts.refused++;
        });
        ws.on('error', () => void this.counts.socketErrors++);
        const silent = this.devices.get(key);
        this.devices.set(key, device);
        silent?.ws.removeAllListeners('error');
        return;
      }
      case 'drop':
        return; // falls silent; the socket stays until the device reconnects or the demo stops
      case 'close': {
        const d = this.devices.get(key);
        this.devices.delete(key);
        d?.ws.close(1000, 'signed off');
        return;
      }
      case 'heartbeat':
        return this.send(key, { type: 'heartbeat', idleMs: a.idleMs });
      case 'override':
        return this.send(key, { type: 'override', status: a.status, customText: a.customText, expiresAt: a.expiresAt });
      case 'activity':
        return this.send(key, { type: 'activity', activity: a.activity, source: a.source, customText: a.customText, emoji: a.emoji, expiresAt: a.expiresAt });
      case 'join':
      case 'leave':
        return this.send(key, { type: a.type, roomKind: a.roomKind, roomId: a.roomId });
      case 'roomHeartbeat':
        return; // the gateway renews a session's rooms with each heartbeat it publishes
      case 'typing':
        return this.send(key, { type: 'ephemeral', roomKind: a.roomKind, roomId: a.roomId, ephemeral: { state: 'typing' } });
    }
  }

  closeAll(): void {
    for (const d of this.devices.values()) d.ws.terminate();
    this.devices.clear();
  }

  private send(key: string, frame: object): void {
    const d = this.devices.get(key);
    if (!d) return;
    const text = JSON.stringify(frame);
    this.counts.frames++;
    if (d.ws.readyState === WebSocket.OPEN) d.ws.send(text);
    else if (d.ws.readyState === WebSocket.CONNECTING) d.backlog.push(text);
  }
}
