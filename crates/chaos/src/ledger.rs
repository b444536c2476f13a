//! What happened, for explaining lost sessions: when each process was killed (and what it was doing
//! since when), which token answers the proxy dropped, and dev/idp's token log.
//!
//! A session is lost when the provider refuses its stored refresh token because it was already used
//! (`invalid_grant: refresh token already used`): the stored token had been rotated, and the new
//! one never reached the store. With a grace period the provider accepts the rotated token once more,
//! so that takes two rotations whose new tokens were both swallowed: each by a process killed while it
//! waited for (or saved) the answer, or an answer the proxy dropped. A loss is *explained* when every
//! rotation of the refused token produced a token that was never used and that one such event
//! swallowed, each event used once; without a grace period one rotation is enough. Anything else (a
//! session erased from the store, a refused token that had a used successor, a swallowed token that
//! nothing explains) is a defect of the client.

use testkit::TokenEvent;

/// Milliseconds since the Unix epoch (dev/idp's log uses the same clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Something that can swallow a rotated refresh token: a process killed during an operation, or an
/// answer the proxy dropped.
#[derive(Clone, Debug)]
pub struct Swallow {
    /// When the operation (or request) started.
    pub from_ms: u64,
    /// When the process was killed (or the answer dropped).
    pub to_ms: u64,
    /// Who: `signin-2 refresh`, `proxy`.
    pub who: String,
}

/// One operation: who ran what, from when to when, and how it ended.
#[derive(Clone, Debug)]
pub struct Span {
    /// When it started.
    pub from_ms: u64,
    /// When it ended.
    pub to_ms: u64,
    /// `signin-1 refresh: storage`.
    pub what: String,
}

/// A session the harness found gone while nobody had signed out.
#[derive(Clone, Debug)]
pub struct Loss {
    /// When the harness saw it.
    pub at_ms: u64,
    /// The grant of the session, as last seen in the store.
    pub grant: Option<String>,
    /// The hash of the refresh token last seen in the store.
    pub last_token: Option<String>,
    /// What saw it.
    pub seen_by: String,
}

/// The verdict on one loss.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// True when swallowed tokens account for it.
    pub explained: bool,
    /// Why, in words.
    pub why: String,
}

/// The grant a refresh token belongs to, from the log.
pub fn grant_of(events: &[TokenEvent], token: &str) -> Option<String> {
    events
        .iter()
        .find(|e| e.to.as_deref() == Some(token) || e.from.as_deref() == Some(token))
        .and_then(|e| e.grant.clone())
}

/// True when `event` is about `grant`: it names the grant, or the token it presents is one of the
/// grant's.
fn of_grant(event: &TokenEvent, events: &[TokenEvent], grant: &str) -> bool {
    event.grant.as_deref() == Some(grant)
        || event
            .from
            .as_deref()
            .and_then(|t| grant_of(events, t))
            .as_deref()
            == Some(grant)
}

/// The grant of `loss`, as last seen in the store or from its last token.
fn grant_of_loss(loss: &Loss, events: &[TokenEvent]) -> Option<String> {
    loss.grant
        .clone()
        .or_else(|| loss.last_token.as_deref().and_then(|t| grant_of(events, t)))
}

/// Why `loss` is no loss, when a sign-out ended the session: a sign-out (the app's, or `signin
/// logout`, whatever its exit code) revoked the grant's tokens while it ran, but could not erase the
/// stored copy (the store was down, the disk full, the process killed); whoever met the revoked tokens
/// next erased them. The user asked to be signed out, and is.
pub fn ended_by_sign_out(loss: &Loss, events: &[TokenEvent], spans: &[Span]) -> Option<String> {
    let grant = grant_of_loss(loss, events)?;
    events
        .iter()
        .filter(|e| e.event == "revoked" && e.at_ms <= loss.at_ms)
        .filter(|e| of_grant(e, events, &grant))
        .find_map(|revoked| {
            spans
                .iter()
                .filter(|s| s.what.contains("sign-out:") || s.what.contains(" logout:"))
                .find(|s| s.from_ms <= revoked.at_ms && revoked.at_ms <= s.to_ms + 100)
                .map(|s| {
                    format!(
                        "grant {grant}: ended by `{}`, which revoked its tokens at {} but left the \
                         stored copy, erased later by whoever met the revoked tokens",
                        s.what, revoked.at_ms
                    )
                })
        })
}

