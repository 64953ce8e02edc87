/**
 * Peer review (execution-template.md, "Peer Review Mechanisms": automatic
 * assignment, expertise matching, workload balancing; "Review Process":
 * submission, feedback, approval). The tools are `request_review` and
 * `submit_review` (README, "Quality gates, peer review, integration,
 * emergencies").
 *
 * Rules:
 * - A review is of a started feature's current attempt (active or
 *   completed). Its author is the feature's agent, who never reviews it; the
 *   requester does not review it either.
 * - The reviewer is chosen among registered, available agents (heartbeat,
 *   agents.ts `isAvailable`); an orchestrator only when nobody else is. Rank:
 *   (1) domain: the agent's domain equals the `expertise` asked, else one of
 *   the files' domains; (2) role: the agent's role equals the `expertise`
 *   asked, else auditor/architect before coder/test_engineer before the rest;
 *   (3) fewest open reviews; (4) agent id. The record carries `reason`, the
 *   sentence saying why.
 * - Only the assigned reviewer submits, once, while the review is open;
 *   `changes_requested` must say what must change (`findings`). Author and
 *   requester are told (inbox kind `review`).
 * - A gate with `requires_review` counts the newest review of the feature's
 *   attempt that is open or submitted ({@link latestReview}); a rollback
 *   withdraws open reviews ({@link withdrawReviews}).
 *
 * Every read-check-write is one write transaction. Key layout: store/schema.ts
 * (`quality`: `review` `R` seq12 -> {@link ReviewRecord};
 * `openReviewByReviewer` `o` reviewer `\0` seq12 -> 1 while open;
 * `reviewByFeature` `r` feature_id `\0` seq12 -> 1).
 */
import { features, meta, quality } from "../store/schema.js";
import { recordActivity } from "../log/activity.js";
import { allAgents, isAvailable } from "./registry/agents.js";
import { NotPermittedError } from "./registry/authority.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import { cap } from "./registry/page.js";
import type { AgentRecord, FeatureRecord, ReviewRecord, ReviewVerdict, Role } from "./registry/records.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";

/** Most files listed in a review message body (the record keeps them all). */
const MESSAGE_FILES_CAP = 50;

/** Review ids look like `rev-12`. */
const REVIEW_ID = /^rev-(\d{1,12})$/;

/** Preference among reviewer roles when no `expertise` names the role: higher is preferred. */
const ROLE_PREFERENCE: Record<Role, number> = {
  auditor: 2,
  architect: 2,
  coder: 1,
  test_engineer: 1,
  other: 0,
  orchestrator: 0,
};

/**
 * The lifecycle record of `featureId` (records.ts `features` `F` key), read
 * directly: features.ts calls this module, so importing it back would make a cycle.
 */
function getFeature(env: ControlEnv, featureId: string): FeatureRecord | undefined {
  return env.txn.read().get(features.feature, [featureId]);
}

/** One review by id (`rev-<n>`), or undefined. Reads in the open transaction, if any. */
export function getReview(env: ControlEnv, reviewId: string): ReviewRecord | undefined {
  const m = REVIEW_ID.exec(reviewId);
  if (!m) return undefined;
  return env.txn.read().get(quality.review, [Number(m[1])]);
}

/** How many reviews are open for `agentId` (index `o`). */
export function openReviewCount(env: ControlEnv, agentId: string): number {
  let n = 0;
  for (const _ of env.txn.read().range(quality.openReviewByReviewer, { prefix: [agentId] })) n++;
  return n;
}

/** Every review of `featureId` (any attempt, any status), newest first. */
function reviewsOf(env: ControlEnv, featureId: string): ReviewRecord[] {
  const tx = env.txn.read();
  const out: ReviewRecord[] = [];
  for (const { key } of tx.range(quality.reviewByFeature, { prefix: [featureId], reverse: true })) {
    const rec = tx.get(quality.review, [key[1]]);
    if (rec) out.push(rec);
  }
  return out;
}

