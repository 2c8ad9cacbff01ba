// Generated from schemas/*.avsc by services/contract/generate-types.ts. Do not edit.

// ActivitySource.avsc
/** Who says what the user is doing: the user by hand (manual), a calendar integration, a call system. Each source has its own last-writer-wins activity register, so one source clearing its activity leaves another's in force. */
export type ActivitySource = "manual" | "calendar" | "callSystem";
export const ActivitySourceSymbols = ["manual", "calendar", "callSystem"] as const;

// ActivityType.avsc
/** What a present user is doing, beside their availability. Folded into the effective status unless a manual override says otherwise: Presenting and Focusing read DoNotDisturb, InACall and InAMeeting read Busy, Custom (free text with an emoji) changes nothing. Listed in precedence order: the first in force is the user's current activity. */
export type ActivityType = "Presenting" | "Focusing" | "InACall" | "InAMeeting" | "Custom";
export const ActivityTypeSymbols = ["Presenting", "Focusing", "InACall", "InAMeeting", "Custom"] as const;

// ActivityUpdate.avsc
/** For kind=activity on presence.override.v1: sets (activity non-null) or clears (activity null) the activity register of one source, ordered by the event's (setAt, eventId). */
export interface ActivityUpdate {
  /** Whose register this writes: manual, calendar or callSystem. */
  source: ActivitySource;
  /** The activity; null clears this source's activity. */
  activity: null | ActivityType;
  /** Optional text (trimmed, at most 100 characters, no control characters); a Custom activity needs text or an emoji. */
  customText: null | string;
  /** Optional emoji (trimmed, at most 16 code points, no whitespace or control characters). */
  emoji: null | string;
  /** When it stops applying (after setAt and in the future when processed, else a dead letter); null means until changed. */
  expiresAt: null | number;
}

// ActivityView.avsc
/** An activity in force as of the snapshot, from one source; readers evaluate expiresAt against their clock. */
export interface ActivityView {
  /** The activity. */
  activity: ActivityType;
  /** Who set it. */
  source: ActivitySource;
  /** Its text, if any. */
  customText: null | string;
  /** Its emoji, if any. */
  emoji: null | string;
  /** When it stops applying; null means until changed. */
  expiresAt: null | number;
  /** When it was set (orders activities of equal precedence: the later first). */
  setAt: number;
}

// Actor.avsc
/** Who set an override or a setting, for the audit. Gateways stamp it from the authenticated caller, never from what the client sent. */
export interface Actor {
  /** user, admin or integration. */
  kind: ActorKind;
  /** The actor's id (for kind=user, the user's id, the token subject); bounded like every id. */
  id: string;
}

// ActorKind.avsc
/** Who made a change: the user themself (stamped by a gateway from the caller's token), an admin (an operator or a trusted back office) or an integration (another system writing the topic on the user's behalf). */
export type ActorKind = "user" | "admin" | "integration";
export const ActorKindSymbols = ["user", "admin", "integration"] as const;

// ContactEntry.avsc
/** Value of the compacted presence.contacts.v1: `contact` is in `owner`'s contact list (who may see the owner when the owner's visibility is contacts). The key is owner, U+001F (the ASCII unit separator, which ids may not contain), contact; a removal is a tombstone (null value) on that key. At most 5,000 contacts per owner. */
export interface ContactEntry {
  /** The user whose list this is; the key's first part. */
  owner: string;
  /** The user added to the list; the key's second part. */
  contact: string;
  /** When the contact was added (by the producer's clock). Over the bound, readers keep the owner's contacts added earliest (addedAt, then contact). */
  addedAt: number;
}

// DeadLetter.avsc
/** Value of presence.dlq.v1: an input record that could not be processed, with where it came from and why. Processing went on past it. */
export interface DeadLetter {
  /** Topic the record was read from. */
  sourceTopic: string;
  /** Its partition. */
  sourcePartition: number;
  /** Its offset. */
  sourceOffset: number;
  /** Original key bytes. */
  key: null | Buffer;
  /** Original value bytes. */
  value: null | Buffer;
  /** Stable code: undecodable, unknown-schema, rejected, ... */
  errorCode: string;
  /** The offending field, when one is to blame. */
  field: null | string;
  /** Human-readable reason. */
  reason: string;
  /** Which service dead-lettered it. */
  service: string;
  /** When. */
  failedAt: number;
}

