// A TypeScript app's use of the package, type-checked with `tsc --strict` against the package as
// `npm pack` makes it (package.test.js). The `@ts-expect-error` lines prove the types are real: with
// no types, or `any`, they are errors of their own.
import {
  accounts,
  cancelSignIn,
  fetchApi,
  getState,
  retryStorage,
  signIn,
  signOut,
  startOver,
  stepUp,
  subscribe,
  switchAccount,
  type Account,
  type ApiResponse,
  type AuthState,
  type Notice,
  type OidcError,
  type Profile,
} from 'tauri-plugin-oidc-api';

function describe(state: AuthState): string {
  switch (state.status) {
    case 'signed_in': {
      const profile: Profile = state.profile;
      return `${profile.name ?? profile.subject} (${state.storage}, ${state.token_type})`;
    }
    case 'signed_out':
      return state.notice?.message ?? 'signed out';
    case 'storage_problem':
      return state.start_over ? state.actions.join(' ') : state.message;
    case 'not_configured':
      return state.missing.join(', ');
    case 'restoring':
    case 'waiting_for_browser':
      return state.status;
  }
}

export async function main(): Promise<string[]> {
  const seen: string[] = [];
  const current: AuthState = await subscribe((state) => seen.push(describe(state)));
  await signIn();
  await signIn('user@example.com');
  await signIn({ acrValues: ['urn:okta:loa:2fa:any'], requireAcr: true, maxAge: 300, prompt: 'login' });
  // @ts-expect-error maxAge is a number of seconds
  await signIn({ maxAge: '300' });
  await cancelSignIn();
  await retryStorage();
  await startOver();
  const answer: ApiResponse = await fetchApi('/api/messages');
  const status: number = answer.status;
  try {
    await signOut();
  } catch (e) {
    const error = e as OidcError;
    const notice: Notice = error;
    seen.push(notice.kind);
    if (error.kind === 'step_up_required' && error.step_up) {
      await stepUp(error.step_up);
    }
  }
  await signIn({ addAccount: true, loginHint: 'alice@example.com' });
  const all: Account[] = await accounts();
  const other = all.find((account) => !account.default);
  if (other) {
    await switchAccount(other.id);
    await fetchApi('/api/whoami', { account: other.email ?? other.id });
    await signOut({ account: other.id });
    await signOut(other.id);
  }
  await signOut({ allAccounts: true });
  // @ts-expect-error an account is named by a string
  await switchAccount(7);
  // @ts-expect-error a path is a string
  await fetchApi(42);
  // @ts-expect-error states have no `token`: no function returns one
  const token: string = (await getState()).token;
  // @ts-expect-error `profile` exists only once signed in
  void current.profile;
  return [...seen, String(status), token];
}
