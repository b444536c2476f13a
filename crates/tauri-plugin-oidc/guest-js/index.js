// tauri-plugin-oidc's JavaScript API. No function here ever sees a token: Rust keeps them, and answers
// with states, the profile and API bodies. With `withGlobalTauri` the same functions are
// `window.__TAURI__.oidc`; a bundled app calls `useCore` with `@tauri-apps/api/core` first.

/**
 * @typedef {{ kind: string, message: string }} Notice
 *   An error or a notice: a stable kind (`access_denied`, `network`, `session_expired`, …) and words.
 * @typedef {{ name?: string, email?: string, subject: string, issuer: string, scopes: string[], claims: Object<string, unknown> }} Profile
 * @typedef {{ issuer: string, login_hint?: string }} LoginRequest
 * @typedef {(
 *   | { status: 'not_configured', missing: string[], file: string, message: string }
 *   | { status: 'storage_problem', kind: 'keystore_unavailable' | 'store_unreadable', message: string,
 *       actions: string[], file: string, start_over: boolean }
 *   | { status: 'restoring' }
 *   | { status: 'signed_out', notice?: Notice }
 *   | { status: 'waiting_for_browser' }
 *   | { status: 'signed_in', profile: Profile, expires_at?: string, offline: boolean, notice?: Notice,
 *       storage: 'keystore' | 'file' | 'memory', login_request?: LoginRequest, token_type: 'Bearer' | 'DPoP' }
 * )} AuthState
 * @typedef {{ status: number, body: unknown }} ApiResponse
 */

/** @type {{ invoke: Function, Channel: Function } | null} */
let core = null;

/**
 * Uses this Tauri core API (`@tauri-apps/api/core`) instead of `window.__TAURI__.core`.
 * @param {{ invoke: Function, Channel: Function }} api
 */
export function useCore(api) {
  core = api;
}

function tauri() {
  const api = core ?? globalThis.__TAURI__?.core;
  if (!api) throw new Error('tauri-plugin-oidc: no Tauri core API (enable withGlobalTauri or call useCore).');
  return api;
}

/**
 * The current sign-in state.
 * @returns {Promise<AuthState>}
 */
export function getState() {
  return tauri().invoke('plugin:oidc|get_state');
}

/**
 * Opens the sign-in page: the system browser on desktop, an authentication session on iOS and Android.
 * @param {string} [loginHint] the account to suggest (from a sign-in request)
 * @returns {Promise<AuthState>}
 */
export function signIn(loginHint) {
  return tauri().invoke('plugin:oidc|sign_in', loginHint ? { loginHint } : {});
}

/**
 * Stops waiting for the browser.
 * @returns {Promise<AuthState>}
 */
export function cancelSignIn() {
  return tauri().invoke('plugin:oidc|cancel_sign_in');
}

/**
 * Signs out at once (even offline); the tokens are revoked and the provider's session ended after.
 * @returns {Promise<AuthState>}
 */
export function signOut() {
  return tauri().invoke('plugin:oidc|sign_out');
}

/**
 * After a `storage_problem`: opens the session store again (once the keyring is unlocked, a permission
 * fixed, …). Resolves to the restored state, or the problem that remains.
 * @returns {Promise<AuthState>}
 */
export function retryStorage() {
  return tauri().invoke('plugin:oidc|reopen_store', { startOver: false });
}

/**
 * After a `storage_problem` whose `start_over` is true: sets aside what could not be read (renamed,
 * never deleted) and opens a fresh store; the user signs in again.
 * @returns {Promise<AuthState>}
 */
export function startOver() {
  return tauri().invoke('plugin:oidc|reopen_store', { startOver: true });
}

/**
 * GET a path of the configured API with the access token (refreshed when it has to be).
 * @param {string} path an absolute path, `/api/messages`
 * @returns {Promise<ApiResponse>}
 */
export function fetchApi(path) {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
    return Promise.reject(new Error('API paths start with a single "/".'));
  }
  return tauri().invoke('plugin:oidc|fetch_api', { path });
}

/**
 * Calls `onState` with every later state; resolves to the current one.
 * @param {(state: AuthState) => void} onState
 * @returns {Promise<AuthState>}
 */
export function subscribe(onState) {
  const { Channel, invoke } = tauri();
  const channel = new Channel();
  channel.onmessage = onState;
  return invoke('plugin:oidc|subscribe', { onState: channel });
}