/// Explains `loss` from the token log, the swallowing events, and the provider's grace period.
pub fn explain(
    loss: &Loss,
    events: &[TokenEvent],
    swallows: &[Swallow],
    used: &mut [bool],
    spans: &[Span],
    grace_s: u64,
) -> Verdict {
    let Some(grant) = grant_of_loss(loss, events) else {
        return unexplained("the session's grant is not in the token log");
    };
    // The refresh of this grant that the provider refused as a reuse, before the loss was seen.
    let refused = events.iter().find(|e| {
        e.event == "refused"
            && e.at_ms <= loss.at_ms + 1_000
            && e.reason
                .as_deref()
                .is_some_and(|r| r.contains("already used"))
            && e.from
                .as_deref()
                .and_then(|t| grant_of(events, t))
                .as_deref()
                == Some(&grant)
    });
    let Some(refused) = refused else {
        let last: Vec<String> = events
            .iter()
            .filter(|e| of_grant(e, events, &grant))
            .rev()
            .take(4)
            .map(|e| {
                format!(
                    "{} {} {}→{} {}",
                    e.at_ms,
                    e.event,
                    e.from.as_deref().unwrap_or("-"),
                    e.to.as_deref().unwrap_or("-"),
                    e.reason.as_deref().unwrap_or("")
                )
            })
            .collect();
        let near: Vec<&str> = spans
            .iter()
            .filter(|s| s.to_ms + 3_000 >= loss.at_ms && s.from_ms <= loss.at_ms)
            .map(|s| s.what.as_str())
            .collect();
        return unexplained(&format!(
            "grant {grant}: the session was erased from the store at about {}, and no refresh of it was refused as a reuse (its last events, newest first: {}; operations in the 3 s before: {})",
            loss.at_ms,
            last.join("; "),
            near.join(", ")
        ));
    };
    let spent = refused.from.clone().unwrap_or_default();
    let rotations: Vec<&TokenEvent> = events
        .iter()
        .filter(|e| {
            e.event == "rotated" && e.from.as_deref() == Some(&spent) && e.at_ms <= refused.at_ms
        })
        .collect();
    let Some(first) = rotations.first() else {
        return unexplained(&format!(
            "grant {grant}: token {spent} was refused as used, but the log has no rotation of it"
        ));
    };
    let needed = if grace_s > 0 && refused.at_ms.saturating_sub(first.at_ms) <= grace_s * 1000 {
        2
    } else {
        1
    };
    if rotations.len() < needed {
        return unexplained(&format!(
            "grant {grant}: token {spent} was refused after {} rotation(s), fewer than the {needed} the grace period allows",
            rotations.len()
        ));
    }
    let mut story = Vec::new();
    for rotation in &rotations {
        let child = rotation.to.clone().unwrap_or_default();
        if let Some(use_) = events.iter().find(|e| e.from.as_deref() == Some(&child)) {
            return unexplained(&format!(
                "grant {grant}: token {spent} was refused as used, but its successor {child} had been used at {} (the store went back to an older token)",
                use_.at_ms
            ));
        }
        let swallow = swallows.iter().enumerate().find(|(index, s)| {
            !used[*index] && s.from_ms <= rotation.at_ms + 5 && rotation.at_ms <= s.to_ms
        });
        let Some((index, swallow)) = swallow else {
            let in_flight: Vec<&str> = spans
                .iter()
                .filter(|s| s.from_ms <= rotation.at_ms && rotation.at_ms <= s.to_ms)
                .map(|s| s.what.as_str())
                .collect();
            return unexplained(&format!(
                "grant {grant}: the rotation of {spent} into {child} at {} was never saved, and no kill or dropped answer explains it (operations under way then: {})",
                rotation.at_ms,
                in_flight.join(", ")
            ));
        };
        used[index] = true;
        story.push(format!(
            "{child} swallowed by {} ({} ms after the rotation)",
            swallow.who,
            swallow.to_ms.saturating_sub(rotation.at_ms)
        ));
    }
    Verdict {
        explained: true,
        why: format!(
            "grant {grant}: token {spent} rotated {} time(s), each new token lost: {}",
            rotations.len(),
            story.join("; ")
        ),
    }
}

fn unexplained(why: &str) -> Verdict {
    Verdict {
        explained: false,
        why: why.to_string(),
    }
}
