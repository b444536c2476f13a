// The one module that talks to Rust: the app's commands and the `auth-changed` event.
// Tokens never come through here: Rust keeps them and answers with states, profiles and API bodies.

function tauriBridge() {
  const tauri = globalThis.__TAURI__;
  if (!tauri) throw new Error('This page must run inside the app.');
  return { invoke: tauri.core.invoke, listen: tauri.event.listen };
}

export const AUTH_CHANGED = 'auth-changed';

export function createAuth({ invoke, listen } = tauriBridge()) {
  return {
    /** The current state: { status: 'restoring' | 'signed_out' | 'waiting_for_browser' | 'signed_in', … } */
    state: () => invoke('auth_state'),
    /** Opens the system browser on the sign-in page. */
    signIn: () => invoke('sign_in'),
    /** Stops waiting for the browser. */
    cancelSignIn: () => invoke('cancel_sign_in'),
    /** Signs out (at once, even offline). */
    signOut: () => invoke('sign_out'),
    /** GET a path of the configured API; resolves to { status, body }. */
    callApi(path) {
      if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) {
        return Promise.reject(new Error('API paths start with a single "/".'));
      }
      return invoke('call_api', { path });
    },
    /** Calls handler(state) on every change; resolves to a function that stops listening. */
    onChange: (handler) => listen(AUTH_CHANGED, (event) => handler(event.payload)),
  };
}

/** Turns a rejected command into words: Rust sends its error as a message string. */
export function errorMessage(error) {
  if (typeof error === 'string') return error;
  if (error && typeof error.message === 'string') return error.message;
  return 'Something went wrong.';
}