/**
 * The newest review of the feature's attempt that was submitted or is open
 * (withdrawn ones are skipped), or undefined. A gate with `requires_review`
 * passes only when this review is `approved`. Reads in the open transaction, if any.
 */
export function latestReview(env: ControlEnv, featureId: string, attempt: number): ReviewRecord | undefined {
  return reviewsOf(env, featureId).find((r) => r.feature_attempt === attempt && r.status !== "withdrawn");
}

/**
 * Mark the feature's open reviews withdrawn (a rollback: the work under
 * review is gone) and tell each reviewer why (inbox kind `review`). Call
 * inside a write transaction (the caller's rollback records the activity).
 * Returns the withdrawn review ids, oldest first.
 */
export function withdrawReviews(env: ControlEnv, featureId: string, reason: string): string[] {
  return env.txn.write((tx) => {
    const out: string[] = [];
    for (const rec of reviewsOf(env, featureId).reverse()) {
      if (rec.status !== "open") continue;
      tx.put(quality.review, [rec.seq], { ...rec, status: "withdrawn" });
      tx.remove(quality.openReviewByReviewer, [rec.reviewer, rec.seq]);
      deliver(env, [rec.reviewer], {
        from: "signalbox",
        kind: "review",
        summary: `${rec.review_id} of ${featureId} withdrawn: ${reason}`,
        body: { review_id: rec.review_id, feature_id: featureId, status: "withdrawn", reason },
        ref: { kind: "review", id: rec.review_id },
      });
      out.push(rec.review_id);
    }
    return out;
  });
}

/** What `request_review` supplies. */
export interface ReviewRequest {
  /** The requester. */
  agent_id: string;
  feature_id: string;
  /** Normalised keys of the files to review (paths.ts `normalizeKeys`), at least one. */
  files: string[];
  /** A domain or a role to match; null: the files' domains and the reviewer-role preference. */
  expertise?: string | null;
}

/** A candidate reviewer with its ranking. */
interface Candidate {
  agent: AgentRecord;
  /** 2: domain equals the expertise asked; 1: domain is one of the files' domains; 0: neither. */
  domain: number;
  /** 3: role equals the expertise asked; else {@link ROLE_PREFERENCE}. */
  role: number;
  open: number;
}

function rank(a: Candidate, b: Candidate): number {
  return b.domain - a.domain || b.role - a.role || a.open - b.open || (a.agent.agent_id < b.agent.agent_id ? -1 : a.agent.agent_id > b.agent.agent_id ? 1 : 0);
}

/** The sentence saying why `best` was chosen among `all` (the review's `reason`: every assignment says why that reviewer). */
function reasonFor(best: Candidate, all: Candidate[], expertise: string | null, fileDomains: readonly string[], fallback: boolean): string {
  const { agent } = best;
  const domain =
    best.domain === 2
      ? `domain "${agent.domain ?? ""}" matches the expertise asked`
      : best.domain === 1
        ? `domain "${agent.domain ?? ""}" matches the files`
        : `no candidate's domain matches ${expertise !== null ? `"${expertise}" or ` : ""}the files (${fileDomains.join(", ") || "none"})`;
  const role = best.role === 3 ? `role ${agent.role} matches the expertise asked` : `role ${agent.role}`;
  const fewest = Math.min(...all.map((c) => c.open));
  const load =
    `${best.open} open review${best.open === 1 ? "" : "s"}` +
    (best.open === fewest ? `, fewest of ${all.length} candidate${all.length === 1 ? "" : "s"}` : ` (${all.length} candidates)`);
  return `${domain}; ${role}; ${load}${fallback ? "; only an orchestrator was available" : ""}`;
}

/**
 * Choose the reviewer of `featureId` among the registered agents (see the
 * module rules), excluding `author` and `requester`. Read-only; returns null
 * when nobody is available.
 */
