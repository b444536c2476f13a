// Drives dev/idp over real HTTP the way a browser and a native app would, and checks that it behaves
// like an Okta custom authorization server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, createLocalJWKSet, jwtVerify } from 'jose';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLIENT_ID = 'test-client';
const REDIRECT = 'com.okta.example:/callback';
let idp;
let issuer;

// Starts dev/idp with extra settings; resolves to { process, issuer } once it accepts requests.
function startIdp(env = {}) {
  const child = spawn(process.execPath, ['src/index.js'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, PORT: '0', IDP_CLIENT_ID: CLIENT_ID, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /ISSUER=(\S+)/.exec(out);
      if (match) resolve({ process: child, issuer: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`idp exited with ${code}`)));
  });
}

function stopIdp(running) {
  return new Promise((resolve) => {
    running.process.once('exit', resolve);
    running.process.kill();
  });
}

before(async () => {
  ({ process: idp, issuer } = await startIdp());
});

after(() => idp.kill());

// A minimal browser: keeps cookies, follows redirects until it reaches the app's scheme or a form page.
function browser() {
  const jar = new Map();
  async function go(url, init = {}) {
    const headers = { ...init.headers, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair.split('=');
      jar.set(name.trim(), value.join('='));
    }
    return res;
  }
  async function follow(url, init) {
    let res = await go(url, init);
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location'), url);
      if (next.protocol !== 'http:') return { redirect: next };
      url = next.href;
      res = await go(url);
    }
    return { res, url, html: await res.text() };
  }
  return { follow };
}

function formAction(html, base, id) {
  const form = new RegExp(`<form[^>]*action="([^"]+)"[^>]*>`, 'g');
  const actions = [...html.matchAll(form)].map((m) => new URL(m[1], base).href);
  return actions.find((a) => a.endsWith(id));
}

async function authorize({ username = 'demo', password = 'demo', cancel = false, scope = 'openid profile email offline_access', at = issuer } = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${at}/v1/authorize`);
  Object.entries({
    client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT, scope, state: 'st4te', nonce: 'n0nce',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).forEach(([k, v]) => url.searchParams.set(k, v));
  const b = browser();
  const page = await b.follow(url.href);
  assert.match(page.html, /Sign in/);
  const action = formAction(page.html, page.url, cancel ? '/abort' : '/login');
  const body = cancel ? '' : new URLSearchParams({ username, password }).toString();
  const result = await b.follow(action, {
    method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { result, verifier, browser: b };
}

// The vendor's second app (Native SSO).
const SECOND = '0oa1localsecond0002';

// Native SSO's token exchange, as the second app: `subject` an ID token, `actor` a device secret.
function exchange(subject, actor, extra = {}, at = issuer) {
  return token({
    client_id: SECOND,
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subject,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    actor_token: actor,
    actor_token_type: 'urn:x-oath:params:oauth:token-type:device-secret',
    audience: 'api://default',
    scope: 'openid profile offline_access',
    ...extra,
  }, at);
}

async function token(params, at = issuer) {
  const res = await fetch(`${at}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...params }),
  });
  return { status: res.status, body: await res.json() };
}

test('discovery uses Okta route names under /oauth2/default', async () => {
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.issuer, issuer);
  assert.equal(new URL(issuer).pathname, '/oauth2/default');
  for (const [key, route] of Object.entries({
    authorization_endpoint: 'authorize', token_endpoint: 'token', userinfo_endpoint: 'userinfo', jwks_uri: 'keys',
    revocation_endpoint: 'revoke', end_session_endpoint: 'logout', introspection_endpoint: 'introspect',
  })) {
    assert.equal(meta[key], `${issuer}/v1/${route}`, key);
  }
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
});