// Device.avsc
/** One live session of the user, with its gateway and active/idle flag for routing pushes. No per-device times: they would change the snapshot on every heartbeat. */
export interface Device {
  /** Device id. */
  deviceId: string;
  /** Session id. */
  sessionId: string;
  /** Client platform. */
  platform: Platform;
  /** Gateway of the session's latest heartbeat, where a push to this session goes; null when the gateway did not say (or the snapshot predates the field). */
  gatewayId: null | string;
  /** true while the session's own last activity (observedAt minus idle time) is less than the away threshold old; false once idle. Changes only when crossing that threshold. Snapshots written before the field read as true. */
  active: boolean;
}

// GatewayLease.avsc
/** Value of the compacted presence.gateway-lease.v1, keyed by gatewayId: a gateway announcing that it is alive and holds sessions. It renews the lease every leaseMs/3 while it runs and writes a last one with leaseMs 0 when it stops cleanly (after ending its sessions). When renewedAt + leaseMs passes without a renewal, the processor takes the gateway as gone and ends, as a clean disconnect at renewedAt + leaseMs, every session whose latest heartbeat came through this gateway (PresenceHeartbeat.gatewayId) no later than that instant. A gateway that never writes a lease is never taken as gone: its silent sessions expire at the offline threshold. A tombstone forgets the gateway (no lease: never expired). */
export interface GatewayLease {
  /** The gateway; equals the record key and the gatewayId it stamps on its heartbeats. */
  gatewayId: string;
  /** When this run (incarnation) of the gateway started (gateway clock). A restarted gateway with the same id has a new startedAt: the sessions of the previous run whose latest heartbeat is older than it are ended then, without waiting for the old lease to run out. */
  startedAt: number;
  /** When the gateway wrote this renewal (gateway clock, the clock of its heartbeats' observedAt). */
  renewedAt: number;
  /** How long the lease lasts past renewedAt without a renewal, in ms: the gateway is taken as gone from renewedAt + leaseMs. 0: the gateway stopped cleanly (its sessions were already ended). */
  leaseMs: number;
}

// HeartbeatKind.avsc
/** heartbeat: the session is alive and reports its idle time. disconnect: the session ended cleanly (socket closed, sign-out). */
export type HeartbeatKind = "heartbeat" | "disconnect";
export const HeartbeatKindSymbols = ["heartbeat", "disconnect"] as const;

// JournalStep.avsc
/** What one step of a processor task was: batch (a batch of one input topic applied) or tick (its timers fired, and gateway lease expiries applied, then a flush). */
export type JournalStep = "batch" | "tick";
export const JournalStepSymbols = ["batch", "tick"] as const;

// LastSeenPrivacy.avsc
/** How others see the user's last-seen time: exact (the timestamps), coarse (only recently / within a week / long ago), hidden (nothing). The user always sees their own exactly. */
export type LastSeenPrivacy = "exact" | "coarse" | "hidden";
export const LastSeenPrivacySymbols = ["exact", "coarse", "hidden"] as const;

// LeaseExpiry.avsc
/** A gateway lease expiry a processor tick applied: the sessions last heard through the gateway at or before deadUpTo were ended as clean disconnects at deadUpTo. */
export interface LeaseExpiry {
  /** The gateway whose lease ran out. */
  gatewayId: string;
  /** The instant up to which its sessions were ended. */
  deadUpTo: number;
}

// MemberEphemeral.avsc
/** A present member's short-lived state in a room snapshot, until expiresAt (readers drop it from then on). */
export interface MemberEphemeral {
  /** What the session is doing (see RoomEphemeral). */
  state: string;
  /** What it applies to, if said. */
  target: null | string;
  /** When the state lapses without a newer event: observedAt plus the event's time to live. */
  expiresAt: number;
}

// NotificationDecision.avsc
/** Value of notification.decision.v1, keyed by userId: the gate's answer to one request. */
export interface NotificationDecision {
  /** The request answered. */
  requestId: string;
  /** Recipient. */
  userId: string;
  /** Channel asked for. */
  channel: string;
  /** true: send it; false: suppress. */
  deliver: boolean;
  /** Why, as a stable code (e.g. suppressed-dnd, bypassed-dnd, store-and-forward, unknown-user-offline). */
  reason: string;
  /** Effective status the gate saw. */
  status: PresenceStatus;
  /** false when the gate had no snapshot for the user and decided as Offline. */
  userKnown: boolean;
  /** When the decision was made. */
  decidedAt: number;
  /** Push channels that deliver: the gateways of the recipient's live sessions, those with an active session first, then idle ones, each group by id (sessions of unknown gateway left out). Empty: no live session to route to, use offline delivery. Null for store-and-forward channels and suppressed pushes. */
  targetGateways: null | Array<string>;
}

