// One button, then the profile: the plugin's API is window.__TAURI__.oidc (withGlobalTauri).
const { signIn, subscribe } = window.__TAURI__.oidc;
const button = document.getElementById('sign-in');
const profile = document.getElementById('profile');

function show(state) {
  button.hidden = state.status !== 'signed_out';
  profile.textContent =
    state.status === 'signed_in' ? `Hello, ${state.profile.name ?? state.profile.subject}` : state.notice?.message ?? state.message ?? '';
}

button.addEventListener('click', () => signIn().then(show, (error) => (profile.textContent = error.message)));
subscribe(show).then(show);
