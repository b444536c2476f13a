/**
 * An error or a notice: a stable kind (`access_denied`, `network`, `session_expired`, …) and words.
 */
export interface Notice {
    kind: string;
    message: string;
}
/** What an API asked for when it answered `step_up_required` (RFC 9470): the error's `step_up`. */
export interface StepUp {
    acr_values: string[];
    max_age?: number | null;
}
/**
 * What a rejected call of this API gives: the plugin's errors are `{ kind, message }`, like notices;
 * with `step_up_required` (from `fetchApi`), `step_up` says what the API asked for. (`fetchApi` with a
 * path that is not a single-`/` path rejects with a plain `Error` before any call.)
 */
export interface OidcError extends Notice {
    step_up?: StepUp;
}
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
    /** The account shown (see {@link accounts}). */
    account: string;
    profile: Profile;
    expires_at?: string;
    offline: boolean;
    notice?: Notice;
    storage: 'keystore' | 'file' | 'memory';
    login_request?: LoginRequest;
    token_type: 'Bearer' | 'DPoP';
    /** The vendor's SSO group when Native SSO is on (`signOut({ allApps: true })` is offered). */
    sso_group?: string;
};
/** An account signed in on this device (no token): see {@link accounts}. */
export interface Account {
    /** Its id: issuer, client id and subject in 16 hex digits. */
    id: string;
    issuer: string;
    client_id: string;
    subject: string;
    name?: string;
    email?: string;
    /** True for the default account: the one shown at start, and when none is named. */
    default: boolean;
}
/** An answer of the configured API: its HTTP status and its body (JSON, or text). */
export interface ApiResponse {
    status: number;
    body: unknown;
}
/**
 * The current sign-in state.
 */
export declare function getState(): Promise<AuthState>;
/** What a sign-in asks of the identity provider (OpenID Connect Core §3.1.2.1). */
export interface SignInOptions {
    /** Pre-fills the username. */
    loginHint?: string;
    /** The authentication levels wanted (Okta: `urn:okta:loa:2fa:any`, …). */
    acrValues?: string[];
    /** Refuse a sign-in whose `acr` is not one of `acrValues` (nothing is stored, its tokens revoked). */
    requireAcr?: boolean;
    /** Ask again when the user's last authentication is older than this many seconds. */
    maxAge?: number;
    /** `login`, `consent` or `none` (space-separated for several). */
    prompt?: string;
    /** Okta: the id of the identity provider to send the user to. */
    idp?: string;
    /** More authorization request parameters, sent as given. */
    params?: Record<string, string>;
    /**
     * Add another account, keeping those signed in: the provider asks for credentials again
     * (`prompt=login` unless `prompt` is given). The account signed in is then the one shown.
     */
    addAccount?: boolean;
}
/**
 * Opens the sign-in page: the system browser on desktop, an authentication session on iOS and Android.
 * @param options the account to suggest (a string, from a sign-in request), or the sign-in's options
 */
export declare function signIn(options?: string | SignInOptions): Promise<AuthState>;
/**
 * Signs the same user in again as an API asked (`step_up_required`: pass the error's `step_up`): the
 * levels it named required, its `max_age`. Another user coming back is refused (`different_user`) and
 * the session stays as it was; so it does when the user cancels. Call the API again once signed in.
 */
export declare function stepUp(stepUp: StepUp): Promise<AuthState>;
/**
 * Stops waiting for the browser.
 */
export declare function cancelSignIn(): Promise<AuthState>;
/** How to sign out. */
export interface SignOutOptions {
    /**
     * Of every app of the SSO group too (Native SSO): the sign-in they share is revoked, so each is
     * signed out at its next refresh.
     */
    allApps?: boolean;
    /** Of this account only (its id, email or subject); default: the one shown. The others stay. */
    account?: string;
    /** Of every account signed in on this device. */
    allAccounts?: boolean;
}
/**
 * Signs out at once (even offline); the tokens are revoked and the provider's session ended after.
 * Another account signed in on this device is then shown, if there is one.
 * @param options how, or an account (its id, email or subject) to sign out of, the others staying
 */
export declare function signOut(options?: SignOutOptions | string): Promise<AuthState>;
/**
 * The accounts signed in on this device (no network request), the default one marked.
 */
export declare function accounts(): Promise<Account[]>;
/**
 * Shows another account (its id, email or subject) and makes it the default; no sign-in needed.
 */
export declare function switchAccount(id: string): Promise<AuthState>;
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
 * GET a path of the configured API with the access token (refreshed when it has to be). An API that
 * needs a stronger or more recent sign-in rejects it with an {@link OidcError} of kind
 * `step_up_required` whose `step_up` goes to {@link stepUp}.
 * @param path an absolute path, `/api/messages`
 * @param options `account`: call as this account (its id, email or subject); default: the one shown
 */
export declare function fetchApi(path: string, options?: {
    account?: string;
}): Promise<ApiResponse>;
/**
 * Calls `onState` with every later state; resolves to the current one.
 */
export declare function subscribe(onState: (state: AuthState) => void): Promise<AuthState>;
