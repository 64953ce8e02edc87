/**
 * Every keyspace of the store, declared once as code: database, key prefix,
 * typed key parts, record type and record version (store/port.ts
 * `Collection`). The raw keys are byte for byte the layouts the stores on
 * disk already hold (store/lmdb/store.ts, locks/table.ts,
 * control/registry/records.ts, log/activity.ts, control/metrics.ts,
 * control/detectors.ts, analysis/plans.ts), so an existing store reads the
 * same through them.
 *
 * Index collections hold a marker (`1`) or the value their reader needs
 * (a token, a key, a role); each is named after what it lists.
 */
import type { PlanSummary, StoredPlan, StoredSpec } from "../analysis/plans.js";
import type { HolderChange } from "../control/detectors.js";
import type { IntegrationReport } from "../control/integration.js";
import type { RadarMatrix, RadarPairState } from "../control/radar.js";
import type { WaveMergeRecord } from "../control/wave-git.js";
import type { AcquireCounters } from "../control/metrics.js";
import type {
  ActivityRecord,
  AgentRecord,
  AuditHandoffRecord,
  CheckpointRecord,
  ConventionRecord,
  EscalationRecord,
  FeatureRecord,
  GateRecord,
  GateResultRecord,
  IncidentRecord,
  MessageRecord,
  PhaseCoverageRecord,
  ReviewRecord,
  Role,
  SignalRecord,
  WaveIntegrationRecord,
} from "../control/registry/records.js";
import type { LockRecord, WaiterRecord } from "../locks/records.js";
import type { DecisionRecord } from "../log/decision-record.js";
import { collection, numberCollection, pad6, padded, seq12, text, type KeyPart } from "./port.js";

/** A lock-table sequence (fencing token, waiter seq): 15 digits. */
export const seq15 = padded(15);
/** A ring-buffer slot of the wait samples: 4 digits. */
export const slot4 = padded(4);
/** A fixed word as the last part of a key (`<plan_id>\0spec`). */
export function literal<T extends string>(word: T): KeyPart<T> {
  return {
    encode: () => word,
    decode(s) {
      if (s !== word) throw new Error(`store: expected key part "${word}", got "${s}"`);
      return word;
    },
  };
}

/** A text part led by a fixed letter (`F<feature_id>`, `W<plan_id>`): the letter tells kinds of one part apart. */
export function lettered(letter: string): KeyPart<string> {
  return {
    encode: (value) => letter + text.encode(value),
    decode(s) {
      if (!s.startsWith(letter)) throw new Error(`store: expected a key part starting with "${letter}", got "${s}"`);
      return s.slice(letter.length);
    },
  };
}

/** `meta`: schema version, counters (`decision_seq`, `plan_seq`, ...) and names of hard-linked files. */
export const meta = {
  /** Counters and the schema version, by name. */
  counter: collection<number>()("meta", "", "counter", [text]),
  /** `link\0<dev>:<ino>` -> the first key seen for a file with several hard links (store/lmdb/link-names.ts). */
  linkName: collection<string>()("meta", "link\0", "linkName", [text]),
};

/** `lockTable`: locks, their live indexes, waiters and queues in one database (locks/table.ts). */
export const lockTable = {
  counter: collection<number>()("lockTable", "#", "counter", [text]),
  lock: collection<LockRecord>()("lockTable", "L", "lock", [seq15]),
  /** Live locks by key: `H` key `\0` token -> token. */
  liveByKey: collection<number>()("lockTable", "H", "liveByKey", [text, seq15]),
  /** Live locks by agent: `A` agent `\0` token -> key. */
  liveByAgent: collection<string>()("lockTable", "A", "liveByAgent", [text, seq15]),
  /** The agent's last lock on a key that ended without its release: `E` agent `\0` key -> token. */
  endedByAgentKey: collection<number>()("lockTable", "E", "endedByAgentKey", [text, text]),
  waiter: collection<WaiterRecord>()("lockTable", "W", "waiter", [seq15]),
  /** FIFO queue by key: `Q` key `\0` seq -> seq. */
  queueByKey: collection<number>()("lockTable", "Q", "queueByKey", [text, seq15]),
};

/** `decisions`: the append-only decision log by sequence number. */
export const decisions = numberCollection<DecisionRecord>("decisions", "entry");

/** `plans` and `planIndex`: stored wave plans, their feature specs, and summaries by sequence. */
export const plans = {
  plan: collection<StoredPlan>()("plans", "", "plan", [text]),
  spec: collection<StoredSpec>()("plans", "", "spec", [text, literal("spec")]),
  summary: numberCollection<PlanSummary>("planIndex", "summary"),
};

/** `agents`: the registry and its phase and feature memberships (control/registry/records.ts). */
export const agents = {
  agent: collection<AgentRecord>()("agents", "A", "agent", [text]),
  byPhase: collection<Role>()("agents", "P", "byPhase", [text, text]),
  byFeature: collection<Role>()("agents", "F", "byFeature", [text, text]),
  phaseCoverage: collection<PhaseCoverageRecord>()("agents", "C", "phaseCoverage", [text]),
};

