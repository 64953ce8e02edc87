/**
 * Conventions: the first agent's choice is the standard; a different later
 * choice is refused and escalated, never silently applied.
 *
 * Sources: coordination-skill.md, "Convention Authority" (staggered work: the
 * first agent establishes, the orchestrator propagates; later agents read the
 * first agent's decision log) and "Convention Drift Check" (before editing,
 * check the conventions established for the file or module and follow them;
 * if one seems wrong, escalate to the orchestrator, don't silently change).
 *
 * A convention is keyed by (scope, key). A scope is a picomatch glob relative
 * to the project root (`app/actions/**`, `**`), a directory `app/` (covering
 * everything below it), a file, or a `table:`/`resource:` name. Scopes are
 * canonicalised so one place has one spelling: `app/**` and `app/` are the
 * same scope, `.` and `**` too. Key layout: records.ts (`conventions`, `C`).
 * Activity log (activity.ts): `convention_set` when a value becomes the
 * standard, `convention_clash_escalated` for each refused different value.
 */
import path from "node:path";
import picomatch from "picomatch";
import { appendDecision } from "../log/decisions.js";
import { keyKind, keysOverlap, MAX_KEY_BYTES, normalizeKey } from "../paths.js";
import { allAgents, orchestratorInboxes } from "./registry/agents.js";
import { recordActivity } from "../log/activity.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { openEscalation } from "./escalations.js";
import { deliver } from "./registry/inbox.js";
import type { ConventionRecord, EscalationRecord } from "./registry/records.js";
import { InvalidArgumentError } from "../errors.js";
import { conventions } from "../store/schema.js";
import type { ReadTxn } from "../store/txn.js";

/** The scope that covers the whole project. */
export const ALL_SCOPE = "**";

function isNamed(s: string): boolean {
  return s.startsWith("table:") || s.startsWith("resource:");
}

function isGlob(s: string): boolean {
  return picomatch.scan(s).isGlob;
}

function compileGlob(glob: string, field: string): (input: string) => boolean {
  try {
    return picomatch(glob, { dot: true });
  } catch (err) {
    throw new InvalidArgumentError(field, `invalid glob \`${glob}\` (${(err as Error).message})`);
  }
}

/**
 * Normalise a convention scope to its canonical form: POSIX separators, NFC,
 * `./` and duplicate slashes removed, absolute paths inside `root` made
 * relative; the root itself (`.`, `/`, `**`, `**\/*`) becomes `**`; `dir/**`
 * and a glob ending in `/` become the directory form (`dir/` when the rest is
 * literal). Literal scopes follow the resource-key rules (src/paths.ts).
 * @throws Error naming `field` for an empty scope, a NUL byte, a scope leaving
 *         the root, an over-long scope or an invalid glob.
 */
export function normalizeScope(raw: string, root: string, field = "scope"): string {
  if (raw.includes("\0")) throw new InvalidArgumentError(field, `contains a NUL byte`);
  let s = raw.normalize("NFC").trim().replace(/\\/g, "/").replace(/\/{2,}/g, "/");
  if (s === "") throw new InvalidArgumentError(field, `is empty; expected a glob (\`app/actions/**\`, \`**\`) or a directory (\`app/\`)`);
  if (isNamed(s)) {
    if (!isGlob(s)) return normalizeKey(s, root, field);
    if (Buffer.byteLength(s) > MAX_KEY_BYTES) throw new InvalidArgumentError(field, `is longer than ${MAX_KEY_BYTES} bytes`);
    compileGlob(s, field);
    return s;
  }
  if (path.posix.isAbsolute(s)) {
    const rootPosix = root.replace(/\\/g, "/").replace(/\/+$/, "");
    const trailing = s.endsWith("/");
    const rel = path.posix.relative(rootPosix, path.posix.normalize(s));
    if (rel.startsWith("..") || path.posix.isAbsolute(rel)) throw new InvalidArgumentError(field, `\`${raw}\` is outside the project root ${root}`);
    s = rel === "" ? "." : trailing ? `${rel}/` : rel;
  }
  s = path.posix.normalize(s);
  if (s === ".." || s.startsWith("../")) throw new InvalidArgumentError(field, `\`${raw}\` leaves the project root`);
  s = s.replace(/^(\.\/)+/, "");
  if (s === "" || s === "." || s === "./" || s === "**" || s === "**/" || s === "**/*") return ALL_SCOPE;
  if (!isGlob(s)) return normalizeKey(s, root, field);
  if (s.endsWith("/")) s = `${s}**`;
  if (s.endsWith("/**")) {
    const base = s.slice(0, -2);
    if (!isGlob(base)) return normalizeKey(base, root, field);
  }
  if (Buffer.byteLength(s) > MAX_KEY_BYTES) throw new InvalidArgumentError(field, `is longer than ${MAX_KEY_BYTES} bytes`);
  compileGlob(s, field);
  return s;
}

