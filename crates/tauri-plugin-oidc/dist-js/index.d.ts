/**
 * An error or a notice: a stable kind (`access_denied`, `network`, `session_expired`, …) and words.
 */
export interface Notice {
    kind: string;
    message: string;
}
/**
 * What a rejected call of this API gives: the plugin's errors are `{ kind, message }`, like notices.
 * (`fetchApi` with a path that is not a single-`/` path rejects with a plain `Error` before any call.)
 */
export type OidcError = Notice;
/** The signed-in user, from the ID token and userinfo. */
export interface Profile {
    name?: string;
    email?: string;
    subject: string;
    issuer: string;
    scopes: string[];
    claims: Record<string, unknown>;
}
/** An initiate-login link asking to sign in again (with this account, if it names one). */
export interface LoginRequest {
    issuer: string;
    login_hint?: string;
}
/** The sign-in state; `status` says which. */
export type AuthState = {
    status: 'not_configured';
    missing: string[];
    file: string;
    message: string;
} | {
    status: 'storage_problem';
    kind: 'keystore_unavailable' | 'store_unreadable';
    message: string;
    actions: string[];
    file: string;
    start_over: boolean;
} | {
    status: 'restoring';
} | {
    status: 'signed_out';
    notice?: Notice;
} | {
    status: 'waiting_for_browser';
} | {
    status: 'signed_in';
    profile: Profile;
    expires_at?: string;
    offline: boolean;
    notice?: Notice;
    storage: 'keystore' | 'file' | 'memory';
    login_request?: LoginRequest;
    token_type: 'Bearer' | 'DPoP';
};
/** An answer of the configured API: its HTTP status and its body (JSON, or text). */
export interface ApiResponse {
    status: number;
    body: unknown;
}
/**
 * The current sign-in state.
 */
export declare function getState(): Promise<AuthState>;
/**
 * Opens the sign-in page: the system browser on desktop, an authentication session on iOS and Android.
 * @param loginHint the account to suggest (from a sign-in request)
 */
export declare function signIn(loginHint?: string): Promise<AuthState>;
/**
 * Stops waiting for the browser.
 */
export declare function cancelSignIn(): Promise<AuthState>;
/**
 * Signs out at once (even offline); the tokens are revoked and the provider's session ended after.
 */
export declare function signOut(): Promise<AuthState>;
/**
 * After a `storage_problem`: opens the session store again (once the keyring is unlocked, a permission
 * fixed, …). Resolves to the restored state, or the problem that remains.
 */
export declare function retryStorage(): Promise<AuthState>;
/**
 * After a `storage_problem` whose `start_over` is true: sets aside what could not be read (renamed,
 * never deleted) and opens a fresh store; the user signs in again.
 */
export declare function startOver(): Promise<AuthState>;
/**
 * GET a path of the configured API with the access token (refreshed when it has to be).
 * @param path an absolute path, `/api/messages`
 */
export declare function fetchApi(path: string): Promise<ApiResponse>;
/**
 * Calls `onState` with every later state; resolves to the current one.
 */
export declare function subscribe(onState: (state: AuthState) => void): Promise<AuthState>;
