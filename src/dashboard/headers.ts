/**
 * The headers every dashboard response carries, and small helpers to answer
 * with them. The page loads nothing but its own files: a strict
 * Content-Security-Policy (no inline script or style, no third party, no
 * framing), no MIME sniffing, no Referer (a one-time token in a URL never
 * leaks), and no caching of anything that shows store state.
 */
import type { ServerResponse } from "node:http";

/** The Content-Security-Policy of every dashboard response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every dashboard response (CSP, nosniff, no-referrer, no framing, same-origin isolation). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Answer `status` with `body` of `type`, the security headers, `Cache-Control: no-store` unless `headers` says otherwise. */
export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Cache-Control": "no-store",
    "Content-Type": type,
    "Content-Length": String(bytes.length),
    ...headers,
  });
  res.end(bytes);
}

/** Answer with a JSON body. */
export function sendJson(res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(data), headers);
}

/** Answer with a plain-text body (refusals outside the API: 403, 404, 405, 503). */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  send(res, status, "text/plain; charset=utf-8", `${text}\n`, headers);
}

/** Redirect with 303 See Other (after a login: the next request is a GET). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(303, { ...SECURITY_HEADERS, "Cache-Control": "no-store", Location: location, "Content-Length": "0", ...headers });
  res.end();
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
