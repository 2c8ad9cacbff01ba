/**
 * Gateway ids, one copy each for this thread: every session keeps the id of its latest heartbeat's
 * gateway, and a handful of gateways serve every user, so each decoded heartbeat and store entry
 * would otherwise keep its own copy for the session's lifetime (3 per user in the bench).
 */
import { InternPool } from '../platform/intern-pool';

export const gatewayIds = new InternPool();

export const internGatewayId = <T extends string | null | undefined>(id: T): T =>
  (typeof id === 'string' ? gatewayIds.intern(id) : id) as T;
