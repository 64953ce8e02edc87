/**
 * Level 1 of the parallelism framework (parallelism-framework.md, "Level 1:
 * File Domain Check") and the pattern half of Level 3 ("Integration Point
 * Check"): which domain (coordinator) owns a resource key, whether that domain
 * serializes every task touching it, and which integration tags a key carries.
 *
 * Pure: built once from a validated {@link Config}; the only state is a per-
 * instance cache of resolved keys.
 */
import picomatch from "picomatch";
import type { Config } from "../runtime/config.js";
import { keyKind } from "../paths.js";
import { domainRulesOf, integrationRulesOf } from "./well-known.js";

/** The domain of a file that sits directly in the project root when no rule matches it. */
export const ROOT_DOMAIN = "(root)";

/** Most keys cached per {@link DomainMap}; the cache is emptied when it is full (a long-lived server sees ever new keys). */
export const DOMAIN_CACHE_LIMIT = 200_000;

/** Name used for the hypothetical child of a directory key when matching globs (see {@link DomainMap}). */
const DIR_PROBE = "x";

interface CompiledRule {
  /** Position in the config list (for messages and ordering). */
  index: number;
  /** The name the rule assigns: a domain or a tag. */
  name: string;
  /** True for an exact file pattern (no glob characters, not ending in `/`). */
  exact: boolean;
  /** Exact patterns: the normalised path. Globs: the picomatch pattern. */
  pattern: string;
  /** Globs: the compiled matcher. */
  match?: (input: string) => boolean;
  /**
   * The literal folder part of the pattern with a trailing `/` (`backend/app/alembic/`
   * for `backend/app/alembic/**`), or the exact path itself; `""` for a pattern
   * that starts with a glob. Used to tell whether a rule lies inside a directory key.
   */
  base: string;
}

interface Resolved {
  domain: string | undefined;
  domains: readonly string[];
  tags: readonly string[];
}

const NO_NAMES: readonly string[] = Object.freeze([]);
const EMPTY: Resolved = Object.freeze({ domain: undefined, domains: NO_NAMES, tags: NO_NAMES });

/** Light normalisation of a config pattern so it compares like a normalised key. */
function normalizePattern(pattern: string): string {
  return pattern.normalize("NFC").trim().replace(/\\/g, "/").replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/");
}

function compile(rules: readonly { pattern: string }[], names: readonly string[], field: string): CompiledRule[] {
  return rules.map((rule, index) => {
    const pattern = normalizePattern(rule.pattern);
    const name = names[index] ?? "";
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob && !pattern.endsWith("/")) {
      return { index, name, exact: true, pattern, base: pattern };
    }
    // A literal folder pattern (`backend/app/`) covers everything below it.
    const glob = scan.isGlob ? pattern : `${pattern}**`;
    const base = scan.isGlob ? (scan.base === "" ? "" : `${scan.base.replace(/\/+$/, "")}/`) : pattern;
    let match: (input: string) => boolean;
    try {
      match = picomatch(glob, { dot: true });
    } catch (err) {
      throw new Error(`${field}[${index}].pattern: invalid glob \`${rule.pattern}\` (${(err as Error).message})`);
    }
    return { index, name, exact: false, pattern: glob, match, base };
  });
}

/**
 * The domain map of one configuration (parallelism-framework.md Level 1) plus
 * the integration-point patterns (Level 3).
 *
 * Matching rules, for a normalised key (see `paths.ts`):
 * - `table:` and `resource:` keys have no domain and no tags.
 * - A file key: an exact-file rule (a pattern without glob characters) wins over
 *   globs (first such rule in config order); otherwise the FIRST matching glob in
 *   config order wins. A literal pattern ending in `/` (`backend/app/`) is a glob
 *   covering everything below that folder.
 * - No matching rule (or no rules at all): the top-level folder is the domain
 *   (`app/actions/auth.ts` -> `app`); a file in the root gets {@link ROOT_DOMAIN}.
 *   Such a folder domain is an ordinary domain name: if it equals a configured
 *   domain it is that domain (and serializes if that one does; erring towards
 *   serializing).
 * - A directory key `backend/app/` is matched as if it were a path inside that
 *   folder: a glob matches it when it matches `backend/app` or `backend/app/x`.
 *   Its primary domain ({@link domainOf}) is found that way; {@link domainsOf}
 *   and {@link tagsOf} also include every rule whose literal base lies inside the
 *   folder (`backend/app/alembic/**` is inside `backend/app/`), because a task
 *   writing the whole folder touches those files too. Globs whose literal base is
 *   empty (`**\/*.md`) are only tested against the two probe paths.
 *
 * Results are cached per key inside the instance (the hot path resolves
 * thousands of keys per request); the cache holds at most
 * {@link DOMAIN_CACHE_LIMIT} keys.
 */
export class DomainMap {
  private readonly domainRules: CompiledRule[];
  private readonly exactDomain = new Map<string, string>();
  private readonly globDomains: CompiledRule[];
  private readonly tagRules: CompiledRule[];
  private readonly serialized = new Set<string>();
  private readonly cache = new Map<string, Resolved>();
  /** One shared `[domain]` list per domain name (most keys resolve to a single domain). */
  private readonly single = new Map<string, readonly string[]>();

