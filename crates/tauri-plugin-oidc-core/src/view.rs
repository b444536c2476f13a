//! What the UI is told: the sign-in state, a profile and notices. Never a token. Text the provider
//! (or a link) sent reaches the UI without control characters or bidi overrides
//! ([`native_oidc::text::Printable`]): a name cannot read backwards or hide what follows it.

use native_oidc::{
    text::{printable, printable_json},
    Account, SessionSummary, Storage, TokenType,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    error::Notice,
    problem::{ProblemKind, StorageProblem},
};

/// A sign-in that an initiate-login link asked for while the user was signed in: shown, not acted on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoginRequest {
    /// Who asked (the link's `iss`).
    pub issuer: String,
    /// The account it suggested, if any.
    pub login_hint: Option<String>,
}

impl LoginRequest {
    /// What a link asked for, fit to show.
    pub fn new(issuer: &str, login_hint: Option<&str>) -> Self {
        Self {
            issuer: printable(issuer),
            login_hint: login_hint.map(printable),
        }
    }
}

/// An account as the UI's switcher shows it: its texts fit to show.
pub(crate) fn shown_account(mut account: Account) -> Account {
    for text in [
        &mut account.issuer,
        &mut account.client_id,
        &mut account.subject,
    ] {
        *text = printable(text);
    }
    for text in [&mut account.name, &mut account.email]
        .into_iter()
        .flatten()
    {
        *text = printable(text);
    }
    account
}

/// The signed-in user, as shown in the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    /// Display name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// `sub`.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// ID token and userinfo claims (userinfo wins), without `nonce` and `at_hash`.
    pub claims: Map<String, Value>,
}

impl From<&SessionSummary> for Profile {
    fn from(summary: &SessionSummary) -> Self {
        let mut claims = summary.claims.clone();
        if let Some(profile) = &summary.profile {
            claims.extend(profile.clone());
        }
        claims.remove("nonce");
        claims.remove("at_hash");
        // (Two names that differ only in what is replaced become one: the last wins.)
        let claims = claims
            .iter()
            .map(|(name, value)| (printable(name), printable_json(value)))
            .collect();
        Self {
            name: summary.name.as_deref().map(printable),
            email: summary.email.as_deref().map(printable),
            subject: printable(&summary.subject),
            issuer: printable(&summary.issuer),
            scopes: summary
                .scopes
                .iter()
                .map(|scope| printable(scope))
                .collect(),
            claims,
        }
    }
}

/// The sign-in state, sent to the UI with every change through the channels the UI subscribed with
/// (never a global event, which any webview could listen to).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuthView {
    /// The app lacks settings (or has unusable ones): nobody can sign in until they are set.
    NotConfigured {
        /// The missing settings (`issuer`, `clientId`, `apiBaseUrl`).
        missing: Vec<String>,
        /// The config file to put them in.
        file: String,
        /// What to do, in words.
        message: String,
    },
    /// The session store cannot be opened: what is wrong and what to do; the app waits for the user
    /// to try again or start over.
    StorageProblem {
        /// `keystore_unavailable` or `store_unreadable`.
        kind: ProblemKind,
        /// What is wrong, in words.
        message: String,
        /// What the user can do, one sentence each.
        actions: Vec<String>,
        /// The config file where `tokenStorage` is set.
        file: String,
        /// True when "start over" (set the unreadable file aside, open a fresh store) is offered.
        start_over: bool,
    },
    /// Loading the stored session.
    Restoring,
    /// Not signed in; `notice` says why when there is a reason (cancelled, session ended, …).
    SignedOut {
        /// Why, if there is something to say.
        notice: Option<Notice>,
    },
    /// The system browser is open on the sign-in page.
    WaitingForBrowser,
    /// Signed in.
    SignedIn {
        /// Which account ([`native_oidc::AccountId`]: issuer, client id and subject).
        account: native_oidc::AccountId,
        /// Who.
        profile: Box<Profile>,
        /// When the access token expires (RFC 3339).
        expires_at: Option<String>,
        /// The identity provider could not be reached; the stored session is kept.
        offline: bool,
        /// Something to tell the user.
        notice: Option<Notice>,
        /// Where the tokens are kept: `keystore` (the system keychain) or `file` (a file only the
        /// user can read).
        storage: Storage,
        /// A sign-in an initiate-login link asked for, for the user to accept or not.
        login_request: Option<LoginRequest>,
        /// `DPoP` when the tokens are bound to this device's key, else `Bearer`.
        token_type: TokenType,
        /// The vendor's SSO group when Native SSO is on: the UI offers to sign out of all its apps.
        sso_group: Option<String>,
    },
}

impl From<&crate::config::NotConfigured> for AuthView {
    fn from(problem: &crate::config::NotConfigured) -> Self {
        AuthView::NotConfigured {
            missing: problem.missing.clone(),
            file: problem.file.display().to_string(),
            message: problem.message.clone(),
        }
    }
}

impl From<&StorageProblem> for AuthView {
    fn from(problem: &StorageProblem) -> Self {
        AuthView::StorageProblem {
            kind: problem.kind,
            message: problem.message.clone(),
            actions: problem.actions.clone(),
            file: problem.config_file.display().to_string(),
            start_over: problem.can_start_over(),
        }
    }
}

impl AuthView {
    /// Signed in with this session, its tokens kept in `storage`.
    pub fn signed_in(
        summary: &SessionSummary,
        storage: Storage,
        offline: bool,
        notice: Option<Notice>,
    ) -> Self {
        AuthView::SignedIn {
            account: summary.account.clone(),
            profile: Box::new(Profile::from(summary)),
            expires_at: summary.expires_at.clone(),
            offline,
            notice,
            storage,
            login_request: None,
            token_type: summary.token_type,
            sso_group: None,
        }
    }

    /// The same state, naming the SSO group the user can sign out of all apps of.
    pub fn with_sso_group(mut self, group: Option<&str>) -> Self {
        if let AuthView::SignedIn { sso_group, .. } = &mut self {
            *sso_group = group.map(str::to_string);
        }
        self
    }

    /// Signed out, with a reason.
    pub fn signed_out(notice: Option<Notice>) -> Self {
        AuthView::SignedOut { notice }
    }

    /// True when signed in.
    pub fn is_signed_in(&self) -> bool {
        matches!(self, AuthView::SignedIn { .. })
    }
}
