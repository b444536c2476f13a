//! A minimal browser for the identity provider's pages: cookies, redirects, and the forms a person
//! fills in or presses there (sign-in or Cancel, the second-factor code, a device activation's
//! confirmation) or that submit themselves (sign-out).

use std::time::Duration;

use url::Url;

/// What the person does on the login page.
#[derive(Clone, Debug)]
pub enum LoginAction {
    /// Types these credentials and presses "Sign in".
    SignIn {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// Presses "Cancel".
    Cancel,
}

impl LoginAction {
    /// The demo user (`demo` / `demo`).
    pub fn demo() -> Self {
        LoginAction::SignIn {
            username: "demo".into(),
            password: "demo".into(),
        }
    }
}

/// The one-time code of dev/idp's second-factor page (its `IDP_OTP_CODE` default).
pub const DEV_OTP_CODE: &str = "123456";

/// Where the browser ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A redirect to a non-http URL (a custom scheme): the OS would hand it to the app.
    AppRedirect(Url),
    /// A page it has nothing more to do on.
    Page {
        /// The page's URL.
        url: Url,
        /// HTTP status.
        status: u16,
        /// The HTML.
        body: String,
    },
}

impl Outcome {
    /// The app redirect, or a panic describing the page the browser stopped on.
    pub fn app_redirect(self) -> Url {
        match self {
            Outcome::AppRedirect(url) => url,
            Outcome::Page { url, status, body } => {
                panic!("expected a redirect to the app, stopped on {url} (HTTP {status}):\n{body}")
            }
        }
    }
}

/// A cookie-keeping HTTP client that signs in like a person would.
#[derive(Clone, Debug)]
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("browser HTTP client");
        Self { http }
    }

    /// Opens `url`, follows redirects, does `action` on a login page (and on a device activation's
    /// confirmation page: Continue, or Cancel) and submits sign-out confirmation forms, until a
    /// redirect to a non-http scheme or a page with nothing to do.
    pub async fn open(&self, url: &str, action: &LoginAction) -> Outcome {
        let mut url = Url::parse(url).expect("the browser was given a URL");
        let mut form: Option<Vec<(String, String)>> = None;
        let mut logged_in = false;
        let mut answered_otp = false;
        let mut confirmed_device = false;
        for _ in 0..30 {
            let request = match form.take() {
                Some(fields) => self.http.post(url.clone()).form(&fields),
                None => self.http.get(url.clone()),
            };
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("browser: GET {url}: {e}"));
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .expect("redirect without location");
                let next = url.join(location).expect("bad redirect location");
                if next.scheme() != "http" && next.scheme() != "https" {
                    return Outcome::AppRedirect(next);
                }
                url = next;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            // A page that submits a form by script (sign-out confirmation, form_post): a browser
            // runs the script, so submit the form.
            let auto_submit = body.contains(".submit()");
            if let Some((action_url, fields)) = auto_submit.then(|| find_form(&body, "")).flatten()
            {
                url = url.join(&action_url).expect("bad form action");
                form = Some(fields);
                continue;
            }
            // dev/idp's second-factor page: its one-time code (after the password, or alone when
            // only the second factor is missing).
            if let Some((otp_url, _)) = matches!(action, LoginAction::SignIn { .. })
                .then(|| find_form(&body, "/otp"))
                .flatten()
            {
                if !answered_otp {
                    answered_otp = true;
                    url = url.join(&otp_url).expect("bad form action");
                    form = Some(vec![("code".into(), DEV_OTP_CODE.into())]);
                    continue;
                }
            }
            // dev/idp's device activation: "Sign in to … on the device that shows this code".
            if let Some((confirm_url, mut fields)) = (!confirmed_device)
                .then(|| find_form(&body, "op.deviceConfirmForm"))
                .flatten()
            {
                confirmed_device = true;
                if matches!(action, LoginAction::Cancel) {
                    fields.push(("abort".into(), "yes".into()));
                }
                url = url.join(&confirm_url).expect("bad form action");
                form = Some(fields);
                continue;
            }
            if !logged_in {
                if let Some((login_url, _)) = find_form(&body, "/login") {
                    logged_in = true;
                    match action {
                        LoginAction::SignIn { username, password } => {
                            url = url.join(&login_url).expect("bad form action");
                            form = Some(vec![
                                ("username".into(), username.clone()),
                                ("password".into(), password.clone()),
                            ]);
                        }
                        LoginAction::Cancel => {
                            let (abort_url, _) =
                                find_form(&body, "/abort").expect("login page without Cancel");
                            url = url.join(&abort_url).expect("bad form action");
                            form = Some(Vec::new());
                        }
                    }
                    continue;
                }
            }
            return Outcome::Page {
                url,
                status: status.as_u16(),
                body,
            };
        }
        panic!("browser: too many redirects from {url}");
    }
}

/// The first form whose id is `key` or whose action ends with `key` (any form for an empty key):
/// (action, hidden fields).
fn find_form(html: &str, key: &str) -> Option<(String, Vec<(String, String)>)> {
    for chunk in html.split("<form").skip(1) {
        let (tag, rest) = chunk.split_once('>')?;
        let action = attribute(tag, "action")?;
        let id = attribute(tag, "id").unwrap_or_default();
        if id != key && !action.ends_with(key) {
            continue;
        }
        let inner = rest.split("</form>").next().unwrap_or_default();
        let fields = inner
            .split("<input")
            .skip(1)
            .filter_map(|input| {
                let tag = input.split('>').next()?;
                if attribute(tag, "type").as_deref() != Some("hidden") {
                    return None;
                }
                Some((
                    attribute(tag, "name")?,
                    attribute(tag, "value").unwrap_or_default(),
                ))
            })
            .collect();
        return Some((unescape(&action), fields));
    }
    None
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
}
