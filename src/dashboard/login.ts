/**
 * The page shown at `/` to a browser without a dashboard session: why, and
 * how to get in. With bearer tokens configured (`serve --http`), a form to
 * paste one (POST `/login`); always, the hint to open a fresh one-time link.
 * Plain HTML with no script and no inline style (the CSP forbids both); it
 * uses the page's own stylesheet.
 */
import { escapeHtml } from "./headers.js";

/** What the login page says and offers. */
export interface LoginPage {
  /** Why the page is shown (e.g. the link was used already); null: just not signed in. */
  message: string | null;
  /** Offer the bearer-token form. */
  form: boolean;
}

/** The login page as HTML. */
export function loginHtml(page: LoginPage): string {
  const message = page.message === null ? "" : `<p class="notice" role="alert">${escapeHtml(page.message)}</p>`;
  const form = page.form
    ? `<form method="post" action="/login" class="login-form">
  <label for="token">Bearer token (one of <code>http.tokens</code> in signalbox.config.json)</label>
  <input id="token" name="token" type="password" autocomplete="off" required minlength="16" maxlength="4096">
  <button type="submit">Sign in</button>
</form>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>signalbox dashboard: sign in</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<main class="login" id="main">
<h1>signalbox dashboard</h1>
${message}
<p>This dashboard shows the coordination state of one store, read-only. Open the one-time link that
<code>signalbox dashboard</code> or <code>signalbox serve --http</code> printed (each link works once, for 5 minutes;
run the command again for a new one)${page.form ? ", or sign in with a bearer token" : ""}.</p>
${form}
</main>
</body>
</html>
`;
}