function chooseReviewer(
  env: ControlEnv,
  author: string,
  requester: string,
  expertise: string | null,
  fileDomains: readonly string[],
): { reviewer: AgentRecord; reason: string } | null {
  const eligible = allAgents(env).filter((a) => a.agent_id !== author && a.agent_id !== requester && isAvailable(env, a));
  const others = eligible.filter((a) => a.role !== "orchestrator");
  const pool = others.length > 0 ? others : eligible;
  if (pool.length === 0) return null;
  const candidates: Candidate[] = pool.map((agent) => ({
    agent,
    domain: expertise !== null && agent.domain === expertise ? 2 : agent.domain !== null && fileDomains.includes(agent.domain) ? 1 : 0,
    role: expertise !== null && agent.role === expertise ? 3 : ROLE_PREFERENCE[agent.role],
    open: openReviewCount(env, agent.agent_id),
  }));
  candidates.sort(rank);
  const best = candidates[0] as Candidate;
  return { reviewer: best.agent, reason: reasonFor(best, candidates, expertise, fileDomains, others.length === 0) };
}

/**
 * Open a review of `feature_id`'s current attempt and assign its reviewer, in
 * one write transaction: stores the record (`reason` says why that reviewer),
 * tells the reviewer (inbox kind `review`) and records activity
 * `review_requested`. `classify` maps the files to their domains (the
 * project's domain map), in first-seen order.
 *
 * @throws Error `feature_id: ...` if it holds a NUL byte, was never started or
 *         is failed, or if no reviewer is available (naming the domain to
 *         dispatch one for); `files: ...` if empty.
 */
export function requestReview(env: ControlEnv, input: ReviewRequest, classify: (files: readonly string[]) => string[]): ReviewRecord {
  const { agent_id, feature_id, files } = input;
  const expertise = input.expertise ?? null;
  if (feature_id.includes("\0")) throw new InvalidArgumentError("feature_id", "must not contain a NUL byte");
  if (files.length === 0) throw new InvalidArgumentError("files", "expected at least one file to review");
  const fileDomains = classify(files);
  return env.txn.write((tx): ReviewRecord => {
    const feature = getFeature(env, feature_id);
    if (!feature) throw new NotFoundError("feature_id", `feature_id: "${feature_id}" was never started; a review is of a started feature's work`);
    if (feature.status === "failed") {
      throw new InvalidStateError("feature_id", `feature_id: "${feature_id}" is failed; only an active or completed feature is reviewed (start it again first)`);
    }
    const author = feature.agent_id;
    const chosen = chooseReviewer(env, author, agent_id, expertise, fileDomains);
    if (!chosen) {
      const domain = expertise ?? fileDomains[0] ?? null;
      throw new InvalidStateError(
        "feature_id",
        `feature_id: no available reviewer for "${feature_id}" besides its author "${author}"${agent_id !== author ? ` and the requester "${agent_id}"` : ""}; ` +
          `dispatch a reviewer${domain !== null ? ` with domain "${domain}"` : ""} (e.g. role auditor) with dispatch_agents, then request_review again`,
      );
    }
    const seq = tx.next(meta.counter, ["review_seq"]);
    const rec: ReviewRecord = {
      review_id: `rev-${seq}`,
      seq,
      feature_id,
      feature_attempt: feature.attempts,
      files: [...files],
      expertise,
      requested_by: agent_id,
      author,
      reviewer: chosen.reviewer.agent_id,
      reason: chosen.reason,
      status: "open",
      findings: [],
      requested_at: nowIso(env),
      submitted_at: null,
    };
    tx.put(quality.review, [seq], rec);
    tx.put(quality.openReviewByReviewer, [rec.reviewer, seq], 1);
    tx.put(quality.reviewByFeature, [feature_id, seq], 1);
    deliver(env, [rec.reviewer], {
      from: agent_id,
      kind: "review",
      priority: "high",
      summary: `review ${rec.review_id} of ${feature_id} (author ${author}) assigned to you: ${files.length} file(s); submit_review when done`,
      body: { review_id: rec.review_id, feature_id, author, files: cap(files, MESSAGE_FILES_CAP).items, expertise, reason: rec.reason },
      ref: { kind: "review", id: rec.review_id },
    });
    recordActivity(env, {
      kind: "review_requested",
      agent_id,
      feature_id,
      plan_id: feature.plan_id,
      summary: `${agent_id} requested review ${rec.review_id} of ${feature_id}: reviewer ${rec.reviewer} (${rec.reason})`,
      data: { review_id: rec.review_id, reviewer: rec.reviewer, author, attempt: rec.feature_attempt },
    });
    return rec;
  });
}

