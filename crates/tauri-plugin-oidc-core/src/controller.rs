//! The app's behaviour: start-up restore, sign-in through the system browser, deep links, API calls,
//! sign-out. The controller persists the sign-ins in progress in the engine's store; the platform (Tauri)
//! opens URLs and shows the [`AuthView`]s it is sent.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use native_oidc::{
    Account, Auth, Callback, Error, PendingAuthorizations, SessionStore, SignInOptions,
    SignOutTask, StepUp,
};
use tokio::sync::Mutex as AsyncMutex;
use url::Url;

use crate::{
    api::{ApiResponse, ApiTarget},
    error::{AppError, Kind, Notice},
    links::{self, Link},
    view::{AuthView, LoginRequest},
};

/// What the app needs from the platform.
pub trait Platform: Send + Sync + 'static {
    /// Opens `url` in the system browser.
    fn open_browser(&self, url: &Url) -> Result<(), String>;
    /// Opens a sign-in page; `ephemeral`: one that shares no browser session (cookies) with earlier
    /// sign-ins, where the platform has such a thing (an iOS authentication session), so adding an
    /// account does not hand back the one signed in. The system browser by default.
    fn open_sign_in(&self, url: &Url, ephemeral: bool) -> Result<(), String> {
        let _ = ephemeral;
        self.open_browser(url)
    }
    /// The sign-in state changed: tell the UI.
    fn state_changed(&self, view: &AuthView);
}

/// What happened to a deep link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// A sign-in completed.
    SignedIn,
    /// A sign-in callback that carried an error (cancelled, …): signed out with a notice.
    SignInFailed(Kind),
    /// The browser came back from sign-out.
    SignedOut,
    /// A sign-in was started (initiate login URI).
    SignInStarted,
    /// Signed in already: the UI shows the request and lets the user decide.
    SignInRequested,
    /// Ignored, with the reason (logged as a warning).
    Ignored(String),
}

/// The app's sign-in state machine over the engine.
pub struct Controller<P: Platform> {
    auth: Auth,
    platform: P,
    api: Option<ApiTarget>,
    view: Mutex<AuthView>,
    pending: AsyncMutex<PendingAuthorizations>,
    logout: Mutex<Option<native_oidc::EndSessionRequest>>,
    last_link_launch: Mutex<Option<Instant>>,
    outside: Vec<std::path::PathBuf>,
}

/// Initiate-login links open the browser at most once per this interval.
pub const LINK_LAUNCH_INTERVAL: Duration = Duration::from_secs(10);

impl<P: Platform> Controller<P> {
    /// A controller; call [`Controller::start`] once the platform is ready. `api_base_url` is the only
    /// place [`Controller::call_api`] sends tokens to (none: no API calls).
    pub fn new(auth: Auth, platform: P, api_base_url: Option<Url>) -> Self {
        Self {
            auth,
            platform,
            api: api_base_url.map(ApiTarget::new),
            view: Mutex::new(AuthView::Restoring),
            pending: AsyncMutex::new(PendingAuthorizations::new()),
            logout: Mutex::new(None),
            last_link_launch: Mutex::new(None),
            outside: Vec::new(),
        }
    }

    /// Files outside the engine's store that may hold a copy of the session (the set-aside store file
    /// of an earlier version, [`crate::AppStore::copies_outside_the_vault`]): sign-out erases their
    /// set-aside copies and temporary files too, as the engine does its own.
    pub fn with_copies_outside_the_store(mut self, files: Vec<std::path::PathBuf>) -> Self {
        self.outside = files;
        self
    }

    /// Erases the leftovers of the files outside the store; the first failure, if any.
    async fn erase_outside(&self) -> Option<Error> {
        let files = self.outside.clone();
        tokio::task::spawn_blocking(move || {
            files.into_iter().find_map(|file| {
                native_oidc::Vault::remove_leftovers(&native_oidc::FileVault::new(file), "session")
                    .err()
            })
        })
        .await
        .unwrap_or_else(|e| Some(Error::Storage(format!("the erase task failed: {e}"))))
    }

