/**
 * `/api/activity`: the activity log (log/activity.ts `listActivity`, as
 * `signalbox://activity{?...}`), newest first, filtered by agent, feature
 * and time and paged back through history with `cursor`.
 */
import type { ControlEnv } from "../control/registry/env.js";
import { InvalidArgumentError } from "../errors.js";
import { ACTIVITY_PAGE_MAX, listActivity, parseInstant } from "../log/activity.js";
import type { ActivityPageBody } from "./types.js";

/** Default page size. */
export const ACTIVITY_PAGE = 50;

const PARAMS = ["agent_id", "feature_id", "since", "until", "cursor", "limit"] as const;

/**
 * One page of the log for the query string `params`: `agent_id`,
 * `feature_id`, `since`, `until`, `cursor` (a `next_cursor`), `limit`
 * (1..200, default {@link ACTIVITY_PAGE}); empty values count as absent.
 * @throws InvalidArgumentError naming the parameter: unknown, repeated, too long, a bad time, since after until, a bad limit or cursor.
 */
export function activityPage(env: ControlEnv, params: URLSearchParams): ActivityPageBody {
  const given = new Map<string, string>();
  for (const [name, value] of params) {
    if (!(PARAMS as readonly string[]).includes(name)) throw new InvalidArgumentError(name, `not a parameter; accepted: ${PARAMS.join(", ")}`);
    if (given.has(name)) throw new InvalidArgumentError(name, "given twice; give it once");
    if (value.length > 200 || value.includes("\0")) throw new InvalidArgumentError(name, "expected at most 200 characters without NUL");
    if (value !== "") given.set(name, value);
  }
  const now = env.clock.wallMs();
  const since = given.has("since") ? parseInstant("since", given.get("since") as string, now) : null;
  const until = given.has("until") ? parseInstant("until", given.get("until") as string, now) : null;
  if (since !== null && until !== null && since > until) throw new InvalidArgumentError("since", "is after until");
  let limit = ACTIVITY_PAGE;
  const rawLimit = given.get("limit");
  if (rawLimit !== undefined) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (!(limit >= 1 && limit <= ACTIVITY_PAGE_MAX)) throw new InvalidArgumentError("limit", `expected an integer 1..${ACTIVITY_PAGE_MAX}, got "${rawLimit}"`);
  }
  const page = listActivity(env, {
    agent_id: given.get("agent_id") ?? null,
    feature_id: given.get("feature_id") ?? null,
    since_ms: since,
    until_ms: until,
    cursor: given.get("cursor") ?? null,
    limit,
  });
  return {
    items: page.items.map((e) => ({ seq: e.seq, kind: e.kind, agent_id: e.agent_id, feature_id: e.feature_id, plan_id: e.plan_id, summary: e.summary, at: e.at })),
    next_cursor: page.next_cursor,
    total: page.total,
    oldest_seq: page.oldest_seq,
  };
}
