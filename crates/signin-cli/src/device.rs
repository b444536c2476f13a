//! `signin login --device`: the Device Authorization Grant (RFC 8628) for a machine with no browser.
//! What the user must do goes to standard error (the URL, the code, a QR code of the URL with the
//! code in it); standard output keeps only the summary, as for a browser sign-in.

use std::io::Write;

use native_oidc::{text::Printable, Auth, DeviceAuthorization, Result, SessionSummary};
use qrcode::{render::unicode::Dense1x2, QrCode};

/// Starts a device sign-in, tells the user where to go, waits until they have signed in there and
/// loads the profile.
pub async fn sign_in(auth: &Auth) -> Result<SessionSummary> {
    let device = auth.client().begin_device_sign_in().await?;
    let _ = std::io::stderr().write_all(instructions(&device).as_bytes());
    auth.finish_device_sign_in(&device).await?;
    auth.load_profile().await
}

/// The text that tells the user what to do. Everything in it that the provider chose is shown
/// through [`Printable`] (URLs are already percent-encoded by parsing).
fn instructions(device: &DeviceAuthorization) -> String {
    let mut text = format!(
        "To sign in, open {} on a phone or another computer and enter the code {}\n",
        device.verification_uri,
        Printable(&device.user_code)
    );
    if let Some(complete) = &device.verification_uri_complete {
        text.push_str(&format!("or scan this code, which opens {complete}:\n"));
        if let Ok(code) = QrCode::new(complete.as_str()) {
            text.push_str(
                &code
                    .render::<Dense1x2>()
                    .dark_color(Dense1x2::Light)
                    .light_color(Dense1x2::Dark)
                    .build(),
            );
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "Waiting for the sign-in (the code expires at {} UTC)...\n",
        device.expires_at.format("%H:%M:%S")
    ));
    text
}