/**
 * A predicate telling which normalised keys a canonical scope covers. Files:
 * a directory scope covers everything below it, a glob what picomatch
 * matches. A directory key (`app/actions/`) matches every scope that could
 * apply to something inside it: directory and file scopes that overlap it,
 * globs matching the directory itself or whose literal base overlaps it (so
 * the answer may include a glob that matches only some files in it).
 * `table:`/`resource:` keys only match named scopes.
 */
export function scopeMatcher(scope: string): (key: string) => boolean {
  const named = isNamed(scope);
  if (!isGlob(scope)) {
    return (key) => isNamed(key) === named && keysOverlap(scope, key);
  }
  const match = compileGlob(scope, "scope");
  const base = picomatch.scan(scope).base;
  const baseDir = base === "" ? null : `${base.replace(/\/+$/, "")}/`;
  return (key) => {
    if (isNamed(key) !== named) return false;
    if (keyKind(key) !== "dir") return match(key);
    const dir = key.slice(0, -1);
    return match(dir) || baseDir === null || keysOverlap(baseDir, key);
  };
}

/** One convention, or undefined. */
export function getConvention(env: ControlEnv, scope: string, key: string): ConventionRecord | undefined {
  return env.txn.read().get(conventions.convention, [scope, key]);
}

/** Every convention in `tx`, by scope then key. */
function conventionsIn(tx: ReadTxn): ConventionRecord[] {
  return [...tx.values(conventions.convention)];
}

/** Every convention, by scope then key. Read-only. */
export function allConventions(env: ControlEnv): ConventionRecord[] {
  return conventionsIn(env.txn.read());
}

/**
 * The conventions whose scope covers the normalised key `key` (see
 * {@link scopeMatcher}), by convention key, then the most specific scope
 * (longest) first. Read-only.
 */
export function conventionsFor(env: ControlEnv, key: string): ConventionRecord[] {
  return conventionsIn(env.txn.latest())
    .filter((c) => scopeMatcher(c.scope)(key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : b.scope.length - a.scope.length || (a.scope < b.scope ? -1 : 1)));
}

/** What an agent proposes. `scope` must already be canonical ({@link normalizeScope}). */
export interface ConventionInput {
  agent_id: string;
  scope: string;
  key: string;
  value: string;
  rationale?: string | null;
}

/**
 * The outcome of {@link setConvention}:
 * - `established`: the first value for (scope, key), now the standard, logged as
 *   a `convention` decision and announced to every agent but the setter;
 * - `already_standard`: the same value is the standard already (nothing written);
 * - `refused`: a different value stands; `convention` is the standing one, and
 *   an escalation went to the orchestrator (`escalation_id`).
 */
export interface SetConventionResult {
  status: "established" | "already_standard" | "refused";
  /** The standing convention after the call. */
  convention: ConventionRecord;
  proposed_value: string;
  escalation_id: string | null;
  /** The announcement (established) or null. */
  message_id: string | null;
  /** How many inboxes the announcement reached. */
  notified: number;
}

function sameClash(e: EscalationRecord, c: ConventionInput): boolean {
  const d = e.detail;
  return (
    e.status === "open" &&
    e.kind === "convention_clash" &&
    d.scope === c.scope &&
    d.key === c.key &&
    d.proposed_value === c.value &&
    d.proposed_by === c.agent_id
  );
}