test('sign-in, JWT access token with Okta claims, userinfo, refresh rotation, revocation', async () => {
  const { result, verifier } = await authorize();
  const callback = result.redirect;
  assert.equal(`${callback.protocol}${callback.pathname}`, REDIRECT);
  assert.equal(callback.searchParams.get('state'), 'st4te');
  assert.equal(callback.searchParams.get('iss'), issuer);

  const first = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok(first.body.refresh_token, 'offline_access without prompt=consent yields a refresh token');
  const at = decodeJwt(first.body.access_token);
  assert.equal(at.aud, 'api://default');
  assert.equal(at.cid, CLIENT_ID);
  assert.equal(at.uid, at.sub);
  assert.deepEqual(new Set(at.scp), new Set(['openid', 'profile', 'email', 'offline_access']));
  const id = decodeJwt(first.body.id_token);
  assert.equal(id.nonce, 'n0nce');
  assert.equal(id.name, 'Demo User');

  const me = await fetch(`${issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
  assert.equal(me.status, 200);
  const profile = await me.json();
  assert.equal(profile.sub, id.sub);
  assert.equal(profile.email, 'demo@example.com');

  const second = await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
  assert.equal(second.status, 200);
  assert.notEqual(second.body.refresh_token, first.body.refresh_token, 'refresh token rotates');
  // Okta's grace period (30 s by default): the rotated token is accepted once more, then refused.
  const graced = await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
  assert.equal(graced.status, 200, JSON.stringify(graced.body));
  const reused = await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
  assert.equal(reused.body.error, 'invalid_grant');

  const forged = first.body.access_token.slice(0, -4) + 'AAAA';
  const denied = await fetch(`${issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
  assert.equal(denied.status, 401);
});

test('revoking a JWT access token makes userinfo refuse it', async () => {
  const { result, verifier } = await authorize();
  const tokens = (await token({ grant_type: 'authorization_code', code: result.redirect.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier })).body;
  const revoke = await fetch(`${issuer}/v1/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, token: tokens.access_token, token_type_hint: 'access_token' }),
  });
  assert.equal(revoke.status, 200);
  const me = await fetch(`${issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(me.status, 401);
});

test('wrong password keeps the login page; Cancel returns access_denied', async () => {
  const wrong = await authorize({ password: 'nope' });
  assert.equal(wrong.result.res.status, 401);
  assert.match(wrong.result.html, /wrong password/);
  const cancelled = await authorize({ cancel: true });
  assert.equal(cancelled.result.redirect.searchParams.get('error'), 'access_denied');
  assert.equal(cancelled.result.redirect.searchParams.get('iss'), issuer);
});

test('no refresh token without offline_access', async () => {
  const { result, verifier } = await authorize({ scope: 'openid profile' });
  const tokens = await token({ grant_type: 'authorization_code', code: result.redirect.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(tokens.status, 200);
  assert.equal(tokens.body.refresh_token, undefined);
});

// Browsers apply `form-action` to every redirect after a form is submitted: the login and sign-out pages
// must allow the registered redirects' scheme and loopback, or the browser drops the hand-off to the app.
test('pages allow the hand-off to the app (form-action) and nothing else: no scripts, no framing', async () => {
  const url = new URL(`${issuer}/v1/authorize`);
  Object.entries({
    client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 'st4te', nonce: 'n',
    code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'), code_challenge_method: 'S256',
  }).forEach(([k, v]) => url.searchParams.set(k, v));
  const login = await browser().follow(url.href);
  const csp = login.res.headers.get('content-security-policy');
  assert.match(csp, /form-action 'self' com\.okta\.example: http:\/\/127\.0\.0\.1:\*(;|$)/);
  assert.match(csp, /script-src 'report-sample'(;|$)/, 'no script may run');
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'none'/);
});

// With the browser's session the page is ours (logoutSource); without it, oidc-provider's form_post page.
test('the sign-out pages may run only their own auto-submit script', async () => {
  const { result, verifier, browser: signedIn } = await authorize({ scope: 'openid' });
  const tokens = (await token({ grant_type: 'authorization_code', code: result.redirect.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier })).body;
  const url = new URL(`${issuer}/v1/logout`);
  url.searchParams.set('id_token_hint', tokens.id_token);
  url.searchParams.set('post_logout_redirect_uri', 'com.okta.example:/logout');
  url.searchParams.set('state', 'bye');
  for (const { res, html } of [await signedIn.follow(url.href), await browser().follow(url.href)]) {
    const csp = res.headers.get('content-security-policy');
    const scripts = [...html.matchAll(/<script[^>]*>([^<]*)<\/script>/g)].map((m) => m[1]);
    assert.equal(scripts.length, 1, html);
    const hash = createHash('sha256').update(scripts[0]).digest('base64');
    const allowed = /script-src ([^;]*)/.exec(csp)[1].split(' ').filter((s) => s !== "'report-sample'");
    assert.deepEqual(allowed, [`'sha256-${hash}'`], csp);
    assert.match(csp, /form-action 'self' com\.okta\.example: http:\/\/127\.0\.0\.1:\*/);
    assert.match(csp, /frame-ancestors 'none'/);
  }
});

// Okta sends its org URL (not the custom authorization server's issuer) as `iss` on initiate-login links.
test('the dashboard tile opens the initiate login URI with the org URL as iss', async () => {
  const orgUrl = new URL(issuer).origin;
  const home = await fetch(`${orgUrl}/app/UserHome`);
  const html = await home.text();
  const href = /<a class="tile"[^>]*href="([^"]+)"/.exec(html)[1];
  const res = await fetch(new URL(href, orgUrl), { redirect: 'manual' });
  assert.equal(res.status, 302);
  const target = new URL(res.headers.get('location'));
  assert.equal(`${target.protocol}${target.pathname}`, 'com.okta.example:/login');
  assert.equal(target.searchParams.get('iss'), orgUrl);
  const unknown = await fetch(`${orgUrl}/home/oidc_client/someone-else`, { redirect: 'manual' });
  assert.equal(unknown.status, 404);
});

async function signIn(at) {
  const { result, verifier } = await authorize({ at });
  const tokens = await token({ grant_type: 'authorization_code', code: result.redirect.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier }, at);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return tokens.body;
}

test('IDP_REFRESH_TOKEN_GRACE=0 refuses a rotated refresh token at once and revokes its grant', async () => {
  const strict = await startIdp({ IDP_REFRESH_TOKEN_GRACE: '0' });
  try {
    const first = await signIn(strict.issuer);
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, strict.issuer);
    assert.equal(second.status, 200);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, strict.issuer);
    assert.equal(reused.body.error, 'invalid_grant');
    const newest = await token({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token }, strict.issuer);
    assert.equal(newest.body.error, 'invalid_grant', 'reuse revokes the whole grant, as on Okta');
  } finally {
    await stopIdp(strict);
  }
});

test('with IDP_DATA_DIR, a restarted provider keeps its keys, grants and tokens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-data-'));
  const first = await startIdp({ IDP_DATA_DIR: dir });
  const port = new URL(first.issuer).port;
  const tokens = await signIn(first.issuer);
  await stopIdp(first);
  const again = await startIdp({ IDP_DATA_DIR: dir, PORT: port });
  try {
    assert.equal(again.issuer, first.issuer);
    const me = await fetch(`${again.issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.status, 200, 'the access token issued before the restart is still known');
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, again.issuer);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(statSync(join(dir, 'store.json')).mode & 0o777, 0o600);
  } finally {
    await stopIdp(again);
  }
});

test('IDP_TEST_INVALID_REFRESHED_ID_TOKEN=iss signs refreshed ID tokens validly, for another issuer', async () => {
  const lying = await startIdp({ IDP_TEST_INVALID_REFRESHED_ID_TOKEN: 'iss' });
  try {
    const tokens = await signIn(lying.issuer);
    const keys = createLocalJWKSet(await (await fetch(`${lying.issuer}/v1/keys`)).json());
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, lying.issuer);
    assert.equal(refreshed.status, 200);
    const { payload } = await jwtVerify(refreshed.body.id_token, keys);
    assert.notEqual(payload.iss, lying.issuer);
    assert.equal(payload.sub, (await jwtVerify(tokens.id_token, keys)).payload.sub);
  } finally {
    await stopIdp(lying);
  }
});

test('IDP_TEST_REFRESH_TOKEN_TYPE and IDP_TEST_USERINFO_DELAY_MS: a hostile token type, a slow userinfo', async () => {
  const hostile = await startIdp({ IDP_TEST_REFRESH_TOKEN_TYPE: 'Bearer', IDP_TEST_USERINFO_DELAY_MS: '400' });
  try {
    const tokens = await signIn(hostile.issuer);
    const started = Date.now();
    const me = await fetch(`${hostile.issuer}/v1/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.status, 200);
    assert.ok(Date.now() - started >= 400, 'userinfo answers late');
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, hostile.issuer);
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.token_type, 'Bearer');
  } finally {
    await stopIdp(hostile);
  }
});