// NotificationRequest.avsc
/** Value of notification.request.v1, keyed by userId: may this notification go out on this channel now? */
export interface NotificationRequest {
  /** Unique id, echoed in the decision. */
  requestId: string;
  /** Recipient. */
  userId: string;
  /** Delivery channel: websocket, sse, web-push, mobile-push (push, gated) or in-app, email, sms, chat (store-and-forward, always delivered); configurable. */
  channel: string;
  /** Let a push through Do Not Disturb (security alerts). */
  bypassDoNotDisturb: boolean;
  /** When it was requested. */
  requestedAt: number;
}

// OverrideKind.avsc
/** status: sets the manual status register. visibility: sets the visibility register. lastSeen: sets the last-seen privacy register. activity: sets or clears one source's activity register (field activity). */
export type OverrideKind = "status" | "visibility" | "lastSeen" | "activity";
export const OverrideKindSymbols = ["status", "visibility", "lastSeen", "activity"] as const;

// OverrideStatus.avsc
/** A status the user sets by hand. Available clears a previous override. */
export type OverrideStatus = "Available" | "Busy" | "DoNotDisturb" | "AppearOffline";
export const OverrideStatusSymbols = ["Available", "Busy", "DoNotDisturb", "AppearOffline"] as const;

// OverrideView.avsc
/** The manual status in force (as of the snapshot) with its expiry. */
export interface OverrideView {
  /** The manual status. */
  status: OverrideStatus;
  /** Custom status text. */
  customText: null | string;
  /** When it stops applying; readers evaluate it against their clock. */
  expiresAt: null | number;
}

// Platform.avsc
/** Kind of client a session runs on. */
export type Platform = "web" | "desktop" | "ios" | "android" | "other";
export const PlatformSymbols = ["web", "desktop", "ios", "android", "other"] as const;

// PresenceChange.avsc
/** Value of presence.changes.v1, keyed by userId: one record per effective-status transition. */
export interface PresenceChange {
  /** The user. */
  userId: string;
  /** Status before. */
  from: PresenceStatus;
  /** Status after. */
  to: PresenceStatus;
  /** When the transition took effect (event time, or the deadline for clock-driven ones). */
  at: number;
  /** event (an input record caused it) or clock (a threshold or expiry passed). */
  cause: string;
  /** User state version after the transition; duplicates share it. */
  version: number;
}

// PresenceHeartbeat.avsc
/** Value of presence.heartbeat.v1, keyed by userId. Published by gateways every heartbeat interval per session, and once with kind=disconnect when a session closes cleanly. */
export interface PresenceHeartbeat {
  /** heartbeat or clean disconnect. */
  kind: HeartbeatKind;
  /** The user; also the record key. */
  userId: string;
  /** Stable id of the device (browser profile, phone). */
  deviceId: string;
  /** Id of one connection (a tab, an app process); several per device. */
  sessionId: string;
  /** Client platform. */
  platform: Platform;
  /** When the gateway observed the heartbeat (gateway clock). Future values are clamped by the processor. */
  observedAt: number;
  /** How long this session's user has been idle, in ms, as reported by the client. Ignored for disconnect. */
  idleMs: number;
  /** Which gateway published it, for tracing. */
  gatewayId: null | string;
}

// PresenceOverride.avsc
/** Value of presence.override.v1, keyed by userId. Last-writer-wins registers ordered by (setAt, eventId): the manual status (kind=status), the visibility setting (kind=visibility) the last-seen privacy setting (kind=lastSeen) and one activity register per source (kind=activity). */
export interface PresenceOverride {
  /** Which register this event writes. */
  kind: OverrideKind;
  /** The user; also the record key. */
  userId: string;
  /** Unique id of this change; tie-breaker when two share setAt. */
  eventId: string;
  /** When the user made the change. */
  setAt: number;
  /** For kind=status: the manual status; Available clears. */
  status: null | OverrideStatus;
  /** For kind=status: optional custom status text (trimmed, bounded). */
  customText: null | string;
  /** For kind=status: when the override stops applying; null means until changed. */
  expiresAt: null | number;
  /** For kind=visibility: the new setting. */
  visibility: null | Visibility;
  /** For kind=lastSeen: the new setting. */
  lastSeenPrivacy: null | LastSeenPrivacy;
  /** For kind=activity: the source and its new activity (or null to clear it), text, emoji and expiry. */
  activity: null | ActivityUpdate;
  /** Who made the change (audit); null: not recorded (records written before it existed, or a producer that does not say). */
  actor: null | Actor;
  /** Why, optional free text for the audit (trimmed, at most 200 characters, no control characters; blank reads as null). */
  reason: null | string;
}

