/**
 * The topics of the public contract (see ARCHITECTURE.md) with their value schema and config.
 * Names are the contract; `prefix` exists so tests and side-by-side deployments get their own.
 */
export type TopicRole =
  | 'heartbeat' | 'override' | 'room'
  | 'snapshot' | 'roomSnapshot' | 'watermark' | 'journal' | 'changes' | 'roomChanges' | 'storeChangelog'
  | 'gatewayLease' | 'contacts' | 'dlq' | 'notificationRequest' | 'notificationDecision';

export interface TopicSpec {
  readonly role: TopicRole;
  readonly name: string;
  /** Full name of the Avro record in schemas/ for the value, or null for an internal encoding. */
  readonly valueSchema: string | null;
  /** What the record key is. */
  readonly key: 'userId' | 'roomKey' | 'storeKey' | 'partition' | 'gatewayId' | 'contactKey' | 'none';
  readonly config: Readonly<Record<string, string>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const compacted = {
  'cleanup.policy': 'compact',
  // Compact soon after a segment rolls, so a replica reading from the start stays small.
  'min.cleanable.dirty.ratio': '0.1',
  'segment.ms': String(60 * 60 * 1000),
  'delete.retention.ms': String(DAY_MS),
};
const retained = (days: number) => ({ 'cleanup.policy': 'delete', 'retention.ms': String(days * DAY_MS) });

export const TOPICS: Readonly<Record<TopicRole, TopicSpec>> = {
  heartbeat: { role: 'heartbeat', name: 'presence.heartbeat.v1', valueSchema: 'presence.v1.PresenceHeartbeat', key: 'userId', config: retained(1) },
  override: { role: 'override', name: 'presence.override.v1', valueSchema: 'presence.v1.PresenceOverride', key: 'userId', config: retained(7) },
  room: { role: 'room', name: 'presence.room.v1', valueSchema: 'presence.v1.RoomEvent', key: 'roomKey', config: retained(1) },
  snapshot: { role: 'snapshot', name: 'presence.snapshot.v1', valueSchema: 'presence.v1.PresenceSnapshot', key: 'userId', config: compacted },
  roomSnapshot: { role: 'roomSnapshot', name: 'presence.room-snapshot.v1', valueSchema: 'presence.v1.RoomSnapshot', key: 'roomKey', config: compacted },
  // Key: the partition number as a decimal string, written with that explicit partition (not hashed).
  watermark: { role: 'watermark', name: 'presence.processor-watermark.v1', valueSchema: 'presence.v1.ProcessorWatermark', key: 'partition', config: compacted },
  // One record per step of each task (batch applied, timers fired) with the instant it used: what
  // `presence rebuild` replays the inputs through. Retained as long as the longest-retained input.
  journal: { role: 'journal', name: 'presence.processor-journal.v1', valueSchema: 'presence.v1.ProcessorJournalEntry', key: 'partition', config: retained(7) },
  changes: { role: 'changes', name: 'presence.changes.v1', valueSchema: 'presence.v1.PresenceChange', key: 'userId', config: retained(7) },
  // The room snapshots as a retained log (the compacted topic keeps only the last per room): room history.
  roomChanges: { role: 'roomChanges', name: 'presence.room-changes.v1', valueSchema: 'presence.v1.RoomChange', key: 'roomKey', config: retained(7) },
  storeChangelog: { role: 'storeChangelog', name: 'presence.processor-store-changelog', valueSchema: null, key: 'storeKey', config: compacted },
  // One record per gateway, renewed every leaseMs/3 while it runs: small, read whole by every processor member.
  gatewayLease: { role: 'gatewayLease', name: 'presence.gateway-lease.v1', valueSchema: 'presence.v1.GatewayLease', key: 'gatewayId', config: compacted },
  // Contact lists: one record per (owner, contact), key `<owner>\u001f<contact>`, a removal is a
  // tombstone. Read whole by every read path that shows one user to another (visibility contacts).
  contacts: { role: 'contacts', name: 'presence.contacts.v1', valueSchema: 'presence.v1.ContactEntry', key: 'contactKey', config: compacted },
  dlq: { role: 'dlq', name: 'presence.dlq.v1', valueSchema: 'presence.v1.DeadLetter', key: 'none', config: retained(14) },
  notificationRequest: { role: 'notificationRequest', name: 'notification.request.v1', valueSchema: 'presence.v1.NotificationRequest', key: 'userId', config: retained(1) },
  notificationDecision: { role: 'notificationDecision', name: 'notification.decision.v1', valueSchema: 'presence.v1.NotificationDecision', key: 'userId', config: retained(7) },
};

/** Topics whose partitions are joined by key in one processor task: they must be co-partitioned. */
export const CO_PARTITIONED: readonly TopicRole[] = ['heartbeat', 'override', 'room', 'storeChangelog'];

/**
 * What provisioning checks: the inputs above plus the outputs whose partition numbers readers rely
 * on. A user's snapshot (murmur2 of the userId) lands in the partition number of its input task only
 * with the same count, and the watermark of task p is written to partition p of the watermark topic.
 */
export const SAME_PARTITION_COUNT: readonly TopicRole[] = [...CO_PARTITIONED, 'snapshot', 'roomSnapshot', 'watermark', 'journal'];

export const topicName = (role: TopicRole, prefix = ''): string => `${prefix}${TOPICS[role].name}`;

/** Confluent TopicNameStrategy subject for a topic's values. */
export const valueSubject = (role: TopicRole, prefix = ''): string => `${topicName(role, prefix)}-value`;

export const roomKey = (roomKind: string, roomId: string): string => `${roomKind}/${roomId}`;