test('IDP_TEST_INVALID_REFRESHED_ID_TOKEN breaks the signature of refreshed ID tokens only', async () => {
  const broken = await startIdp({ IDP_TEST_INVALID_REFRESHED_ID_TOKEN: '1' });
  try {
    const tokens = await signIn(broken.issuer);
    const keys = createLocalJWKSet(await (await fetch(`${broken.issuer}/v1/keys`)).json());
    await jwtVerify(tokens.id_token, keys);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, broken.issuer);
    assert.equal(refreshed.status, 200);
    await assert.rejects(jwtVerify(refreshed.body.id_token, keys));
    const next = await token({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token }, broken.issuer);
    assert.equal(next.status, 200, 'the rotated refresh token works');
  } finally {
    await stopIdp(broken);
  }
});

test('IDP_TEST_TOKEN_LOG logs every refresh-token issue, rotation, refusal and revocation, without token values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-tokens-'));
  const file = join(dir, 'tokens.jsonl');
  const logged = await startIdp({ IDP_TEST_TOKEN_LOG: file, IDP_REFRESH_TOKEN_GRACE: '0' });
  try {
    const hash = (value) => createHash('sha256').update(value).digest('hex').slice(0, 16);
    const first = await signIn(logged.issuer);
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, logged.issuer);
    assert.equal(second.status, 200);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, logged.issuer);
    assert.equal(reused.body.error, 'invalid_grant');
    await fetch(`${logged.issuer}/v1/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, token: second.body.refresh_token }),
    });
    const text = readFileSync(file, 'utf8');
    for (const secret of [first.refresh_token, second.body.refresh_token, first.access_token]) {
      assert.ok(!text.includes(secret), 'no token value in the log');
    }
    const events = text.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => e.event), ['issued', 'rotated', 'refused', 'revoked']);
    const [issued, rotated, refused, revoked] = events;
    assert.ok(typeof issued.grant === 'string' && issued.grant.length > 0);
    assert.equal(issued.to, hash(first.refresh_token));
    assert.deepEqual([rotated.grant, rotated.from, rotated.to], [issued.grant, hash(first.refresh_token), hash(second.body.refresh_token)]);
    assert.equal(refused.from, hash(first.refresh_token));
    assert.match(refused.reason, /invalid_grant: refresh token already used/);
    assert.equal(revoked.token, hash(second.body.refresh_token));
    for (const event of events) assert.ok(Number.isInteger(event.t) && Math.abs(event.t - Date.now()) < 60_000);
  } finally {
    await stopIdp(logged);
  }
});

test('IDP_PAR=on offers /v1/par; a pushed request gets a request_uri, one with a repeated parameter is refused', async () => {
  const running = await startIdp({ IDP_PAR: 'on' });
  try {
    const discovery = await (await fetch(`${running.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.pushed_authorization_request_endpoint, `${running.issuer}/v1/par`);
    assert.notEqual(discovery.require_pushed_authorization_requests, true);
    const verifier = randomBytes(32).toString('base64url');
    const form = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid offline_access',
      state: 'st',
      nonce: 'no',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const push = (body) => fetch(discovery.pushed_authorization_request_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    const pushed = await push(form);
    assert.equal(pushed.status, 201);
    assert.match((await pushed.json()).request_uri, /^urn:ietf:params:oauth:request_uri:/);
    const repeated = new URLSearchParams(form);
    repeated.append('scope', 'openid');
    const refused = await push(repeated);
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_request');
  } finally {
    await stopIdp(running);
  }
});