/**
 * Propose a convention, in one write transaction: the first value for
 * (scope, key) becomes the standard; the same value again is
 * `already_standard`; a different value is `refused` (a normal result, since
 * the escalation must be written) and opens a `convention_clash` escalation to
 * the orchestrator naming both values and who set the standing one. The same
 * clash proposed again by the same agent reuses its open escalation.
 * @throws Error naming `key` or `value` when empty or holding a NUL byte.
 */
export function setConvention(env: ControlEnv, input: ConventionInput): SetConventionResult {
  const key = input.key.trim();
  const value = input.value.trim();
  if (key === "" || key.includes("\0")) throw new InvalidArgumentError("key", `expected a non-empty name without NUL bytes, e.g. action_naming`);
  if (value === "" || value.includes("\0")) throw new InvalidArgumentError("value", `expected a non-empty value without NUL bytes`);
  const c: ConventionInput = { ...input, key, value };
  const { clock } = env;
  return env.txn.write((tx) => {
    const standing = tx.get(conventions.convention, [c.scope, key]);
    if (standing && standing.value === value) {
      return { status: "already_standard", convention: standing, proposed_value: value, escalation_id: null, message_id: null, notified: 0 };
    }
    if (standing) {
      let open: EscalationRecord | undefined;
      for (const e of tx.values(conventions.escalation)) {
        if (sameClash(e, c)) open = e;
      }
      const reused = open !== undefined;
      open ??= openEscalation(env, {
        kind: "convention_clash",
        opened_by: c.agent_id,
        summary: `${c.agent_id} proposes ${key} = "${value}" for ${c.scope}; the standard is "${standing.value}" (set by ${standing.set_by})`,
        detail: {
          scope: c.scope,
          key,
          standing_value: standing.value,
          standing_set_by: standing.set_by,
          standing_set_at: standing.set_at,
          standing_decision_seq: standing.decision_seq,
          proposed_value: value,
          proposed_by: c.agent_id,
          rationale: c.rationale ?? null,
        },
        agents: [...new Set([standing.set_by, c.agent_id])],
      });
      recordActivity(env, {
        kind: "convention_clash_escalated",
        agent_id: c.agent_id,
        summary: `${c.agent_id} proposed ${key} = "${value}" for ${c.scope}, refused (standard "${standing.value}" by ${standing.set_by}); ${reused ? "still" : "escalated as"} ${open.escalation_id}`,
        data: { scope: c.scope, key, proposed_value: value, standing_value: standing.value, standing_set_by: standing.set_by, escalation_id: open.escalation_id, reused },
      });
      return { status: "refused", convention: standing, proposed_value: value, escalation_id: open.escalation_id, message_id: null, notified: 0 };
    }
    const decision = appendDecision(tx, clock, {
      type: "convention",
      decided_by: c.agent_id,
      context: `first convention for ${key} in scope ${c.scope}`,
      decision: `${key} = ${value} (scope ${c.scope})`,
      rationale: c.rationale ?? null,
      refs: [c.scope],
    });
    const rec: ConventionRecord = {
      scope: c.scope,
      key,
      value,
      set_by: c.agent_id,
      set_at: nowIso(env),
      rationale: c.rationale ?? null,
      decision_seq: decision.seq,
    };
    tx.put(conventions.convention, [c.scope, key], rec);
    const recipients = [...allAgents(env).map((a) => a.agent_id), ...orchestratorInboxes(env)].filter((id) => id !== c.agent_id);
    const sent = deliver(env, recipients, {
      from: c.agent_id,
      kind: "convention",
      priority: "normal",
      summary: `convention ${key} = "${value}" for ${c.scope} (set by ${c.agent_id}, decision #${decision.seq}): follow it; escalate rather than change it`,
      body: { scope: c.scope, key, value, set_by: c.agent_id, rationale: rec.rationale, decision_seq: decision.seq },
    });
    recordActivity(env, {
      kind: "convention_set",
      agent_id: c.agent_id,
      summary: `${c.agent_id} set convention ${key} = "${value}" for ${c.scope} (decision #${decision.seq})`,
      data: { scope: c.scope, key, value, decision_seq: decision.seq, notified: sent.delivered_to.length },
    });
    return {
      status: "established",
      convention: rec,
      proposed_value: value,
      escalation_id: null,
      message_id: sent.delivered_to.length > 0 ? sent.message_id : null,
      notified: sent.delivered_to.length,
    };
  });
}