  /**
   * @param config a validated configuration (`parseConfig` / `defaultConfig`);
   *        `config.domains` and `config.integration_points`, each followed by
   *        the well-known rules `config.defaults` leaves on (well-known.ts),
   *        are compiled once.
   * @throws Error if picomatch rejects a pattern: `domains[i].pattern: invalid glob ...`
   *         or `integration_points[i].pattern: ...`.
   */
  constructor(config: Config) {
    const domainRules = domainRulesOf(config);
    const tagRules = integrationRulesOf(config);
    this.domainRules = compile(
      domainRules,
      domainRules.map((d) => d.domain),
      "domains",
    );
    this.tagRules = compile(
      tagRules,
      tagRules.map((t) => t.tag),
      "integration_points",
    );
    for (const rule of this.domainRules) {
      if (rule.exact && !this.exactDomain.has(rule.pattern)) this.exactDomain.set(rule.pattern, rule.name);
    }
    this.globDomains = this.domainRules.filter((r) => !r.exact);
    domainRules.forEach((d) => {
      if (d.parallel === "none") this.serialized.add(d.domain);
    });
  }

  /** True when the configuration has at least one domain rule. */
  get hasDomainRules(): boolean {
    return this.domainRules.length > 0;
  }

  /**
   * The domain of one normalised key, or `undefined` for `table:`/`resource:` keys.
   * See the class documentation for the precedence rules (Level 1: "specific file
   * mappings take precedence over directory patterns").
   */
  domainOf(key: string): string | undefined {
    return this.resolve(key).domain;
  }

  /**
   * Every domain a key touches: for a file, `[domainOf(key)]`; for a directory key,
   * its primary domain followed by the domains of rules lying inside the folder,
   * in config order, deduplicated. Empty for `table:`/`resource:` keys.
   */
  domainsOf(key: string): readonly string[] {
    return this.resolve(key).domains;
  }

  /**
   * Whether a domain always serializes (its rule has `"parallel": "none"`;
   * parallelism-framework.md Level 1, `backend/alembic/* -> NONE (serialized)`).
   * Unknown domains return false.
   */
  isSerialized(domain: string): boolean {
    return this.serialized.has(domain);
  }

  /**
   * The integration tags of a key (Level 3): the tags of ALL matching
   * `integration_points` rules, in config order, deduplicated. Exact patterns
   * match the identical key; directory keys match like in {@link domainsOf}.
   * Empty for `table:`/`resource:` keys.
   */
  tagsOf(key: string): readonly string[] {
    return this.resolve(key).tags;
  }

  private resolve(key: string): Resolved {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const kind = keyKind(key);
    let out: Resolved;
    if (kind === "table" || kind === "resource") {
      out = EMPTY;
    } else if (kind === "dir") {
      out = this.resolveDir(key);
    } else {
      const domain = this.fileDomain(key);
      out = { domain, domains: this.singleton(domain), tags: this.fileTags(key) };
    }
    if (this.cache.size >= DOMAIN_CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }

  private fileDomain(key: string): string {
    const exact = this.exactDomain.get(key);
    if (exact !== undefined) return exact;
    for (const rule of this.globDomains) {
      if (rule.match?.(key) === true) return rule.name;
    }
    return topFolder(key);
  }

  private singleton(domain: string): readonly string[] {
    let list = this.single.get(domain);
    if (list === undefined) {
      list = Object.freeze([domain]);
      this.single.set(domain, list);
    }
    return list;
  }

  private fileTags(key: string): readonly string[] {
    let tags: string[] | undefined;
    for (const rule of this.tagRules) {
      const hit = rule.exact ? rule.pattern === key : rule.match?.(key) === true;
      if (!hit) continue;
      tags ??= [];
      if (!tags.includes(rule.name)) tags.push(rule.name);
    }
    return tags ?? NO_NAMES;
  }

  private resolveDir(key: string): Resolved {
    const bare = key.slice(0, -1);
    const probe = `${key}${DIR_PROBE}`;
    let domain: string | undefined;
    for (const rule of this.globDomains) {
      if (rule.match?.(bare) === true || rule.match?.(probe) === true) {
        domain = rule.name;
        break;
      }
    }
    domain ??= topFolder(key);
    const domains = [domain];
    for (const rule of this.domainRules) {
      if (rule.base !== "" && rule.base.startsWith(key) && !domains.includes(rule.name)) domains.push(rule.name);
    }
    const tags: string[] = [];
    for (const rule of this.tagRules) {
      const hit =
        (rule.base !== "" && rule.base.startsWith(key)) ||
        (!rule.exact && (rule.match?.(bare) === true || rule.match?.(probe) === true));
      if (hit && !tags.includes(rule.name)) tags.push(rule.name);
    }
    return { domain, domains, tags };
  }
}

/** `app/actions/auth.ts` -> `app`; `app/` -> `app`; `README.md` -> {@link ROOT_DOMAIN}. */
function topFolder(key: string): string {
  const slash = key.indexOf("/");
  return slash <= 0 ? ROOT_DOMAIN : key.slice(0, slash);
}