test('the device grant: Okta route names, an interval, the code typed on the activation page, slow_down, tokens', async () => {
  const running = await startIdp({ IDP_DEVICE_INTERVAL: '1' });
  try {
    const discovery = await (await fetch(`${running.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.device_authorization_endpoint, `${running.issuer}/v1/device/authorize`);
    const started = await fetch(discovery.device_authorization_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, scope: 'openid profile offline_access' }).toString(),
    });
    const device = await started.json();
    assert.equal(device.interval, 1);
    assert.equal(device.verification_uri, `${new URL(running.issuer).origin}/activate`);
    assert.match(device.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    const poll = () => token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }, running.issuer);
    assert.equal((await poll()).body.error, 'authorization_pending');
    assert.equal((await poll()).body.error, 'slow_down', 'a poll sooner than the interval');

    // The person types the code on the activation page, confirms, signs in.
    const b = browser();
    const input = await b.follow(device.verification_uri);
    assert.match(input.html, /Activate a device/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(input.html)[1];
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const confirm = await b.follow(device.verification_uri, { ...form, body: new URLSearchParams({ xsrf, user_code: device.user_code.toLowerCase() }).toString() });
    assert.match(confirm.html, new RegExp(device.user_code));
    const fields = Object.fromEntries([...confirm.html.matchAll(/type="hidden" name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const login = await b.follow(device.verification_uri, { ...form, body: new URLSearchParams(fields).toString() });
    assert.match(login.html, /Sign in/);
    const done = await b.follow(formAction(login.html, login.url, '/login'), { ...form, body: new URLSearchParams({ username: 'demo', password: 'demo' }).toString() });
    assert.match(done.html, /Device activated/);

    await new Promise((resolve) => setTimeout(resolve, 6100)); // the interval after one slow_down
    const tokens = await poll();
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(decodeJwt(tokens.body.id_token).sub, '00u1demo0000000000001');
    assert.ok(tokens.body.refresh_token, 'offline_access gives a refresh token, as on Okta');
  } finally {
    await stopIdp(running);
  }
});

test('an expired device code is answered expired_token, as on Okta; IDP_TEST_DEVICE_EXPIRES_IN announces another lifetime', async () => {
  const running = await startIdp({ IDP_DEVICE_INTERVAL: '1', IDP_DEVICE_CODE_TTL: '1', IDP_TEST_DEVICE_EXPIRES_IN: '60' });
  try {
    const started = await fetch(`${running.issuer}/v1/device/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, scope: 'openid' }).toString(),
    });
    const device = await started.json();
    assert.equal(device.expires_in, 60);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code }, running.issuer);
    assert.equal(late.body.error, 'expired_token', JSON.stringify(late.body));
    const unknown = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'no-such-code' }, running.issuer);
    assert.equal(unknown.body.error, 'invalid_grant', 'a code never issued is not "expired"');
  } finally {
    await stopIdp(running);
  }
});

