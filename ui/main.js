// Renders the sign-in state. All data comes from the sign-in plugin's API (tauri-plugin-oidc,
// `window.__TAURI__.oidc`), which never hands out a token; text is set with textContent only.
import { claimText, errorMessage, initials, relativeTime, storageProblemTitle, storageText } from './format.js';

const app = document.getElementById('app');
const auth = window.__TAURI__.oidc;
let current = { status: 'restoring' };
let apiResult = null;
let banner = null;
let busy = false;
// The accounts signed in on this device (from `auth.accounts()`, no token), for the switcher.
let accountList = [];
// The API path to call again once the step-up sign-in it asked for is back (once, and only if it
// succeeded).
let stepUpRetry = null;
// A restore takes a millisecond; the spinner shows only when it takes longer (a keystore waiting to be
// unlocked), so it does not flash, nor cost the idle window the memory of an animation.
let slowStart = false;
setTimeout(() => { slowStart = true; if (current.status === 'restoring') render(); }, 300);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'onclick') node.addEventListener('click', value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function act(command) {
  if (busy) return;
  busy = true;
  banner = null;
  render();
  try {
    const next = await command();
    if (next && next.status) current = next;
  } catch (error) {
    banner = errorMessage(error);
  } finally {
    busy = false;
    render();
  }
}

function notice(n, tone) {
  if (!n) return null;
  return el('p', { id: 'notice', class: `notice ${tone}`, 'data-kind': n.kind, role: 'status' }, n.message);
}

function signedOut(state) {
  const cancelled = state.notice?.kind === 'access_denied';
  return el('section', { class: 'card center' },
    el('h1', {}, cancelled ? 'Sign-in cancelled' : 'Welcome'),
    notice(state.notice, cancelled ? 'info' : 'warn'),
    el('p', { class: 'muted' }, 'Sign in with your organization account. The sign-in page opens in your browser.'),
    el('button', { id: 'sign-in', class: 'primary', onclick: () => act(auth.signIn), disabled: busy ? '' : null }, cancelled ? 'Sign in again' : 'Sign in'));
}

function notConfigured(state) {
  return el('section', { class: 'card' },
    el('h1', {}, 'Not configured yet'),
    el('p', { id: 'not-configured', class: 'notice warn', role: 'status' }, state.message),
    state.missing?.length
      ? el('ul', { id: 'missing' }, state.missing.map((name) => el('li', {}, el('code', {}, name))))
      : null,
    el('p', { class: 'muted small' }, 'Config file: ', el('code', { id: 'config-file' }, state.file)),
    el('p', { class: 'muted small' }, 'Restart the app once the settings are in place.'));
}

// The session store cannot be opened: what is wrong, what to do, and the two things the app can do
// itself (open it again; set the unreadable file aside and start with a fresh one).
function storageProblem(state) {
  return el('section', { class: 'card' },
    el('h1', {}, storageProblemTitle(state.kind)),
    el('p', { id: 'storage-problem', class: 'notice warn', role: 'status', 'data-kind': state.kind }, state.message),
    el('ul', { id: 'storage-actions' }, (state.actions ?? []).map((action) => el('li', {}, action))),
    el('p', { class: 'muted small' }, 'Config file: ', el('code', { id: 'config-file' }, state.file)),
    el('div', { class: 'actions' },
      el('button', { id: 'retry-storage', class: 'primary', onclick: () => act(auth.retryStorage) }, 'Try again'),
      state.start_over ? el('button', { id: 'start-over', class: 'secondary', onclick: () => act(auth.startOver) }, 'Start over') : null));
}

function loginRequest(request) {
  if (!request) return null;
  return el('div', { id: 'login-request', class: 'notice info', role: 'status' },
    el('p', {}, `A sign-in was requested by ${request.issuer}${request.login_hint ? ` for ${request.login_hint}` : ''}.`),
    el('button', { id: 'accept-login-request', class: 'secondary', onclick: () => act(() => auth.signIn(request.login_hint)) }, 'Sign in again'));
}

function waiting() {
  return el('section', { class: 'card center' },
    el('div', { class: 'spinner', 'aria-hidden': 'true' }),
    el('h1', {}, 'Continue in your browser'),
    el('p', { class: 'muted' }, 'Finish signing in on the page that opened in your browser. You will come back here automatically.'),
    el('button', { id: 'cancel', class: 'secondary', onclick: () => { stepUpRetry = null; act(auth.cancelSignIn); } }, 'Cancel'));
}

// An API that needs a stronger sign-in (RFC 9470): why, and a button that runs it in the browser; the
// call is made again once the user is back.
function stepUpPanel({ stepUp, path, message }) {
  return el('div', { id: 'api-result', class: 'api step-up', 'data-kind': 'step_up_required' },
    el('p', { id: 'step-up-message' }, message),
    el('button', {
      id: 'step-up',
      class: 'primary',
      // The call is made again only after this step-up's own sign-in (not if it never started).
      onclick: () => act(async () => {
        const next = await auth.stepUp(stepUp);
        if (next?.status === 'waiting_for_browser') stepUpRetry = path;
        return next;
      }),
    }, 'Verify it\u2019s you'));
}

function apiPanel() {
  if (!apiResult) return null;
  if (apiResult.stepUp) return stepUpPanel(apiResult);
  if (apiResult.error) return el('div', { id: 'api-result', class: 'api error' }, apiResult.error);
  const { status, body } = apiResult;
  const messages = Array.isArray(body?.messages) ? body.messages : null;
  return el('div', { id: 'api-result', class: `api ${status < 400 ? 'ok' : 'error'}`, 'data-status': String(status) },
    el('div', { class: 'api-status' }, `HTTP ${status}`),
    messages
      ? el('ul', { class: 'messages' }, messages.map((m) => el('li', {}, m.text ?? claimText(m))))
      : el('pre', {}, typeof body === 'string' ? body : JSON.stringify(body, null, 2)));
}

function signedIn(state) {
  const { profile } = state;
  const claims = Object.entries(profile.claims ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return el('section', { class: 'card' },
    el('div', { class: 'profile' },
      el('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(profile.name, initials(profile.email))),
      el('div', {},
        el('h1', { id: 'profile-name' }, profile.name ?? profile.subject),
        el('p', { id: 'profile-email', class: 'muted' }, profile.email ?? ''))),
    state.offline ? el('p', { id: 'offline', class: 'notice warn' }, 'Offline: showing your saved session. ', state.notice?.message ?? '') : notice(state.notice, 'warn'),
    loginRequest(state.login_request),
    el('p', { class: 'muted small', id: 'expiry' },
      state.expires_at ? `Access token expires ${relativeTime(state.expires_at)}` : 'Access token expiry unknown'),
    el('p', { class: 'muted small', id: 'storage', 'data-storage': state.storage }, storageText(state.storage)),
    state.token_type === 'DPoP' ? el('p', { class: 'muted small', id: 'dpop' }, 'Tokens bound to this device (DPoP).') : null,
    el('div', { class: 'actions' },
      el('button', { id: 'call-api', class: 'primary', onclick: () => callApi('/api/messages') }, 'Call API'),
      el('button', { id: 'call-sensitive', class: 'secondary', onclick: () => callApi('/api/sensitive') }, 'Call sensitive API'),
      el('button', { id: 'sign-out', class: 'secondary', onclick: () => { apiResult = null; act(auth.signOut); } }, 'Sign out'),
      state.sso_group
        ? el('button', { id: 'sign-out-all', class: 'secondary', title: `Every app of ${state.sso_group} on this device`, onclick: () => { apiResult = null; act(() => auth.signOut({ allApps: true })); } }, 'Sign out of all apps')
        : null),
    apiPanel(),
    accountSwitcher(state),
    el('details', { class: 'claims' },
      el('summary', {}, `Profile and ID token claims (${claims.length})`),
      el('table', {}, el('tbody', {}, claims.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, claimText(v))))))));
}

