import { invoke, Channel } from '@tauri-apps/api/core';

// tauri-plugin-oidc's JavaScript API. No function here ever sees a token: Rust keeps them, and answers
// with states, the profile and API bodies. A bundled app imports these functions from
// `tauri-plugin-oidc-api`; with `withGlobalTauri` the same functions are `window.__TAURI__.oidc`
// (`api-iife.js`, made from this file by the same build).
// Outside a Tauri webview `invoke` would fail on an undefined `__TAURI_INTERNALS__`; say so instead.
function tauri() {
    const host = globalThis.window;
    if (!host?.__TAURI_INTERNALS__) {
        throw new Error('tauri-plugin-oidc: no Tauri core API (not in a Tauri webview).');
    }
}
/**
 * The current sign-in state.
 */
function getState() {
    tauri();
    return invoke('plugin:oidc|get_state');
}
/**
 * Opens the sign-in page: the system browser on desktop, an authentication session on iOS and Android.
 * @param options the account to suggest (a string, from a sign-in request), or the sign-in's options
 */
function signIn(options) {
    tauri();
    if (typeof options === 'string') {
        return invoke('plugin:oidc|sign_in', options ? { loginHint: options } : {});
    }
    return invoke('plugin:oidc|sign_in', options ? { options } : {});
}
/**
 * Signs the same user in again as an API asked (`step_up_required`: pass the error's `step_up`): the
 * levels it named required, its `max_age`. Another user coming back is refused (`different_user`) and
 * the session stays as it was; so it does when the user cancels. Call the API again once signed in.
 */
function stepUp(stepUp) {
    tauri();
    return invoke('plugin:oidc|sign_in', { stepUp });
}
/**
 * Stops waiting for the browser.
 */
function cancelSignIn() {
    tauri();
    return invoke('plugin:oidc|cancel_sign_in');
}
/**
 * Signs out at once (even offline); the tokens are revoked and the provider's session ended after.
 * Another account signed in on this device is then shown, if there is one.
 * @param options how, or an account (its id, email or subject) to sign out of, the others staying
 */
function signOut(options = {}) {
    if (typeof options === 'string')
        options = { account: options };
    tauri();
    const args = {};
    if (options.allApps)
        args.allApps = true;
    if (options.allAccounts)
        args.allAccounts = true;
    if (options.account)
        args.account = options.account;
    return invoke('plugin:oidc|sign_out', Object.keys(args).length ? args : undefined);
}
/**
 * The accounts signed in on this device (no network request), the default one marked.
 */
function accounts() {
    tauri();
    return invoke('plugin:oidc|accounts');
}
/**
 * Shows another account (its id, email or subject) and makes it the default; no sign-in needed.
 */
function switchAccount(id) {
    tauri();
    return invoke('plugin:oidc|switch_account', { id });
}
/**
 * After a `storage_problem`: opens the session store again (once the keyring is unlocked, a permission
 * fixed, …). Resolves to the restored state, or the problem that remains.
 */
function retryStorage() {
    tauri();
    return invoke('plugin:oidc|reopen_store', { startOver: false });
}
/**
 * After a `storage_problem` whose `start_over` is true: sets aside what could not be read (renamed,
 * never deleted) and opens a fresh store; the user signs in again.
 */
function startOver() {
    tauri();
    return invoke('plugin:oidc|reopen_store', { startOver: true });
}
/**
 * GET a path of the configured API with the access token (refreshed when it has to be). An API that
 * needs a stronger or more recent sign-in rejects it with an {@link OidcError} of kind
 * `step_up_required` whose `step_up` goes to {@link stepUp}.
 * @param path an absolute path, `/api/messages`
 * @param options `account`: call as this account (its id, email or subject); default: the one shown
 */
function fetchApi(path, options = {}) {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
        return Promise.reject(new Error('API paths start with a single "/".'));
    }
    tauri();
    return invoke('plugin:oidc|fetch_api', options.account ? { path, account: options.account } : { path });
}
/**
 * Calls `onState` with every later state; resolves to the current one.
 */
function subscribe(onState) {
    tauri();
    const channel = new Channel();
    channel.onmessage = onState;
    return invoke('plugin:oidc|subscribe', { onState: channel });
}

export { accounts, cancelSignIn, fetchApi, getState, retryStorage, signIn, signOut, startOver, stepUp, subscribe, switchAccount };
