/**
 * `signalbox://activity`: the live activity log of every coordination event
 * (the team's audit trail; DESIGN.md, "Domain model"), newest first, and the
 * template `signalbox://activity{?agent_id,feature_id,since,until,cursor,limit}`
 * filtering it by agent, feature and time, one page at a time.
 *
 * The template is RFC 6570 form-style query expansion, but a client may give
 * any subset of the parameters in any order: {@link QueryUriTemplate} matches
 * that (the SDK's `UriTemplate.match` wants every variable, in order).
 * Unknown or repeated parameters still match, so that reading them fails with
 * an Error naming the parameter instead of "resource not found".
 *
 * Old entries are pruned by retention (config `retention`,
 * log/activity.ts): a cursor below the oldest kept entry gives a short or
 * empty last page, never an error; `oldest_seq` says where the log begins.
 */
import { ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { UriTemplate, type Variables } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { ACTIVITY_PAGE_MAX, listActivity, parseInstant, type ActivityPage } from "../src/log/activity.js";
import { jsonContents } from "./common.js";
import { InvalidArgumentError } from "../src/errors.js";

/** The fixed resource: the newest page. */
export const ACTIVITY_URI = "signalbox://activity";
/** The template's query parameters, in the order `expand` writes them. */
export const ACTIVITY_PARAMS = ["agent_id", "feature_id", "since", "until", "cursor", "limit"] as const;
type ActivityParam = (typeof ACTIVITY_PARAMS)[number];

/** Longest agent id (as the tools accept it) and feature id. */
const AGENT_ID_MAX = 128;
const FEATURE_ID_MAX = 200;

/**
 * An RFC 6570 template `base{?p1,p2,...}` whose `match` accepts the query
 * parameters as a form does: any subset, any order, percent-decoded, and
 * names outside the template too (the read function rejects those by name).
 * A parameter given twice comes back as an array. Any URI that is not `base`
 * itself or `base?query` (a fragment is ignored) gives null. `expand` and
 * `toString` are the SDK's.
 */
export class QueryUriTemplate extends UriTemplate {
  constructor(
    readonly base: string,
    readonly params: readonly string[],
  ) {
    super(`${base}{?${params.join(",")}}`);
  }

  override match(uri: string): Variables | null {
    const hash = uri.indexOf("#");
    const u = hash >= 0 ? uri.slice(0, hash) : uri;
    if (!u.startsWith(this.base)) return null;
    const rest = u.slice(this.base.length);
    if (rest === "") return {};
    if (!rest.startsWith("?")) return null;
    const vars = new Map<string, string | string[]>();
    for (const pair of rest.slice(1).split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = decode(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
      const prev = vars.get(name);
      vars.set(name, prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]);
    }
    return Object.fromEntries(vars);
  }
}

/** Percent-decode one query component (RFC 3986: `+` is a plus); a malformed escape is kept as written. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What the query asks for, validated; times are epoch ms and the ISO form shown in `filter`. */
export interface ActivityQuery {
  agent_id: string | null;
  feature_id: string | null;
  since_ms: number | null;
  until_ms: number | null;
  cursor: string | null;
  limit: number;
}

/**
 * Validate the template's variables. An empty value counts as not given.
 * @throws Error naming the parameter: one the template does not have (listing
 *         those it has), one given twice, an agent or feature id of the wrong
 *         form, a time that is neither ISO nor a duration, `since` after
 *         `until`, `limit` outside 1..{@link ACTIVITY_PAGE_MAX}.
 *         A bad `cursor` is rejected by `listActivity`, also by name.
 */
export function parseActivityQuery(vars: Variables, nowMs: number, defaultLimit: number): ActivityQuery {
  const given: Partial<Record<ActivityParam, string>> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (!(ACTIVITY_PARAMS as readonly string[]).includes(name)) {
      if (name === "") throw new InvalidArgumentError("uri", `a query parameter has no name; accepted: ${ACTIVITY_PARAMS.join(", ")}`);
      throw new InvalidArgumentError(name, `not a parameter of ${ACTIVITY_URI}; accepted: ${ACTIVITY_PARAMS.join(", ")}`);
    }
    if (Array.isArray(value)) throw new InvalidArgumentError(name, `given ${value.length} times; give it once`);
    if (value !== "") given[name as ActivityParam] = value;
  }
  const { agent_id, feature_id } = given;
  if (agent_id !== undefined && (agent_id.length > AGENT_ID_MAX || !/^[\w.:@/+-]+$/.test(agent_id))) {
    throw new InvalidArgumentError("agent_id", `expected an agent id (at most ${AGENT_ID_MAX} letters, digits and . _ - : @ / +), got "${agent_id}"`);
  }
  if (feature_id !== undefined && (feature_id.length > FEATURE_ID_MAX || feature_id.includes("\0"))) {
    throw new InvalidArgumentError("feature_id", `expected a feature id of at most ${FEATURE_ID_MAX} characters without NUL`);
  }
  const since = given.since === undefined ? null : parseInstant("since", given.since, nowMs);
  const until = given.until === undefined ? null : parseInstant("until", given.until, nowMs);
  if (since !== null && until !== null && since > until) {
    throw new InvalidArgumentError("since", `${new Date(since).toISOString()} is after until ${new Date(until).toISOString()}`);
  }
  let limit = defaultLimit;
  if (given.limit !== undefined) {
    limit = /^\d{1,4}$/.test(given.limit) ? Number(given.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= ACTIVITY_PAGE_MAX)) throw new InvalidArgumentError("limit", `expected an integer 1..${ACTIVITY_PAGE_MAX}, got "${given.limit}"`);
  }
  return { agent_id: agent_id ?? null, feature_id: feature_id ?? null, since_ms: since, until_ms: until, cursor: given.cursor ?? null, limit };
}