/** `features`: the feature lifecycle, and the keys write-locked for each active feature. */
export const features = {
  feature: collection<FeatureRecord>()("features", "F", "feature", [text]),
  /**
   * `L` feature_id `\0` key -> 1: a lock key write-locked for the feature's
   * current attempt (control/features.ts `noteLockedKeys`); a feature's range
   * lists its locked keys.
   */
  lockedKey: collection<1>()("features", "L", "lockedKey", [text, text]),
};

/** `signals`: audit signals, the open pausing ones, audit handoffs. */
export const signals = {
  signal: collection<SignalRecord>()("signals", "S", "signal", [seq12]),
  openPausing: collection<1>()("signals", "O", "openPausing", [seq12]),
  auditHandoff: collection<AuditHandoffRecord>()("signals", "H", "auditHandoff", [seq12]),
  auditHandoffByFeature: collection<1>()("signals", "h", "auditHandoffByFeature", [text, seq12]),
};

/** `messages`: inboxes and the unacknowledged ones. */
export const messages = {
  message: collection<MessageRecord>()("messages", "I", "message", [text, seq12]),
  /** `U` seq `\0` agent -> created_mono. */
  unacknowledged: collection<number>()("messages", "U", "unacknowledged", [seq12, text]),
};

/** `conventions`: conventions by scope and key, escalations. */
export const conventions = {
  convention: collection<ConventionRecord>()("conventions", "C", "convention", [text, text]),
  escalation: collection<EscalationRecord>()("conventions", "E", "escalation", [seq12]),
};

/** `checkpoints`: agents' rendezvous and the open ones. */
export const checkpoints = {
  checkpoint: collection<CheckpointRecord>()("checkpoints", "K", "checkpoint", [text]),
  open: collection<1>()("checkpoints", "O", "open", [text]),
};

/** `metrics`: lock counters, the wait-sample ring, oscillation-detector histories (control/metrics.ts, control/detectors.ts). */
export const metrics = {
  counters: collection<AcquireCounters>()("metrics", "n", "counters", []),
  waitSample: collection<number>()("metrics", "s", "waitSample", [slot4]),
  holderHistory: collection<HolderChange[]>()("metrics", "o", "holderHistory", [text]),
  /** Where the last pruning step of holder histories stopped (an `o` key). */
  prunePosition: collection<string>()("metrics", "O", "prunePosition", []),
};

/** `quality`: gates, gate results, reviews and their indexes. */
export const quality = {
  gate: collection<GateRecord>()("quality", "G", "gate", [text]),
  /** Results of a gate for a feature: `g` gate `\0` `F`feature_id `\0` seq. */
  gateResultOfFeature: collection<GateResultRecord>()("quality", "g", "gateResultOfFeature", [text, lettered("F"), seq12]),
  /** Results of a gate for a wave: `g` gate `\0` `W`plan_id `\0` wave6 `\0` seq. */
  gateResultOfWave: collection<GateResultRecord>()("quality", "g", "gateResultOfWave", [text, lettered("W"), pad6, seq12]),
  review: collection<ReviewRecord>()("quality", "R", "review", [seq12]),
  openReviewByReviewer: collection<1>()("quality", "o", "openReviewByReviewer", [text, seq12]),
  reviewByFeature: collection<1>()("quality", "r", "reviewByFeature", [text, seq12]),
};

/**
 * `integrations`: each wave's integration status, every attempt's report,
 * features archived by a rollback, each wave's speculative merge, and the
 * conflict radar.
 */
export const integrations = {
  wave: collection<WaveIntegrationRecord>()("integrations", "W", "wave", [text, pad6]),
  report: collection<IntegrationReport>()("integrations", "I", "report", [text, pad6, pad6]),
  archivedFeature: collection<FeatureRecord>()("integrations", "X", "archivedFeature", [text, seq12]),
  /** `M` plan_id `\0` wave6 -> the wave's current speculative merge (control/wave-git.ts); one key per wave. */
  waveMerge: collection<WaveMergeRecord>()("integrations", "M", "waveMerge", [text, pad6]),
  /** `Rmatrix` -> the latest conflict-radar matrix (control/radar.ts); a single key. */
  radarMatrix: collection<RadarMatrix>()("integrations", "Rmatrix", "radarMatrix", []),
  /**
   * `R` a `\0` b -> a pair of branches predicted to conflict, a < b
   * (control/radar.ts); the range lists every conflicting pair. It shares
   * its prefix with {@link integrations.radarMatrix}: a walk of the whole
   * range also meets `Rmatrix`, the one key without a NUL, decoded as a
   * single part; pair keys always have two.
   */
  radarPair: collection<RadarPairState>()("integrations", "R", "radarPair", [text, text]),
};

/** `incidents`: emergencies and the open ones. */
export const incidents = {
  incident: collection<IncidentRecord>()("incidents", "N", "incident", [seq12]),
  open: collection<1>()("incidents", "O", "open", [seq12]),
};

/** `activity`: the activity log and its indexes by agent and feature (log/activity.ts). */
export const activity = {
  entry: collection<ActivityRecord>()("activity", "E", "entry", [seq12]),
  byAgent: collection<1>()("activity", "a", "byAgent", [text, seq12]),
  byFeature: collection<1>()("activity", "f", "byFeature", [text, seq12]),
};