// The other accounts signed in on this device: switch to one, or sign it out; and add one (the
// provider asks for credentials again, so the browser does not hand back the account shown).
function accountSwitcher(state) {
  const others = accountList.filter((account) => account.id !== state.account);
  return el('div', { id: 'accounts', class: 'accounts' },
    el('h2', {}, others.length ? 'Other accounts' : 'Accounts'),
    others.length
      ? el('ul', { class: 'account-list' }, others.map((account) =>
        el('li', { class: 'account', 'data-account': account.id },
          el('div', { class: 'account-who' },
            el('span', { class: 'account-name' }, account.name ?? account.email ?? account.subject),
            el('span', { class: 'muted small' }, account.email ?? '')),
          el('button', { class: 'secondary switch-account', onclick: () => { apiResult = null; act(() => auth.switchAccount(account.id)); } }, 'Switch'),
          el('button', { class: 'secondary sign-out-account', onclick: () => act(() => auth.signOut({ account: account.id })) }, 'Sign out'))))
      : null,
    el('button', { id: 'add-account', class: 'secondary', onclick: () => act(() => auth.signIn({ addAccount: true })) }, 'Add account'));
}

async function loadAccounts() {
  try {
    accountList = await auth.accounts();
  } catch (error) {
    accountList = [];
    banner = errorMessage(error);
  }
  render();
}

async function callApi(path) {
  if (busy) return;
  busy = true;
  render();
  try {
    apiResult = await auth.fetchApi(path);
  } catch (error) {
    apiResult = error?.kind === 'step_up_required' && error.step_up
      ? { stepUp: error.step_up, path, message: errorMessage(error) }
      : { error: errorMessage(error) };
  } finally {
    busy = false;
    render();
  }
}

function render() {
  const views = {
    not_configured: notConfigured,
    storage_problem: storageProblem,
    restoring: () => el('section', { class: 'card center' }, slowStart ? el('div', { class: 'spinner', 'aria-hidden': 'true' }) : null, el('p', {}, 'Restoring your session…')),
    signed_out: signedOut,
    waiting_for_browser: waiting,
    signed_in: signedIn,
  };
  const view = (views[current.status] ?? views.restoring)(current);
  app.dataset.status = current.status;
  app.setAttribute('aria-busy', busy ? 'true' : 'false');
  app.replaceChildren(...[banner && el('p', { id: 'banner', class: 'notice error', role: 'alert' }, banner), view].filter(Boolean));
}

auth.subscribe((state) => {
  const switched = current.account !== state.account;
  current = state;
  if (state.status !== 'signed_in') apiResult = null;
  else if (switched) apiResult = null;
  render();
  if (state.status === 'signed_in') loadAccounts();
  if (state.status === 'signed_in' && stepUpRetry) {
    const path = stepUpRetry;
    stepUpRetry = null;
    // Back from the step-up: call again if it succeeded (a notice says why it did not).
    if (!state.notice) callApi(path);
  }
}).then((state) => {
  current = state;
  render();
  if (state.status === 'signed_in') loadAccounts();
}, (error) => { banner = errorMessage(error); render(); });
setInterval(() => { if (current.status === 'signed_in') render(); }, 30_000);