/** The resource body: a page of {@link ActivityPage}, the filter applied, and the URI of the next page. */
export interface ActivityBody extends ActivityPage {
  /** The next page's URI (the same filter with absolute times, and `cursor`); null on the last page. */
  next_uri: string | null;
  /** What was applied; `since`/`until` as ISO times (a duration resolved against this read). */
  filter: { agent_id: string | null; feature_id: string | null; since: string | null; until: string | null; cursor: string | null; limit: number };
}

/** Read one page for `q` and build its body. */
export function activityBody(ctx: Context, template: QueryUriTemplate, q: ActivityQuery): ActivityBody {
  const page = listActivity(ctx, q);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const filter = { agent_id: q.agent_id, feature_id: q.feature_id, since: iso(q.since_ms), until: iso(q.until_ms), cursor: q.cursor, limit: q.limit };
  let next_uri: string | null = null;
  if (page.next_cursor !== null) {
    const vars: Variables = { cursor: page.next_cursor, limit: String(q.limit) };
    if (filter.agent_id !== null) vars.agent_id = filter.agent_id;
    if (filter.feature_id !== null) vars.feature_id = filter.feature_id;
    if (filter.since !== null) vars.since = filter.since;
    if (filter.until !== null) vars.until = filter.until;
    next_uri = template.expand(vars);
  }
  return { items: page.items, next_cursor: page.next_cursor, next_uri, total: page.total, oldest_seq: page.oldest_seq, filter };
}

/** `signalbox://activity` (the newest page) and its filtering template. */
export function registerActivityResources(resources: ResourceCatalog, ctx: Context): void {
  const template = new QueryUriTemplate(ACTIVITY_URI, ACTIVITY_PARAMS);
  const defaultLimit = Math.min(ctx.config.control.page_size, ACTIVITY_PAGE_MAX);
  const body =
    "Entries {seq, kind, agent_id (who acted), feature_id, plan_id, summary, data, at} newest first, e.g. lock_granted, lock_refused, " +
    "lock_broken, signal_emitted, signal_resolved, handoff_sent, checkpoint_*, convention_*; " +
    "with next_cursor and next_uri (null on the last page), total (null when a time filter is set), oldest_seq (older entries were pruned by retention) and the filter applied.";
  resources.fixedResource(
    "activity",
    ACTIVITY_URI,
    {
      title: "Activity log",
      description: `Live log of every coordination event, the newest ${defaultLimit}. ${body} Filter and page with signalbox://activity{?...}.`,
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, activityBody(ctx, template, parseActivityQuery({}, ctx.clock.wallMs(), defaultLimit))),
  );
  resources.templateResource(
    "activity-filtered",
    new ResourceTemplate(template, { list: undefined }),
    {
      title: "Activity log (filtered)",
      description:
        `Activity log filtered, any parameters in any order: agent_id, feature_id, since/until (ISO time or a duration ago: 30s, 15m, 2h, 1d; inclusive), ` +
        `cursor (a next_cursor), limit (1..${ACTIVITY_PAGE_MAX}, default ${defaultLimit}). ${body}`,
      mimeType: "application/json",
    },
    async (uri, vars) => jsonContents(uri.href, activityBody(ctx, template, parseActivityQuery(vars, ctx.clock.wallMs(), defaultLimit))),
  );
}
