// The one module that talks to Rust: the app's commands, and the channel state changes come through.
// Tokens never come through here: Rust keeps them and answers with states, profiles and API bodies.
// There is no event listener: the window may not listen to events at all.

function tauriBridge() {
  const tauri = globalThis.__TAURI__;
  if (!tauri) throw new Error('This page must run inside the app.');
  return { invoke: tauri.core.invoke, Channel: tauri.core.Channel };
}

export function createAuth({ invoke, Channel } = tauriBridge()) {
  return {
    /** The current state: { status: 'not_configured' | 'restoring' | 'signed_out' | 'waiting_for_browser' | 'signed_in', … } */
    state: () => invoke('auth_state'),
    /** Opens the system browser on the sign-in page (with an account suggested by a sign-in request). */
    signIn: (loginHint) => invoke('sign_in', loginHint ? { loginHint } : {}),
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
    /** Calls handler(state) on every change; resolves to the current state. */
    subscribe(handler) {
      const channel = new Channel();
      channel.onmessage = handler;
      return invoke('subscribe', { onState: channel });
    },
  };
}

/** Turns a rejected command into words: Rust sends { kind, message }. */
export function errorMessage(error) {
  if (typeof error === 'string') return error;
  if (error && typeof error.message === 'string') return error.message;
  return 'Something went wrong.';
}