    /// Saves the sign-ins in progress with the session's secrets (they must survive the app being
    /// killed while the user is in the browser).
    async fn save_pending(&self, pending: &PendingAuthorizations) {
        if let Err(error) = self.pending_store().save_pending(pending).await {
            tracing::warn!(%error, "could not save the sign-in in progress");
        }
    }

    /// Where the sign-ins in progress are kept: with several accounts, the first slot (a sign-in may
    /// come back as any account, or a new one), else the session's store.
    fn pending_store(&self) -> SessionStore {
        match self.auth.accounts() {
            Some(accounts) => accounts.first().clone(),
            None => self.auth.store(),
        }
    }

    /// The engine.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The current state.
    pub fn view(&self) -> AuthView {
        self.view
            .lock()
            .map(|v| v.clone())
            .unwrap_or(AuthView::Restoring)
    }

    fn signed_in(
        &self,
        summary: &native_oidc::SessionSummary,
        offline: bool,
        notice: Option<Notice>,
    ) -> AuthView {
        AuthView::signed_in(summary, self.auth.storage(), offline, notice)
            .with_sso_group(self.auth.sso_group())
    }

    fn set_view(&self, view: AuthView) -> AuthView {
        if let Ok(mut current) = self.view.lock() {
            *current = view.clone();
        }
        self.platform.state_changed(&view);
        view
    }

    /// Start-up: restores the stored session without any network request when its access token is
    /// still valid; an expiring one is refreshed (call from a background task).
    pub async fn start(&self) -> AuthView {
        self.start_with(None).await
    }

    /// [`Controller::start`], showing `notice` with the state it restores (signed in or out), e.g. that
    /// an unreadable session was set aside when the user started over.
    pub async fn start_with(&self, notice: Option<Notice>) -> AuthView {
        match self.pending_store().load_pending().await {
            Ok(pending) => *self.pending.lock().await = pending,
            Err(error) => tracing::warn!(%error, "could not read the sign-in in progress"),
        }
        let summary = match self.auth.restore_default().await {
            Ok(summary) => summary,
            Err(error) => {
                tracing::warn!(%error, "could not restore the session");
                return self.set_view(AuthView::signed_out(Some(Notice::from(&error))));
            }
        };
        let Some(summary) = summary else {
            if !self.pending.lock().await.is_empty() {
                return self.set_view(AuthView::WaitingForBrowser);
            }
            return self.set_view(self.signed_in_by_another_app(notice).await);
        };
        self.set_view(self.signed_in(&summary, false, notice));
        if self.auth.needs_refresh().await {
            return self.refresh().await;
        }
        self.view()
    }

    /// With no session of its own: signed in with the sign-in another app of the SSO group left
    /// (Native SSO, no browser), else signed out; never after the user signed out of this app on
    /// purpose (until they sign in again). A shared sign-in the provider refuses (revoked,
    /// expired) is only logged: the user signs in as usual. One that cannot be tried (the provider is
    /// unreachable) is said.
    async fn signed_in_by_another_app(&self, notice: Option<Notice>) -> AuthView {
        if self.auth.signed_out_on_purpose().await {
            return AuthView::signed_out(notice);
        }
        match self.auth.sign_in_with_sso().await {
            Ok(Some(summary)) => self.signed_in(&summary, false, notice),
            Ok(None) => AuthView::signed_out(notice),
            Err(error) if error.is_transient() => {
                AuthView::signed_out(notice.or_else(|| Some(Notice::from(&error))))
            }
            Err(error) => {
                tracing::info!(%error, "the sign-in shared by another app cannot be used");
                AuthView::signed_out(notice)
            }
        }
    }

    /// Refreshes now: `session_expired` signs out with a reason, a network failure keeps the user
    /// signed in and marks them offline.
    pub async fn refresh(&self) -> AuthView {
        match self.auth.refresh().await {
            Ok(summary) => self.set_view(self.signed_in(&summary, false, None)),
            Err(error) => self.after_failure(&error).await,
        }
    }

