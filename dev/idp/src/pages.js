// The provider's own HTML pages and the one Content-Security-Policy they are all sent with.
//
// The policy forbids scripts (but for the hash of a script a page names), plugins, framing and loads from
// anywhere, and limits where forms may lead. Browsers apply `form-action` to every redirect that follows a
// form submission, so it must name the places a sign-in or sign-out ends: the registered redirect URIs'
// custom schemes (`com.okta.example:`) and loopback (`http://127.0.0.1:*`, any port, RFC 8252 §7.3).
// Without them the browser silently drops the last hop back to the native app.
import { createHash } from 'node:crypto';

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;justify-content:center}
main{background:#fff;margin-top:8vh;padding:32px 40px;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12);width:320px}
h1{font-size:1.4em;font-weight:500;margin-top:0}
label{display:block;margin:12px 0 4px;font-size:.9em}
input{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #c1c4cc;border-radius:4px}
button{width:100%;margin-top:16px;padding:10px;font-size:1em;border:0;border-radius:4px;cursor:pointer}
a.tile{display:block;margin-top:16px;padding:12px;border:1px solid #c1c4cc;border-radius:4px;color:#1662dd;text-decoration:none}
.primary{background:#1662dd;color:#fff}.secondary{background:#e6e8ec;color:#1d1d21}
.error{color:#b00020}
</style></head><body><main>${body}</main></body></html>`;
}

// Where a form on these pages may lead, redirects included: the pages themselves, and every place a
// registered redirect URI points to (its scheme for a private-use scheme, its host on any port for loopback).
export function formTargets(redirectUris) {
  const targets = new Set(["'self'"]);
  for (const uri of redirectUris) {
    let url;
    try {
      url = new URL(uri);
    } catch {
      continue;
    }
    if (url.protocol === 'http:' || url.protocol === 'https:') targets.add(`${url.protocol}//${url.hostname}:*`);
    else targets.add(url.protocol);
  }
  return [...targets];
}

// The Content-Security-Policy header value; `scripts` are inline scripts the page may run (by hash).
// With no scripts, `script-src 'report-sample'` allows none; unlike `'none'` it stays valid when
// oidc-provider appends the hash of one of its own auto-submit scripts (form_post pages).
export function contentSecurityPolicy(targets, scripts = []) {
  const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`);
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `script-src ${hashes.length ? hashes.join(' ') : "'report-sample'"}`,
    `form-action ${targets.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function htmlHeaders(targets, scripts = []) {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': contentSecurityPolicy(targets, scripts),
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}