// PresenceSnapshot.avsc
/** Value of the compacted presence.snapshot.v1, keyed by userId: a user's reader-visible presence. Written only when something a reader can see changed, or to refresh lastSeen/lastActive before a reader would compute a wrong status from stale ones. Readers recompute the effective status from these fields with their own clock. */
export interface PresenceSnapshot {
  /** The user; also the record key. */
  userId: string;
  /** Effective status at emittedAt. */
  status: PresenceStatus;
  /** When the effective status last changed. */
  statusSince: null | number;
  /** Latest heartbeat over all sessions; null if never seen. */
  lastSeen: null | number;
  /** Latest activity over all sessions (observedAt minus idle time). */
  lastActive: null | number;
  /** Manual status, if one is set. */
  override: null | OverrideView;
  /** Activities in force at emittedAt, one at most per source, in precedence order (the current activity first). Readers drop expired ones with their clock and fold the first with an effect into the status unless the override decides it. */
  activities: Array<ActivityView>;
  /** Who may see the status. */
  visibility: Visibility;
  /** How readers show this user's lastSeen, lastActive and statusSince to others: exact, coarse (a bucket instead of times) or hidden. Readers apply it; the times here are always exact. */
  lastSeenPrivacy: LastSeenPrivacy;
  /** Live sessions. */
  devices: Array<Device>;
  /** Per-user state version; monotonically increasing. Readers drop a record whose version is not above the last applied one. */
  version: number;
  /** When the processor wrote this snapshot (stream time). */
  emittedAt: number;
  /** Written with the adaptive offline rule on: when the listed devices go offline without a newer heartbeat (the latest of their per-session deadlines). Readers use it instead of lastSeen plus the fixed offline threshold; null: the fixed rule. */
  offlineAt: null | number;
}

// PresenceStatus.avsc
/** Effective status a reader sees, in rule order: an AppearOffline override reads Offline; DoNotDisturb and Busy overrides win over activity; otherwise Offline (no live session), Away (idle past the away threshold) or Online. */
export type PresenceStatus = "Online" | "Away" | "Busy" | "DoNotDisturb" | "Offline";
export const PresenceStatusSymbols = ["Online", "Away", "Busy", "DoNotDisturb", "Offline"] as const;

// ProcessorJournalEntry.avsc
/** Value of presence.processor-journal.v1 (retained), keyed by the partition number as a decimal string and written to that same partition: one record per step a processor task took, in the order it took them, with the clock reading it took it at. The processor is a pure function of its inputs and of these steps, so `presence rebuild` replays the retained inputs through the same steps and gets the same transitions and snapshots as the live run. */
export interface ProcessorJournalEntry {
  /** The task (input partition number); equals the record key and the Kafka partition it is written to. */
  partition: number;
  /** batch or tick. */
  step: JournalStep;
  /** The instant the step was applied at (the processor's clock): events of a batch are applied, hygiene-clamped and flushed at it; a tick fires the timers due at it and flushes at it. */
  at: number;
  /** batch: the input topic's role without prefix (heartbeat, override or room); null for a tick. */
  input: null | string;
  /** batch: the offset of its first record on that input partition. */
  fromOffset: null | number;
  /** batch: the offset after its last record. */
  nextOffset: null | number;
  /** Whether the task flushed (decided its snapshots and changes) at `at` after the step; false for a batch whose outputs a catching-up task deferred. */
  flushed: boolean;
  /** tick: the gateway lease expiries applied before the timers fired. */
  leaseExpiries: Array<LeaseExpiry>;
}

// ProcessorWatermark.avsc
/** Value of the compacted presence.processor-watermark.v1, keyed by the partition number as a decimal string and written to that same partition: the processor's promise that every snapshot of one input partition is current as of `watermark`. A reader of presence.snapshot.v1 that knows the watermark of a user's partition (murmur2 of the userId over the snapshot topic's partition count, which equals the input topics') keeps trusting that user's snapshot until watermark + its grace (PRESENCE_WATERMARK_GRACE_MS), even after the snapshot's lastSeen/lastActive lease ran out; without it, a reader must decay the snapshot by its leases alone. A tombstone means: no watermark for this partition. */
export interface ProcessorWatermark {
  /** The input partition (= snapshot partition) this watermark covers; equals the record key and the Kafka partition it is written to. */
  partition: number;
  /** W, an instant of the processor's clock: every snapshot of this partition is current as of W (all input the processor had read applied, every away/offline/expiry timer due at or before W fired and its snapshot acknowledged before this record was written). */
  watermark: number;
  /** When the processor wrote this record (its wall clock); informational, at or after watermark. */
  emittedAt: number;
}

