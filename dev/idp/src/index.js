// Entry point: `npm start`. Listens on 127.0.0.1:$PORT (0 = a free port), serves the provider under
// /oauth2/default, prints ISSUER=<url> and writes it to $IDP_READY_FILE once it accepts requests.
import { createServer } from 'node:http';
import { writeFileSync, renameSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual, createHash, randomBytes } from 'node:crypto';
import { loadConfig } from './config.js';
import { loadKeys } from './keys.js';
import { createProvider } from './provider.js';
import { createStorage } from './adapter.js';
import { handleInteraction } from './interactions.js';
import { handleDashboard } from './dashboard.js';
import { readBody } from './form.js';
import { formTargets, contentSecurityPolicy } from './pages.js';

const PREFIX = '/oauth2/default';

// Test option: a provider whose clock is ahead (or behind) of the client's by this many seconds.
const skew = Number(process.env.IDP_TEST_CLOCK_SKEW ?? 0);
if (!Number.isInteger(skew)) throw new Error(`IDP_TEST_CLOCK_SKEW must be whole seconds, got "${process.env.IDP_TEST_CLOCK_SKEW}"`);
if (skew !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew * 1000;
}

function accountsFrom(users) {
  const digest = (value) => createHash('sha256').update(value).digest();
  return {
    byId: (id) => users.find((user) => user.id === id),
    authenticate(username, password) {
      const user = users.find((candidate) => candidate.username === username);
      if (!user) return undefined;
      return timingSafeEqual(digest(user.password), digest(password)) ? user : undefined;
    },
  };
}

// Request counts by route (and by grant type at the token endpoint), and how many live device secrets
// were revoked, for tests: GET /__dev/stats.
function createStats(provider) {
  const stats = { requests: {}, grants: {}, device_secrets_revoked: 0 };
  const bump = (table, key) => { table[key] = (table[key] ?? 0) + 1; };
  provider.on('device_secret.revoked', () => { stats.device_secrets_revoked += 1; });
  provider.on('grant.success', (ctx) => bump(stats.grants, ctx.oidc.params.grant_type));
  // By error code: `refresh_token:invalid_grant`, `urn:…:device_code:slow_down`.
  provider.on('grant.error', (ctx, error) => {
    const grantType = ctx.oidc?.params?.grant_type ?? new URLSearchParams(ctx.req.body ?? '').get('grant_type');
    bump(stats.grants, `${grantType}:${error?.error ?? 'error'}`);
  });
  return { stats, count: (method, pathname) => bump(stats.requests, `${method} ${pathname}`) };
}

// Okta sends no `prompt` and still issues a refresh token for `offline_access`; oidc-provider drops
// `offline_access` unless the prompt includes `consent`. Add it (consent is approved automatically),
// to the parameters of an authorization request (its URL's, or a pushed one's).
function okta_offline_access(params) {
  const scope = params.get('scope') ?? '';
  const prompt = (params.get('prompt') ?? '').split(' ').filter(Boolean);
  if (scope.split(' ').includes('offline_access') && !prompt.includes('none') && !prompt.includes('consent')) {
    params.set('prompt', [...prompt, 'consent'].join(' '));
  }
}

// A pushed authorization request (POST /v1/par) or a device authorization request with the same rule:
// its form is read here and handed to oidc-provider as text (`req.body`), a repeated parameter still
// repeated, so it is refused as in a plain request.
async function okta_offline_access_posted(req) {
  const params = new URLSearchParams(await readBody(req));
  okta_offline_access(params);
  req.body = params.toString();
}

// The cookie signing keys: kept in the data folder, so sessions survive a restart.
function cookieKeys(dataDir) {
  const file = dataDir && join(dataDir, 'cookie-keys.json');
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const keys = [randomBytes(32).toString('base64url')];
  if (file) writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

async function main() {
  const config = loadConfig();
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const jwks = loadKeys(config.keysFile ?? (config.dataDir && join(config.dataDir, 'keys.json')), {
    withEd25519: config.idTokenAlg === 'EdDSA',
  });
  const Adapter = createStorage(config.dataDir && join(config.dataDir, 'store.json'));
  const accounts = accountsFrom(config.users);
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', resolve);
  });
  const orgUrl = `http://127.0.0.1:${server.address().port}`;
  const issuer = `${orgUrl}${PREFIX}`;
  const targets = formTargets([...config.redirectUris, ...config.postLogoutRedirectUris]);
  const provider = createProvider({
    issuer, config, jwks, accounts, targets, Adapter, cookieKeys: cookieKeys(config.dataDir),
  });
  const { stats, count } = createStats(provider);
  // A bug here answers 500 server_error; say what it was.
  provider.on('server_error', (_ctx, error) => console.error('dev/idp server error:', error));
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    count(req.method, url.pathname);
    // Okta's device verification page is at the org URL (`{org}/activate`): the provider's own page.
    const pathname = url.pathname === '/activate' ? `${PREFIX}/activate` : url.pathname;
    try {
      if (url.pathname === '/__dev/stats') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(stats));
      } else if (pathname === PREFIX || pathname.startsWith(`${PREFIX}/`)) {
        if (pathname === `${PREFIX}/v1/authorize` && req.method === 'GET') okta_offline_access(url.searchParams);
        if ([`${PREFIX}/v1/par`, `${PREFIX}/v1/device/authorize`].includes(pathname) && req.method === 'POST') {
          await okta_offline_access_posted(req);
        }
        // Mounted like express does it: the provider sees the path below the prefix, and
        // `originalUrl` keeps the prefix so the URLs it builds (resume, callbacks) keep it too.
        req.originalUrl = pathname + url.search;
        // Every page oidc-provider renders itself (form_post, errors) gets the policy of our own pages.
        res.setHeader('content-security-policy', contentSecurityPolicy(targets));
        req.url = pathname.slice(PREFIX.length) + url.search;
        callback(req, res);
      } else if (!handleDashboard({ config, orgUrl, targets }, req, res, url.pathname)
        && !(await handleInteraction(provider, accounts, targets, config, req, res, url.pathname))) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    } catch (error) {
      console.error(`error handling ${req.method} ${url.pathname}:`, error.message);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    }
  });

  console.log(`ISSUER=${issuer}`);
  if (config.readyFile) {
    const tmp = `${config.readyFile}.tmp-${process.pid}`;
    writeFileSync(tmp, `${issuer}\n`);
    renameSync(tmp, config.readyFile);
  }
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(`dev/idp failed to start: ${error.message}`);
  process.exit(1);
});
