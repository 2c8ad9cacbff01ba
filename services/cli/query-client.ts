/**
 * The query service over HTTP, for the commands that read (status, room, gate), through the shared
 * ServiceClient (deadlines; errors that name QUERY_URL).
 */
import type { GateAnswer, PresenceBody, RoomBody } from '../query/read-model';
import { ServiceClient } from './service-client';

export type GateBody = Extract<GateAnswer, { ok: true }>['body'];

export interface QueryClientOptions {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  readonly timeoutMs: number;
}

export class QueryClient {
  private readonly http: ServiceClient;

  constructor(o: QueryClientOptions) {
    this.http = new ServiceClient({ ...o, service: 'the query service', urlVariable: 'QUERY_URL', forbidden: 'CLI_SUBJECT; the gate may be limited by QUERY_GATE_CALLERS' });
  }

  async batchGet(userIds: readonly string[]): Promise<{ presences: PresenceBody[] }> {
    return this.http.request('POST', '/v1/presence:batchGet', { userIds });
  }

  async room(kind: string, id: string): Promise<RoomBody> {
    return this.http.request('GET', `/v1/rooms/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
  }

  async gate(userId: string, channel: string, bypassDoNotDisturb: boolean): Promise<GateBody> {
    const q = new URLSearchParams({ userId, channel, bypassDoNotDisturb: String(bypassDoNotDisturb) });
    return this.http.request('GET', `/v1/gate?${q}`);
  }
}