    async fn after_failure(&self, error: &Error) -> AuthView {
        match self.auth.session().await {
            Some(summary) if error.is_transient() => {
                self.set_view(self.signed_in(&summary, true, Some(Notice::from(error))))
            }
            Some(_) => self.view(),
            None => self.set_view(AuthView::signed_out(Some(Notice::from(error)))),
        }
    }

    /// Starts a sign-in with this account suggested: [`Controller::sign_in_with`].
    pub async fn sign_in(&self, login_hint: Option<String>) -> Result<AuthView, AppError> {
        self.sign_in_with(SignInOptions {
            login_hint,
            ..Default::default()
        })
        .await
    }

    /// The Sign in button: with Native SSO, the sign-in another app of the group left on this device
    /// first (no browser); the browser when there is none, or the provider refuses it (that is only
    /// logged: the browser sign-in is the way on). Without Native SSO, [`Controller::sign_in`].
    pub async fn sign_in_here(&self) -> Result<AuthView, AppError> {
        if self.auth.sso_group().is_some() {
            match self.auth.sign_in_with_sso().await {
                Ok(Some(summary)) => {
                    return Ok(self.set_view(self.signed_in(&summary, false, None)))
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::info!(%error, "the shared sign-in cannot be used; signing in through the browser")
                }
            }
        }
        self.sign_in(None).await
    }

    /// The sign-in an API's step-up challenge asks for (RFC 9470), for the signed-in user only: its
    /// levels required, its `max_age`, the user's name as the hint. Another user coming back is
    /// refused and the session stays; so it does when the user cancels.
    pub async fn step_up(&self, step_up: &StepUp) -> Result<AuthView, AppError> {
        let current = self
            .auth
            .session()
            .await
            .ok_or_else(|| AppError::from(Error::NotSignedIn))?;
        self.sign_in_with(step_up.sign_in_options(&current)).await
    }

    /// Starts a sign-in with `options`: persists the pending authorization (replacing any earlier
    /// attempt), then opens the system browser. When it cannot start, the session (if any) stays
    /// shown, with why.
    pub async fn sign_in_with(&self, options: SignInOptions) -> Result<AuthView, AppError> {
        self.start_sign_in(options, false).await
    }

    /// Adds another account: a sign-in with `options` that asks for credentials again
    /// (`prompt=login` unless they say otherwise), in an ephemeral browser session where the platform
    /// has one, so the browser does not hand back the account it is signed in as. The account that
    /// comes back is kept beside the others (updated when it is one of them) and shown.
    pub async fn add_account(&self, mut options: SignInOptions) -> Result<AuthView, AppError> {
        options.prompt.get_or_insert_with(|| "login".into());
        self.start_sign_in(options, true).await
    }

    async fn start_sign_in(
        &self,
        options: SignInOptions,
        ephemeral: bool,
    ) -> Result<AuthView, AppError> {
        let request = match self.auth.begin_sign_in(options).await {
            Ok(request) => request,
            Err(error) => {
                self.show_session(Some(Notice::from(&error))).await;
                return Err(error.into());
            }
        };
        {
            let mut pending = self.pending.lock().await;
            pending.replace(request.pending);
            self.save_pending(&pending).await;
        }
        let view = self.set_view(AuthView::WaitingForBrowser);
        if let Err(reason) = self.platform.open_sign_in(&request.url, ephemeral) {
            tracing::warn!(%reason, "could not open the browser");
            self.clear_pending().await;
            let error = AppError::new(
                Kind::Browser,
                format!("The browser could not be opened: {reason}"),
            );
            self.show_session(Some(error.clone())).await;
            return Err(error);
        }
        Ok(view)
    }

    async fn clear_pending(&self) {
        let mut pending = self.pending.lock().await;
        pending.clear();
        self.save_pending(&pending).await;
    }

    /// The user gave up waiting for the browser.
    pub async fn cancel_sign_in(&self) -> AuthView {
        self.clear_pending().await;
        self.show_session(None).await
    }