/** What `submit_review` supplies. */
export interface ReviewSubmission {
  agent_id: string;
  review_id: string;
  verdict: ReviewVerdict;
  /** What the reviewer found; at least one for `changes_requested`. */
  findings: string[];
}

/** The answer of {@link submitReview}: the updated record and who was told. */
export interface SubmitResult {
  review: ReviewRecord;
  notified: string[];
  /** False when the feature was started again since the request: the verdict is about an earlier attempt and no gate counts it. */
  current_attempt: boolean;
}

/**
 * Record the assigned reviewer's verdict in one write transaction: the review
 * leaves the reviewer's open list, author and requester are told (inbox kind
 * `review`), activity `review_submitted` is recorded.
 *
 * @throws Error `findings: ...` for `changes_requested` without findings;
 *         `review_id: ...` for an unknown review or one that is not open
 *         (naming its status); `agent_id: ...` when the caller is not the
 *         assigned reviewer (naming the reviewer).
 */
export function submitReview(env: ControlEnv, input: ReviewSubmission): SubmitResult {
  const { agent_id, review_id, verdict } = input;
  const findings = input.findings.map((f) => f.trim()).filter((f) => f !== "");
  if (verdict === "changes_requested" && findings.length === 0) {
    throw new InvalidArgumentError("findings", "changes_requested needs at least one finding saying what must change");
  }
  return env.txn.write((tx): SubmitResult => {
    const rec = getReview(env, review_id);
    if (!rec) throw new NotFoundError("review_id", `review_id: no review "${review_id}" (ids look like rev-3; request_review returns them)`);
    if (rec.reviewer !== agent_id) {
      throw new NotPermittedError("agent_id", `${review_id} is assigned to "${rec.reviewer}"`, `only "${rec.reviewer}" may submit it, not "${agent_id}"`);
    }
    if (rec.status !== "open") {
      throw new InvalidStateError("review_id", `review_id: ${review_id} is ${rec.status}${rec.submitted_at ? ` (submitted ${rec.submitted_at})` : ""}; only an open review takes a verdict`);
    }
    const done: ReviewRecord = {
      ...rec,
      status: verdict === "approve" ? "approved" : "changes_requested",
      findings,
      submitted_at: nowIso(env),
    };
    tx.put(quality.review, [rec.seq], done);
    tx.remove(quality.openReviewByReviewer, [rec.reviewer, rec.seq]);
    const feature = getFeature(env, rec.feature_id);
    const to = [rec.author, rec.requested_by].filter((a) => a !== agent_id);
    const head = findings.length > 0 ? `: ${findings[0]}${findings.length > 1 ? ` (+${findings.length - 1} more)` : ""}` : "";
    const sent = to.length > 0
      ? deliver(env, to, {
          from: agent_id,
          kind: "review",
          priority: done.status === "changes_requested" ? "high" : "normal",
          summary: `${review_id} of ${rec.feature_id}: ${done.status.replace("_", " ")} by ${agent_id}${head}`,
          body: { review_id, feature_id: rec.feature_id, status: done.status, findings: cap(findings, MESSAGE_FILES_CAP).items },
          ref: { kind: "review", id: review_id },
        }).delivered_to
      : [];
    recordActivity(env, {
      kind: "review_submitted",
      agent_id,
      feature_id: rec.feature_id,
      plan_id: feature?.plan_id ?? null,
      summary: `${agent_id} submitted ${review_id} of ${rec.feature_id}: ${done.status}${head}`,
      data: { review_id, status: done.status, findings: findings.length, attempt: rec.feature_attempt },
    });
    return { review: done, notified: sent, current_attempt: feature?.attempts === rec.feature_attempt };
  });
}

