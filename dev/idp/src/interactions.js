// The identity provider's own pages: a username/password form with Cancel, a second-factor page
// (a one-time code) when the request asks for a urn:okta:loa:2fa:* level, and consent approved
// automatically (a native app registered by the organisation needs no consent screen, as on Okta).
import { page, escapeHtml, htmlHeaders } from './pages.js';
import { acrFor, wantsSecondFactor } from './provider.js';
import { readBody } from './form.js';

// Who passed the password step of an interaction that still needs its second factor, by uid.
const passwordDone = new Map();

async function readForm(req) {
  return new URLSearchParams(await readBody(req, 16 * 1024));
}

function loginPage(uid, { username = '', error } = {}) {
  return page('Sign in', `<h1>Sign in</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label for="username">Username</label>
  <input id="username" name="username" value="${escapeHtml(username)}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button class="primary" id="sign-in" type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort">
  <button class="secondary" id="cancel" type="submit">Cancel</button>
</form>`);
}

function otpPage(uid, { error } = {}) {
  return page('Verify it is you', `<h1>Verify it's you</h1>
<p>Enter the code from your authenticator app.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/otp" autocomplete="off">
  <label for="code">Code</label>
  <input id="code" name="code" inputmode="numeric" required autofocus>
  <button class="primary" id="verify" type="submit">Verify</button>
</form>
<form method="post" action="/interaction/${uid}/abort">
  <button class="secondary" id="cancel" type="submit">Cancel</button>
</form>`);
}

// The account whose second factor this interaction asks for: one that passed the password step
// here, or the session's when only the second factor is missing (a step-up).
function secondFactorAccount(details) {
  const passed = passwordDone.get(details.uid);
  if (passed) return passed;
  const reasons = details.prompt.reasons ?? [];
  if (details.session?.accountId && reasons.length === 1 && reasons[0] === 'second_factor') {
    return details.session.accountId;
  }
  return undefined;
}

function send(res, targets, status, html) {
  res.writeHead(status, htmlHeaders(targets));
  res.end(html);
}

async function approveConsent(provider, req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
    mergeWithLastSubmission: true,
  });
}

// Handles /interaction/:uid[/login|/abort]; answers false for any other path. `targets` are where the
// page's forms may lead (see pages.js).
export async function handleInteraction(provider, accounts, targets, { otpCode }, req, res, pathname) {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|otp|abort))?$/.exec(pathname);
  if (!match) return false;
  const [, uid, action] = match;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    details = undefined;
  }
  if (details?.uid !== uid) {
    send(res, targets, 400, page('Sign-in expired', '<h1>This sign-in has expired</h1><p>Go back to the app and start again.</p>'));
    return true;
  }

  if (req.method === 'GET' && !action) {
    if (details.prompt.name !== 'login') await approveConsent(provider, req, res, details);
    else if (secondFactorAccount(details)) send(res, targets, 200, otpPage(uid));
    else send(res, targets, 200, loginPage(uid, { username: details.params.login_hint ?? '' }));
    return true;
  }
  if (req.method === 'POST' && action === 'otp') {
    const accountId = secondFactorAccount(details);
    if (!accountId) {
      send(res, targets, 400, loginPage(uid, { error: 'Sign in with your password first.' }));
      return true;
    }
    const form = await readForm(req);
    if (form.get('code') !== otpCode) {
      send(res, targets, 401, otpPage(uid, { error: 'That code is not right.' }));
      return true;
    }
    passwordDone.delete(uid);
    await provider.interactionFinished(req, res, {
      login: { accountId, acr: acrFor(details.params, { otp: true }), amr: ['pwd', 'otp'] },
    }, { mergeWithLastSubmission: false });
    return true;
  }
  if (req.method === 'POST' && action === 'abort') {
    passwordDone.delete(uid);
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
    return true;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const account = accounts.authenticate(username, form.get('password') ?? '');
    if (!account) {
      send(res, targets, 401, loginPage(uid, { username, error: 'Unknown username or wrong password.' }));
      return true;
    }
    if (wantsSecondFactor(details.params)) {
      passwordDone.set(uid, account.id);
      // Forgotten with the interaction (its lifetime is 600 s).
      setTimeout(() => passwordDone.delete(uid), 600_000).unref();
      send(res, targets, 200, otpPage(uid));
      return true;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: account.id, acr: acrFor(details.params, { otp: false }), amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return true;
  }
  send(res, targets, 405, page('Not allowed', '<h1>Method not allowed</h1>'));
  return true;
}