    /// The sign-in page could not be shown (a mobile authentication session failed to start): this
    /// attempt is over, and the user is told why.
    pub async fn sign_in_page_failed(&self, reason: &str) -> AuthView {
        self.clear_pending().await;
        let notice = AppError::new(
            Kind::Browser,
            format!("The sign-in page could not be shown: {reason}"),
        );
        self.show_session(Some(notice)).await
    }

    /// Shows the current session (signed in, or signed out when there is none) with `notice`.
    async fn show_session(&self, notice: Option<Notice>) -> AuthView {
        match self.auth.session().await {
            Some(summary) => self.set_view(self.signed_in(&summary, false, notice)),
            None => self.set_view(AuthView::signed_out(notice)),
        }
    }

    /// Handles a URL the OS handed to the app.
    pub async fn handle_url(&self, url: &str) -> LinkOutcome {
        let config = self.auth.client().config();
        match links::classify(url, config) {
            Link::Callback(callback) => self.complete(&callback).await,
            Link::Logout(callback) => self.sign_out_returned(&callback),
            Link::Login { iss, login_hint } => self.login_link(iss, login_hint).await,
            Link::Ignored(reason) => ignore(reason),
        }
    }

    /// The browser came back from the provider's sign-out page. Only a link that carries the pending
    /// sign-out's `state` to its redirect ends it: any other (stray, forged, replayed) is ignored and
    /// leaves it pending, so the genuine return that follows still completes it.
    fn sign_out_returned(&self, callback: &str) -> LinkOutcome {
        let mut expected = self
            .logout
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let matches = expected
            .as_ref()
            .is_some_and(|request| request.check_callback(callback).is_ok());
        if !matches {
            return ignore("sign-out callback that matches no sign-out in progress");
        }
        *expected = None;
        tracing::info!("the browser finished signing out");
        LinkOutcome::SignedOut
    }

