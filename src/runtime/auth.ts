/**
 * Bearer tokens for `signalbox serve --http` (README, "Over HTTP: agents on
 * several machines"): each token is bound to the agent ids it may act as. Over
 * stdio an `agent_id` is the caller's own claim; over HTTP it must be one its
 * token covers. No MCP types here: the HTTP entry point and tools/register.ts
 * carry a {@link TokenGrant} in the SDK's `AuthInfo.extra`.
 */
import { SignalboxError } from "../errors.js";
import { createHash, timingSafeEqual } from "node:crypto";
import type { HttpTokenT } from "./config.js";

/** What a presented token grants: its label, the agent ids it may act as (`"*"`: any) and the roles it grants them. */
export interface TokenGrant {
  readonly name: string;
  readonly agents: readonly string[];
  /** Authority the token grants its agents (config `http.tokens[].roles`), e.g. `orchestrator`. */
  readonly roles: readonly string[];
}

/** A configured token with its secret resolved. */
export interface ResolvedToken extends TokenGrant {
  /** SHA-256 of the token: compared in constant time, never the token itself. */
  readonly digest: Buffer;
}

const digestOf = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/** SHA-256 of a token as presented: what a session remembers of the token that opened it (never the token itself). */
export function tokenDigest(token: string): Buffer {
  return digestOf(token);
}

/** Whether two token digests are equal, compared in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Resolve the configured tokens (config `http.tokens`): a `token_env` entry
 * reads its environment variable now.
 * @throws Error naming `http.tokens[i].token_env` when the variable is unset or shorter than 16 characters.
 */
export function resolveTokens(tokens: readonly HttpTokenT[], env: NodeJS.ProcessEnv = process.env): ResolvedToken[] {
  return tokens.map((t, i) => {
    let secret = t.token;
    if (secret === undefined) {
      const value = env[t.token_env ?? ""];
      if (value === undefined || value.length < 16) {
        throw new Error(
          `http.tokens[${i}].token_env: environment variable ${t.token_env} ${value === undefined ? "is not set" : "holds fewer than 16 characters"} (token "${t.name}")`,
        );
      }
      secret = value;
    }
    return { name: t.name, agents: [...t.agents], roles: [...t.roles], digest: digestOf(secret) };
  });
}

/**
 * The grant of the token presented, or null if it matches none. Every
 * configured token is compared (SHA-256 digests, `timingSafeEqual`), so the
 * time taken says nothing about which or how much of a token matched.
 */
export function matchToken(tokens: readonly ResolvedToken[], presented: string): TokenGrant | null {
  const digest = digestOf(presented);
  let found: TokenGrant | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(t.digest, digest) && found === null) found = { name: t.name, agents: t.agents, roles: t.roles };
  }
  return found;
}

/** Whether `grant` may act as `agentId`. */
export function mayActAs(grant: TokenGrant, agentId: string): boolean {
  return grant.agents.includes("*") || grant.agents.includes(agentId);
}

/**
 * Refuse a call acting as `agentId` (given in argument `field`) that the caller's token does not cover.
 * @throws SignalboxError (code `not_permitted`) naming `field`, the token's label and the ids it covers.
 */
export function assertMayActAs(grant: TokenGrant, agentId: string, field = "agent_id"): void {
  if (mayActAs(grant, agentId)) return;
  throw new SignalboxError(
    "not_permitted",
    field,
    `${field}: token "${grant.name}" may act as ${grant.agents.map((a) => `"${a}"`).join(", ")}, not "${agentId}"`,
  );
}

/** The key under which a {@link TokenGrant} travels in the SDK's `AuthInfo.extra`. */
export const GRANT_KEY = "signalbox_grant";

/** The grant carried by an SDK `AuthInfo` (`extra[GRANT_KEY]`), or null (stdio: no authentication). */
export function grantOf(authInfo: { extra?: Record<string, unknown> } | undefined): TokenGrant | null {
  const g = authInfo?.extra?.[GRANT_KEY] as TokenGrant | undefined;
  return g && typeof g.name === "string" && Array.isArray(g.agents) && Array.isArray(g.roles) ? g : null;
}
