/**
 * Who may look at the dashboard: one-time link tokens and browser sessions,
 * held in the serving process's memory (docs/dashboard.md, "How auth works").
 * They decide nothing about locks or any other store state, so they need not
 * be shared between processes; each server creates its own
 * {@link DashboardAuth} (no module-level state).
 *
 * - A one-time token is 32 random bytes (base64url), single use, valid for
 *   {@link LINK_TTL_MS}. Only its SHA-256 is kept.
 * - Redeeming one (or logging in with a configured bearer token) opens a
 *   session: another 32 random bytes, sent once as an HttpOnly,
 *   SameSite=Strict cookie and kept as its SHA-256, valid for
 *   {@link SESSION_TTL_MS}.
 * - Both tables are capped; the oldest entry goes first.
 */
import { createHash, randomBytes } from "node:crypto";

/** Lifetime of a one-time link token, ms (5 min). */
export const LINK_TTL_MS = 5 * 60_000;
/** Lifetime of a dashboard session, ms (12 h). */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Most one-time tokens outstanding at once. */
export const MAX_PENDING_LINKS = 32;
/** Most sessions open at once. */
export const MAX_SESSIONS = 256;

/** An open dashboard session. */
export interface DashboardSession {
  /** How it was opened: `link` or the label of the bearer token used at the login form. */
  readonly via: string;
  /** When it stops being accepted (ms on the auth's clock). */
  readonly expires: number;
}

/** Options of {@link DashboardAuth}; everything has a default. */
export interface DashboardAuthOptions {
  /** Clock in ms (default `Date.now`; tests inject one). */
  now?: () => number;
  linkTtlMs?: number;
  sessionTtlMs?: number;
}

const digest = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("base64url");
const fresh = (): string => randomBytes(32).toString("base64url");
/** The form of a token or session id this module hands out: 43 base64url characters. */
const SECRET_FORM = /^[A-Za-z0-9_-]{43}$/;

/** One-time link tokens and sessions of one dashboard server. */
export class DashboardAuth {
  private readonly links = new Map<string, number>();
  private readonly sessions = new Map<string, DashboardSession>();
  private readonly now: () => number;
  private readonly linkTtlMs: number;
  private readonly sessionTtlMs: number;

  constructor(opts: DashboardAuthOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.linkTtlMs = opts.linkTtlMs ?? LINK_TTL_MS;
    this.sessionTtlMs = opts.sessionTtlMs ?? SESSION_TTL_MS;
  }

  /** A new one-time token (43 base64url characters), valid once within the link lifetime. */
  issueLinkToken(): string {
    this.prune();
    const token = fresh();
    this.links.set(digest(token), this.now() + this.linkTtlMs);
    dropOldest(this.links, MAX_PENDING_LINKS);
    return token;
  }

  /** Use up a one-time token: true once for a token issued here and not expired, false ever after. */
  redeemLinkToken(token: string): boolean {
    if (!SECRET_FORM.test(token)) return false;
    const key = digest(token);
    const expires = this.links.get(key);
    if (expires === undefined) return false;
    this.links.delete(key);
    return expires > this.now();
  }

  /** Open a session opened `via` a link or a bearer token's label; returns its id (the cookie value). */
  openSession(via: string): string {
    this.prune();
    const id = fresh();
    this.sessions.set(digest(id), { via, expires: this.now() + this.sessionTtlMs });
    dropOldest(this.sessions, MAX_SESSIONS);
    return id;
  }

  /** The live session with this id, or null (unknown, malformed or expired). */
  session(id: string | undefined): DashboardSession | null {
    if (id === undefined || !SECRET_FORM.test(id)) return null;
    const s = this.sessions.get(digest(id));
    if (s === undefined) return null;
    if (s.expires <= this.now()) {
      this.sessions.delete(digest(id));
      return null;
    }
    return s;
  }

  /** How many one-time tokens and sessions are held now (expired ones dropped first). */
  counts(): { links: number; sessions: number } {
    this.prune();
    return { links: this.links.size, sessions: this.sessions.size };
  }

  /** Seconds a session cookie lives (its Max-Age). */
  get sessionMaxAgeS(): number {
    return Math.floor(this.sessionTtlMs / 1000);
  }

  private prune(): void {
    const t = this.now();
    for (const [k, expires] of this.links) if (expires <= t) this.links.delete(k);
    for (const [k, s] of this.sessions) if (s.expires <= t) this.sessions.delete(k);
  }
}

/** Drop the oldest entries (insertion order) until at most `max` remain. */
function dropOldest<V>(map: Map<string, V>, max: number): void {
  for (const k of map.keys()) {
    if (map.size <= max) return;
    map.delete(k);
  }
}