    /// An initiate-login link, which any web page can open: it never replaces a sign-in in progress,
    /// only asks while signed in, and opens the browser at most once per [`LINK_LAUNCH_INTERVAL`].
    async fn login_link(&self, iss: String, login_hint: Option<String>) -> LinkOutcome {
        if matches!(self.view(), AuthView::WaitingForBrowser)
            && !self.pending.lock().await.is_empty()
        {
            return ignore("initiate-login link while a sign-in is in progress");
        }
        if let AuthView::SignedIn {
            account,
            profile,
            expires_at,
            offline,
            notice,
            storage,
            token_type,
            sso_group,
            ..
        } = self.view()
        {
            tracing::info!(%iss, "an initiate-login link asked for a sign-in; the UI asks the user");
            self.set_view(AuthView::SignedIn {
                account,
                profile,
                expires_at,
                offline,
                notice,
                storage,
                login_request: Some(LoginRequest::new(&iss, login_hint.as_deref())),
                token_type,
                sso_group,
            });
            return LinkOutcome::SignInRequested;
        }
        {
            let mut last = self
                .last_link_launch
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < LINK_LAUNCH_INTERVAL) {
                drop(last);
                return ignore(
                    "initiate-login link within 10 s of the last one that opened the browser",
                );
            }
            *last = Some(Instant::now());
        }
        match self.sign_in(login_hint).await {
            Ok(_) => LinkOutcome::SignInStarted,
            Err(error) => LinkOutcome::SignInFailed(error.kind),
        }
    }

    async fn complete(&self, callback: &Callback) -> LinkOutcome {
        let mut pending = self.pending.lock().await;
        let result = self.auth.finish_sign_in(callback, &mut pending).await;
        match result {
            Ok(summary) => {
                // Shown after one round trip, from the ID token's claims; the profile follows.
                self.set_view(self.signed_in(&summary, false, None));
                pending.clear();
                self.save_pending(&pending).await;
                drop(pending);
                match self.auth.load_profile().await {
                    Ok(summary) => {
                        if self.view().is_signed_in() {
                            self.set_view(self.signed_in(&summary, false, None));
                        }
                    }
                    Err(error @ Error::InvalidUserinfo(_)) => {
                        self.set_view(AuthView::signed_out(Some(Notice::from(&error))));
                        return LinkOutcome::SignInFailed(Kind::Engine(error.kind()));
                    }
                    Err(error) => tracing::warn!(%error, "the profile could not be loaded"),
                }
                LinkOutcome::SignedIn
            }
            Err(Error::StateMismatch) => {
                drop(pending);
                ignore("sign-in callback that matches no sign-in in progress")
            }
            Err(error) => {
                // The pending authorization was used up: this attempt is over.
                self.save_pending(&pending).await;
                drop(pending);
                tracing::warn!(%error, "sign-in failed");
                self.show_session(Some(Notice::from(&error))).await;
                LinkOutcome::SignInFailed(Kind::Engine(error.kind()))
            }
        }
    }

    /// Signs out on this device at once (the UI is signed out even when the identity provider is
    /// unreachable). Returns the new state and the task that revokes the tokens and opens the
    /// provider's sign-out page ([`Controller::finish_sign_out`], run it in the background). When the
    /// copy on this device cannot be erased, the tokens are revoked all the same and the UI says so.
    pub async fn sign_out(&self) -> (AuthView, Option<SignOutTask>) {
        self.clear_pending().await;
        let outside = self.erase_outside().await;
        match self.auth.sign_out_locally().await {
            Ok(task) => {
                let notice = task.erase_error().or(outside.as_ref()).map(|error| {
                    AppError::new(
                        Kind::Engine(error.kind()),
                        format!(
                            "You are signed out and your tokens are being revoked, but the copy of \
                             your session on this device could not be erased: {error}"
                        ),
                    )
                });
                (self.set_view(AuthView::signed_out(notice)), Some(task))
            }
            Err(Error::NotSignedIn) => (self.set_view(AuthView::signed_out(None)), None),
            Err(error) => {
                tracing::warn!(%error, "sign-out could not clear the store");
                let view = self.set_view(AuthView::signed_out(Some(Notice::from(&error))));
                (view, None)
            }
        }
    }

    /// Signs out of every app of the SSO group (Native SSO): signs this app out as
    /// [`Controller::sign_out`] does (at once, even offline), then revokes the sign-in the apps share,
    /// so each is signed out at its next refresh. When that could not be revoked (the provider is
    /// unreachable), the UI says so, after what the sign-out itself had to say.
    pub async fn sign_out_of_all_apps(&self) -> (AuthView, Option<SignOutTask>) {
        let (view, task) = self.sign_out().await;
        let (problem, next) = match self.auth.end_shared_sign_in().await {
            Ok(native_oidc::SharedSignOut::NotRevoked { error, kept: true }) => (
                error,
                "No app will sign in with it again, and it is ended the next time an app signs \
                 in or you sign out of all apps.",
            ),
            Ok(native_oidc::SharedSignOut::NotRevoked { error, kept: false }) => (
                error,
                "No app will sign in with it again; the others stay signed in until it expires.",
            ),
            Err(error) => (
                error,
                "The other apps are still signed in, and can still sign in with it: try again.",
            ),
            Ok(_) => return (view, task),
        };
        let mut message = format!(
            "You are signed out of this app, but your sign-in could not be ended for the other \
             apps ({problem}). {next}"
        );
        if let AuthView::SignedOut {
            notice: Some(earlier),
        } = &view
        {
            message = format!("{} {message}", earlier.message);
        }
        let notice = AppError::new(Kind::Engine(problem.kind()), message);
        (self.set_view(AuthView::signed_out(Some(notice))), task)
    }

    /// The network half of sign-out: revocation and the provider's end-session page.
    pub async fn finish_sign_out(&self, task: SignOutTask) {
        let sign_out = self.auth.finish_sign_out(task).await;
        if let Some(error) = &sign_out.error {
            tracing::warn!(%error, "sign-out could not reach the identity provider");
        }
        if let Some(end_session) = sign_out.end_session {
            if let Ok(mut logout) = self.logout.lock() {
                *logout = Some(end_session.clone());
            }
            if let Err(reason) = self.platform.open_browser(&end_session.url) {
                tracing::warn!(%reason, "could not open the browser for sign-out");
            }
        }
    }

    /// The accounts signed in on this device, to show (no network; none when the app keeps one
    /// account): their texts without control characters or bidi overrides, so name one by its id.
    pub async fn accounts(&self) -> Result<Vec<Account>, AppError> {
        Ok(self
            .stored_accounts()
            .await?
            .into_iter()
            .map(crate::view::shown_account)
            .collect())
    }

    /// The accounts as stored.
    async fn stored_accounts(&self) -> Result<Vec<Account>, AppError> {
        match self.auth.accounts() {
            Some(accounts) => Ok(accounts.list().await?),
            None => Ok(Vec::new()),
        }
    }

    /// The account `key` (its id, email or subject) among the accounts.
    async fn account(&self, key: &str) -> Result<Account, AppError> {
        Ok(self.auth.accounts_kept()?.find(key).await?)
    }

    /// True when `account` is the one shown.
    async fn is_current(&self, account: &Account) -> bool {
        self.auth
            .session()
            .await
            .is_some_and(|summary| summary.account == account.id)
    }

    /// Shows account `key` (no network, unless its access token is due and is refreshed) and makes
    /// it the default one at the next start.
    pub async fn switch_account(&self, key: &str) -> Result<AuthView, AppError> {
        let account = self.account(key).await?;
        match self.auth.switch_to(&account).await? {
            Some(summary) => {
                self.set_view(self.signed_in(&summary, false, None));
                if self.auth.needs_refresh().await {
                    return Ok(self.refresh().await);
                }
                Ok(self.view())
            }
            None => Ok(self.show_session(None).await),
        }
    }

    /// Signs out of account `key` (the one shown when `None`), leaving the others signed in. The one
    /// shown: as [`Controller::sign_out`], then the default account of those left is shown. Another
    /// one: its copy on this device is erased at once and its tokens are revoked by the task; the
    /// account shown stays.
    pub async fn sign_out_account(
        &self,
        key: Option<&str>,
    ) -> Result<(AuthView, Option<SignOutTask>), AppError> {
        let account = match key {
            Some(key) => Some(self.account(key).await?),
            None => None,
        };
        match account {
            Some(account) if !self.is_current(&account).await => {
                let other = self.auth.for_account(&account).await?;
                let task = other.sign_out_locally().await?;
                if let Some(error) = task.erase_error() {
                    let notice = AppError::new(
                        Kind::Engine(error.kind()),
                        format!(
                            "That account is signed out and its tokens are being revoked, but the \
                             copy of its session on this device could not be erased: {error}"
                        ),
                    );
                    return Ok((self.show_session(Some(notice)).await, Some(task)));
                }
                // The account shown is unchanged; its subscribers hear of the sign-out all the same.
                Ok((self.set_view(self.view()), Some(task)))
            }
            _ => {
                let (view, task) = self.sign_out().await;
                Ok((self.show_next_account(view).await, task))
            }
        }
    }

    /// After the account shown signed out (`view`): the default account of those left, if any and
    /// if there is nothing to tell about the sign-out.
    async fn show_next_account(&self, view: AuthView) -> AuthView {
        if !matches!(view, AuthView::SignedOut { notice: None }) {
            return view;
        }
        match self.auth.restore_default().await {
            Ok(Some(summary)) => self.set_view(self.signed_in(&summary, false, None)),
            Ok(None) => view,
            Err(error) => {
                tracing::warn!(%error, "the next account could not be restored");
                view
            }
        }
    }

    /// Signs out of every account: each erased on this device at once, the one shown last. The
    /// tasks revoke their tokens; run the first one (the account shown, or the first other account
    /// when none is shown) with [`Controller::finish_sign_out`], which also ends the provider's
    /// session in the browser, and the others with [`Controller::finish_revocation`].
    pub async fn sign_out_of_every_account(&self) -> (AuthView, Vec<SignOutTask>) {
        let mut others = Vec::new();
        for account in self.stored_accounts().await.unwrap_or_default() {
            if self.is_current(&account).await {
                continue;
            }
            let signed_out = match self.auth.for_account(&account).await {
                Ok(other) => other.sign_out_locally().await,
                Err(error) => Err(error),
            };
            match signed_out {
                Ok(task) => others.push(task),
                Err(error) => tracing::warn!(%error, "an account could not be signed out"),
            }
        }
        if let Some(accounts) = self.auth.accounts() {
            // Sessions that cannot be read: not revocable, but erased all the same.
            if let Err(error) = accounts.erase_unreadable().await {
                tracing::warn!(%error, "an unreadable session could not be erased");
            }
        }
        let (view, task) = self.sign_out().await;
        (view, task.into_iter().chain(others).collect())
    }

    /// The network half of an account's sign-out with no browser page: revocation only.
    pub async fn finish_revocation(&self, task: SignOutTask) {
        if let Some(error) = self.auth.finish_sign_out(task).await.error {
            tracing::warn!(%error, "sign-out could not reach the identity provider");
        }
    }

    /// GET `path` of the configured API with the bearer token (refresh + one retry on 401).
    pub async fn call_api(&self, path: &str) -> Result<ApiResponse, AppError> {
        self.call_api_as(path, None).await
    }

    /// [`Controller::call_api`] as account `key` (its id, email or subject; the one shown when
    /// `None`).
    pub async fn call_api_as(
        &self,
        path: &str,
        key: Option<&str>,
    ) -> Result<ApiResponse, AppError> {
        let other = match key {
            Some(key) => {
                let account = self.account(key).await?;
                if self.is_current(&account).await {
                    None
                } else {
                    Some(self.auth.for_account(&account).await?)
                }
            }
            None => None,
        };
        let Some(other) = other else {
            return self.call_api_with(path, &self.auth).await;
        };
        self.call_api_with(path, &other).await
    }

    async fn call_api_with(&self, path: &str, auth: &Auth) -> Result<ApiResponse, AppError> {
        let shown = std::ptr::eq(auth, &self.auth);
        let api = self.api.as_ref().ok_or_else(|| {
            AppError::new(Kind::ForbiddenUrl, "No API is configured (apiBaseUrl).")
        })?;
        let url = api.resolve(path).ok_or_else(|| {
            AppError::new(
                Kind::ForbiddenUrl,
                format!(
                    "Only paths of the configured API ({}) can be called.",
                    api.base()
                ),
            )
        })?;
        let mut request = auth.request(reqwest::Method::GET, url)?;
        request.headers_mut().insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        let response = match auth.send(request).await {
            Ok(response) => response,
            Err(error) => {
                if shown {
                    self.after_failure(&error).await;
                }
                return Err(error.into());
            }
        };
        let status = response.status().as_u16();
        let bytes = read_limited(response, MAX_API_BODY).await?;
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        if let Some(summary) = self.auth.session().await.filter(|_| shown) {
            // Tokens may have been refreshed: keep the expiry shown current.
            if self.view().is_signed_in() {
                self.set_view(self.signed_in(&summary, false, None));
            }
        }
        Ok(ApiResponse { status, body })
    }
}

/// The largest API answer handed to the UI.
pub const MAX_API_BODY: usize = 1024 * 1024;

/// Reads an API answer of at most `limit` bytes ([`native_oidc::http::read_limited`]).
async fn read_limited(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, AppError> {
    native_oidc::http::read_limited(response, limit)
        .await
        .map_err(|e| match e {
            native_oidc::http::BodyError::TooLarge => AppError::new(
                Kind::ResponseTooLarge,
                format!(
                    "The API's answer is larger than {} KiB; it was not read.",
                    limit / 1024
                ),
            ),
            // The body error's text, not reqwest's: that would show the URL's query.
            read @ native_oidc::http::BodyError::Read(_) => AppError::new(
                Kind::Engine(native_oidc::ErrorKind::Network),
                format!("The API's answer could not be read ({read})."),
            ),
        })
}

fn ignore(reason: &str) -> LinkOutcome {
    tracing::warn!(reason, "ignored a deep link");
    LinkOutcome::Ignored(reason.to_string())
}
