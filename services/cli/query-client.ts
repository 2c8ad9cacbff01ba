/**
 * The query service over HTTP, for the commands that read (status, room, gate). Every request has
 * a deadline; what goes wrong becomes a CliError: not reachable or no answer (exit 1, naming the
 * URL and QUERY_URL), the token refused (exit 1), an argument the service refused (exit 2, naming
 * the field it named).
 */
import type { GateAnswer, PresenceBody, RoomBody } from '../query/read-model';
import { CliError, RefusedError, UnreachableError, UsageError } from './errors';

export type GateBody = Extract<GateAnswer, { ok: true }>['body'];

export interface QueryClientOptions {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  readonly timeoutMs: number;
}

export class QueryClient {
  constructor(private readonly o: QueryClientOptions) {}

  async batchGet(userIds: readonly string[]): Promise<{ presences: PresenceBody[] }> {
    return this.request('POST', '/v1/presence:batchGet', { userIds });
  }

  async room(kind: string, id: string): Promise<RoomBody> {
    return this.request('GET', `/v1/rooms/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
  }

  async gate(userId: string, channel: string, bypassDoNotDisturb: boolean): Promise<GateBody> {
    const q = new URLSearchParams({ userId, channel, bypassDoNotDisturb: String(bypassDoNotDisturb) });
    return this.request('GET', `/v1/gate?${q}`);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.o.baseUrl}${path}`;
    const where = `the query service at ${this.o.baseUrl} (QUERY_URL)`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${await this.o.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      if (e instanceof CliError) throw e;
      const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError') throw new UnreachableError(`${where} did not answer ${method} ${path} within ${this.o.timeoutMs} ms (CLI_TIMEOUT_MS)`, e);
      throw new UnreachableError(`cannot reach ${where}: ${err.cause?.code ?? err.cause?.message ?? err.message}`, e);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UnreachableError(`${where} answered ${method} ${path} with ${res.status} and no JSON (is QUERY_URL the query service?): ${text.slice(0, 200)}`);
    }
    if (res.ok) return json as T;
    const { error, field } = (json ?? {}) as { error?: string; field?: string | null };
    if (res.status === 400 && field) throw new UsageError(field, `the query service refused it: ${error ?? 'bad request'}`);
    if (res.status === 401) throw new RefusedError(`${where} refused the token (QUERY_TOKEN, or AUTH_JWT_SECRET as the service's): ${error ?? 'unauthorized'}`);
    if (res.status === 403) throw new RefusedError(`${where} refused ${path.split('?')[0]} to this caller (CLI_SUBJECT; the gate may be limited by QUERY_GATE_CALLERS): ${error ?? 'forbidden'}`);
    throw new UnreachableError(`${where} answered ${method} ${path.split('?')[0]} with ${res.status}: ${error ?? text.slice(0, 200)}`);
  }
}