// RoomChange.avsc
/** Value of the retained presence.room-changes.v1, keyed by "<roomKind>/<roomId>": one record per room snapshot the processor writes, so a room's membership over time survives the compaction of presence.room-snapshot.v1. A room that emptied (a tombstone on the snapshot topic) is a change with no members. */
export interface RoomChange {
  /** Kind of resource. */
  roomKind: string;
  /** Resource id. */
  roomId: string;
  /** Sessions present from `at` on; empty when the room emptied. */
  members: Array<RoomMember>;
  /** Per-room state version, as on the room snapshot (the tombstone's is the next one); duplicates share it. */
  version: number;
  /** When the processor decided the change (the room snapshot's emittedAt; processing time). */
  at: number;
}

// RoomEphemeral.avsc
/** A member's short-lived state in a room, as sent on a room event of kind ephemeral: what the session is doing right now (typing, editing a field). PII-free like room metadata: a short token, not content. */
export interface RoomEphemeral {
  /** What the session is doing: a short token such as typing or editing (letters, digits, '-', '_', '.', ':'; bounded like an id). */
  state: string;
  /** Optional id of what it applies to (a field, a thread), bounded like an id. */
  target: null | string;
}

// RoomEvent.avsc
/** Value of presence.room.v1, keyed by the room key "<roomKind>/<roomId>". Who is looking at this resource right now. */
export interface RoomEvent {
  /** What happened. */
  kind: RoomEventKind;
  /** Kind of resource, e.g. document. */
  roomKind: string;
  /** Id of the resource within its kind. */
  roomId: string;
  /** The member's user. */
  userId: string;
  /** The member's session; a user may be in a room from several sessions. */
  sessionId: string;
  /** When the gateway observed the event. */
  observedAt: number;
  /** Small opaque PII-free member data (cursor colour, view mode); bounded in entries and bytes. */
  metadata: null | Record<string, string>;
  /** For kind=ephemeral: the session's short-lived state; null clears it. */
  ephemeral: null | RoomEphemeral;
  /** For kind=ephemeral: how long the state lasts without a newer event, in ms; null: the processor's default (5 s); at most its maximum (30 s). */
  ephemeralTtlMs: null | number;
}

// RoomEventKind.avsc
/** join: a session enters the room. leave: it leaves. heartbeat: it is still there. sessionEnded: the session is gone (acts as leave). ephemeral: it is still there and sets (or, with ephemeral null, clears) its short-lived state, e.g. typing. */
export type RoomEventKind = "join" | "leave" | "heartbeat" | "sessionEnded" | "ephemeral";
export const RoomEventKindSymbols = ["join", "leave", "heartbeat", "sessionEnded", "ephemeral"] as const;

// RoomMember.avsc
/** One session present in a room. */
export interface RoomMember {
  /** Member's user. */
  userId: string;
  /** Member's session. */
  sessionId: string;
  /** When the session joined. */
  joinedAt: number;
  /** Last room heartbeat as of the snapshot. */
  lastSeen: number;
  /** Opaque member data, bounded. */
  metadata: Record<string, string>;
  /** The member's short-lived state (typing, editing) while it lasts; null: none. */
  ephemeral: null | MemberEphemeral;
}

// RoomSnapshot.avsc
/** Value of the compacted presence.room-snapshot.v1, keyed by "<roomKind>/<roomId>": who is in the room. A tombstone (null value) when the room empties. */
export interface RoomSnapshot {
  /** Kind of resource. */
  roomKind: string;
  /** Resource id. */
  roomId: string;
  /** Present sessions. */
  members: Array<RoomMember>;
  /** Per-room state version; monotonically increasing. */
  version: number;
  /** When the processor wrote it. */
  emittedAt: number;
}

// Visibility.avsc
/** Who may see the user's status: everyone; contacts (only the users in the user's contact list, presence.contacts.v1; anyone else reads Offline); or nobody but the user (others read Offline). */
export type Visibility = "everyone" | "nobody" | "contacts";
export const VisibilitySymbols = ["everyone", "nobody", "contacts"] as const;
