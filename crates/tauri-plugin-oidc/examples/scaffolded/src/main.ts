// The README's steps (crates/tauri-plugin-oidc/README.md, "Add it to your app"): the npm package, typed.
import { subscribe, signIn, fetchApi, type AuthState } from "tauri-plugin-oidc-api";

function render(state: AuthState) {
  const app = document.querySelector<HTMLElement>("#app")!;
  app.dataset.status = state.status;
  const name = document.querySelector<HTMLElement>("#profile-name")!;
  name.textContent =
    state.status === "signed_in" ? state.profile.name ?? state.profile.subject : "";
}

window.addEventListener("DOMContentLoaded", () => {
  subscribe(render).then(render);
  document.querySelector("#sign-in")?.addEventListener("click", () => signIn());
  document.querySelector("#call-api")?.addEventListener("click", async () => {
    const { status, body } = await fetchApi("/api/messages");
    document.querySelector<HTMLElement>("#api-result")!.textContent = `${status} ${JSON.stringify(body)}`;
  });
});
