/**
 * The current snapshots of users a socket starts following, from the query service's replica
 * (POST /v1/snapshots:batchGet, as a caller it lists in QUERY_SNAPSHOT_CALLERS). Each request has
 * a deadline; a failure names the URL, so the socket's client gets a retriable error that says why.
 */
import type { FetchSnapshots, FetchedSnapshot } from './subscriptions';

export interface SnapshotFetchOptions {
  readonly queryUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  /** Most ids in one request (the query service's QUERY_BATCH_LIMIT). */
  readonly batchLimit: number;
}

export class SnapshotFetchError extends Error {
  readonly code = 'unavailable';
}

export function snapshotFetcher(o: SnapshotFetchOptions): FetchSnapshots {
  const url = `${o.queryUrl.replace(/\/$/, '')}/v1/snapshots:batchGet`;
  const one = async (userIds: readonly string[]): Promise<readonly FetchedSnapshot[]> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userIds }),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      const err = e as { name?: string; message?: string; cause?: { code?: string } };
      throw new SnapshotFetchError(err.name === 'TimeoutError'
        ? `the query service at ${url} (GATEWAY_QUERY_URL) did not answer within ${o.timeoutMs} ms`
        : `cannot reach the query service at ${url} (GATEWAY_QUERY_URL): ${err.cause?.code ?? err.message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new SnapshotFetchError(`the query service at ${url} answered ${res.status} (is GATEWAY_QUERY_TOKEN's subject in QUERY_SNAPSHOT_CALLERS?): ${text.slice(0, 200)}`);
    return (JSON.parse(text) as { snapshots: FetchedSnapshot[] }).snapshots;
  };
  return async (userIds) => {
    const out: FetchedSnapshot[] = [];
    for (let i = 0; i < userIds.length; i += o.batchLimit) out.push(...(await one(userIds.slice(i, i + o.batchLimit))));
    return out;
  };
}
