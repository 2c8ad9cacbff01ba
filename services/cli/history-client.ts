/**
 * The history service over HTTP (`presence history`), through the shared ServiceClient (deadlines;
 * errors that name HISTORY_URL). The answer's types are the service's (services/history/openapi.ts).
 */
import type { ActorKind, EffectiveStatus, OverrideStatus } from '../core';
import { ServiceClient } from './service-client';

export interface HistoryActor { readonly kind: ActorKind; readonly id: string }
export interface HistoryInterval {
  readonly status: EffectiveStatus;
  readonly from: number;
  readonly to: number;
  readonly cause: string | null;
  readonly setBy: { readonly at: number; readonly status: OverrideStatus; readonly actor: HistoryActor | null; readonly reason: string | null } | null;
}
export interface HistorySetting {
  readonly at: number;
  readonly kind: 'status' | 'visibility' | 'lastSeenPrivacy';
  readonly value: string;
  readonly customText?: string | null;
  readonly expiresAt?: number | null;
  readonly actor: HistoryActor | null;
  readonly reason: string | null;
}
export interface HistoryBody {
  readonly userId: string;
  readonly from: number;
  readonly to: number;
  readonly intervals: readonly HistoryInterval[];
  readonly settings: readonly HistorySetting[];
}

export interface HistoryClientOptions {
  readonly baseUrl: string;
  readonly token: () => Promise<string>;
  readonly timeoutMs: number;
}

export class HistoryClient {
  private readonly http: ServiceClient;

  constructor(o: HistoryClientOptions) {
    this.http = new ServiceClient({ ...o, service: 'the history service', urlVariable: 'HISTORY_URL', forbidden: 'CLI_SUBJECT; a user whose last-seen privacy is not exact keeps their history to themselves' });
  }

  /** The user's status intervals and settings in [from, to). */
  async history(userId: string, from: number, to: number): Promise<HistoryBody> {
    return this.http.request('GET', `/v1/users/${encodeURIComponent(userId)}/history?from=${from}&to=${to}`);
  }
}
