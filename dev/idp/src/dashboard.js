// A stand-in for Okta's end-user dashboard: one tile per app. Clicking the native app's tile sends the
// browser to the app's *initiate login URI* (OIDC Core §4) with `iss` set to the **org URL**
// (`http://127.0.0.1:<port>`, no `/oauth2/default`), which is what Okta sends even for apps that use a
// custom authorization server. Unlike Okta's, this dashboard asks for no sign-in first.
import { page, escapeHtml, htmlHeaders } from './pages.js';

// Handles /app/UserHome and /home/oidc_client/:clientId; answers false for any other path.
export function handleDashboard({ config, orgUrl, targets }, req, res, pathname) {
  if (req.method !== 'GET') return false;
  if (pathname === '/app/UserHome') {
    const tile = config.initiateLoginUri
      ? `<a class="tile" id="app-${escapeHtml(config.clientId)}" href="/home/oidc_client/${encodeURIComponent(config.clientId)}">Okta Sign-In Example</a>`
      : '<p>No app has an initiate login URI.</p>';
    res.writeHead(200, htmlHeaders(targets));
    res.end(page('My Apps', `<h1>My Apps</h1>${tile}`));
    return true;
  }
  const match = /^\/home\/oidc_client\/([^/]+)$/.exec(pathname);
  if (!match) return false;
  if (decodeURIComponent(match[1]) !== config.clientId || !config.initiateLoginUri) {
    res.writeHead(404, htmlHeaders(targets));
    res.end(page('Not found', '<h1>No such app</h1>'));
    return true;
  }
  const target = new URL(config.initiateLoginUri);
  target.searchParams.set('iss', orgUrl);
  res.writeHead(302, { location: target.href, 'cache-control': 'no-store' });
  res.end();
  return true;
}