test('Native SSO: device_secret and ds_hash for device_sso, the token exchange for the second app, revocation ends it for both', async () => {
  const signIn = async (username) => {
    const { result, verifier } = await authorize({ username, password: username, scope: 'openid profile offline_access device_sso' });
    const code = result.redirect.searchParams.get('code');
    return (await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier })).body;
  };
  const first = await signIn('demo');
  assert.ok(first.device_secret, JSON.stringify(first));
  const id = decodeJwt(first.id_token);
  assert.equal(id.ds_hash, createHash('sha256').update(first.device_secret).digest().subarray(0, 16).toString('base64url'));
  assert.ok(id.sid);
  const keys = createLocalJWKSet(await (await fetch(`${issuer}/v1/keys`)).json());
  await jwtVerify(first.id_token, keys, { issuer, audience: CLIENT_ID });

  const second = await exchange(first.id_token, first.device_secret);
  assert.equal(second.status, 200, JSON.stringify(second.body));
  const secondId = decodeJwt(second.body.id_token);
  assert.equal(secondId.aud, SECOND);
  assert.equal(secondId.sub, id.sub);
  assert.equal(decodeJwt(second.body.access_token).cid, SECOND);
  assert.ok(second.body.refresh_token);

  // Both tokens required, bound to each other: another user's ID token, another secret, a plain
  // sign-in's ID token (no ds_hash), a client outside the group.
  const alice = await signIn('alice');
  assert.equal((await exchange(alice.id_token, first.device_secret)).body.error, 'invalid_grant');
  assert.equal((await exchange(first.id_token, alice.device_secret)).body.error, 'invalid_grant');
  assert.equal((await exchange(first.id_token, 'made-up')).body.error, 'invalid_grant');
  // A sign-in without device_sso: its ID token has no ds_hash, and is no subject token for the secret.
  const { result: plain, verifier: plainVerifier } = await authorize({ scope: 'openid offline_access' });
  const plainTokens = (await token({ grant_type: 'authorization_code', code: plain.redirect.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: plainVerifier })).body;
  assert.equal(plainTokens.device_secret, undefined);
  assert.equal(decodeJwt(plainTokens.id_token).ds_hash, undefined);
  assert.equal((await exchange(plainTokens.id_token, first.device_secret)).body.error, 'invalid_grant');
  assert.equal((await exchange(first.id_token, undefined, { actor_token: '' })).body.error, 'invalid_request');
  const outsider = await startIdp({ IDP_SSO_CLIENTS: 'someone-else' });
  try {
    const refused = await token({
      client_id: CLIENT_ID, grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'x',
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', actor_token: 'y',
      actor_token_type: 'urn:x-oath:params:oauth:token-type:device-secret', audience: 'api://default',
    }, outsider.issuer);
    assert.equal(refused.body.error, 'unauthorized_client');
  } finally {
    await stopIdp(outsider);
  }

  // Revoking the secret: as at Okta, a client may only revoke its own (another's request is answered
  // 200 and changes nothing); by the client it was issued to, no more exchanges, and neither app's
  // refresh token works.
  const revokeAs = (clientId) => fetch(`${issuer}/v1/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, token: first.device_secret, token_type_hint: 'device_secret' }).toString(),
  });
  assert.equal((await revokeAs(SECOND)).status, 200);
  assert.equal((await exchange(first.id_token, first.device_secret)).status, 200, 'not revoked by another client');
  const revoked = await revokeAs(CLIENT_ID);
  assert.equal(revoked.status, 200);
  assert.equal((await exchange(first.id_token, first.device_secret)).body.error, 'invalid_grant');
  assert.equal((await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).body.error, 'invalid_grant');
  assert.equal((await token({ client_id: SECOND, grant_type: 'refresh_token', refresh_token: second.body.refresh_token })).body.error, 'invalid_grant');
  // Alice's own sign-in is untouched.
  assert.equal((await token({ grant_type: 'refresh_token', refresh_token: alice.refresh_token })).status, 200);
});

test('Native SSO beyond Okta: a device secret rotated at a refresh (the old one refused), and EdDSA ID tokens hashed with SHA-512', async () => {
  const running = await startIdp({ IDP_DEVICE_SECRET_ROTATION: 'on', IDP_ID_TOKEN_ALG: 'EdDSA' });
  try {
    const at = running.issuer;
    const { result, verifier } = await authorize({ scope: 'openid profile offline_access device_sso', at });
    const code = result.redirect.searchParams.get('code');
    const first = (await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, at)).body;
    const sha512Half = (value) => createHash('sha512').update(value).digest().subarray(0, 32).toString('base64url');
    assert.equal(decodeProtectedHeader(first.id_token).alg, 'EdDSA');
    assert.equal(decodeJwt(first.id_token).ds_hash, sha512Half(first.device_secret));
    const keys = createLocalJWKSet(await (await fetch(`${at}/v1/keys`)).json());
    await jwtVerify(first.id_token, keys, { issuer: at, audience: CLIENT_ID });

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, at);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const rotated = refreshed.body;
    assert.ok(rotated.device_secret && rotated.device_secret !== first.device_secret, 'a new device secret');
    assert.equal(decodeJwt(rotated.id_token).ds_hash, sha512Half(rotated.device_secret));
    assert.equal(decodeJwt(rotated.id_token).sid, decodeJwt(first.id_token).sid, 'the same session');
    await jwtVerify(rotated.id_token, keys, { issuer: at, audience: CLIENT_ID });

    assert.equal((await exchange(first.id_token, first.device_secret, {}, at)).body.error, 'invalid_grant', 'the old secret is spent');
    assert.equal((await exchange(rotated.id_token, rotated.device_secret, {}, at)).status, 200);
  } finally {
    await stopIdp(running);
  }
});
