/**
 * A JSON HTTP service the CLI reads (the query service, the history service), pure transport:
 * every request has a deadline, and what goes wrong becomes a CliError naming the service and the
 * variable holding its URL: not reachable or no answer (exit 1), the token refused (exit 1), a
 * field the service refused (exit 2, naming the field it named).
 */
import { CliError, RefusedError, UnreachableError, UsageError } from './errors';

export interface ServiceClientOptions {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  readonly timeoutMs: number;
  /** How errors name it: `the query service`, and the variable of its URL: `QUERY_URL`. */
  readonly service: string;
  readonly urlVariable: string;
  /** What a 403 means for this service (who may ask what). */
  readonly forbidden: string;
}

export class ServiceClient {
  constructor(private readonly o: ServiceClientOptions) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.o.baseUrl}${path}`;
    const bare = path.split('?')[0];
    const where = `${this.o.service} at ${this.o.baseUrl} (${this.o.urlVariable})`;
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
      throw new UnreachableError(`${where} answered ${method} ${path} with ${res.status} and no JSON (is ${this.o.urlVariable} ${this.o.service}?): ${text.slice(0, 200)}`);
    }
    if (res.ok) return json as T;
    const { error, field } = (json ?? {}) as { error?: string; field?: string | null };
    if (res.status === 400 && field) throw new UsageError(field, `${this.o.service} refused it: ${error ?? 'bad request'}`);
    if (res.status === 401) throw new RefusedError(`${where} refused the token (QUERY_TOKEN, or AUTH_JWT_SECRET as the service's): ${error ?? 'unauthorized'}`);
    if (res.status === 403) throw new RefusedError(`${where} refused ${bare} to this caller (${this.o.forbidden}): ${error ?? 'forbidden'}`);
    throw new UnreachableError(`${where} answered ${method} ${bare} with ${res.status}: ${error ?? text.slice(0, 200)}`);
  }
}
