//! What the harness looks at, as another program on the machine would: the session files on disk, and
//! the keystore's items through `secret-tool` (not through the client's own code).

use std::{collections::HashSet, path::Path};

use serde_json::Value;
use testkit::SecretItem;

use crate::world::{Backing, Place, World, SERVICE};

/// The keystore items of `signin`'s service; `None` while the Secret Service is down.
pub fn keystore_items(world: &World) -> Option<Vec<SecretItem>> {
    let bus = world.bus.lock().ok()?;
    if !bus.secret_service_running() {
        return None;
    }
    bus.secret_items(&[("service", SERVICE)])
}

/// The entries (name → secret) of one session's account prefix.
pub fn entries_of<'a>(items: &'a [SecretItem], place: &Place) -> Vec<(String, &'a str)> {
    let prefix = place.prefix();
    let mut entries: Vec<(String, &str)> = items
        .iter()
        .filter_map(|item| {
            let name = item.attribute("username")?.strip_prefix(&prefix)?;
            Some((name.to_string(), item.secret.as_str()))
        })
        .collect();
    entries.sort();
    entries
}

/// What [`stored_session`] found: `Err` when the store cannot be looked at now, `Ok(Err)` when what
/// it holds is not a whole session.
pub type StoredSession = Result<Result<Option<Value>, String>, String>;

/// The stored session of `place`, as JSON, from its file or from the keystore's `items`: `Err` when
/// it cannot be looked at now (the Secret Service is down), `Ok(Err)` when what is stored is not a
/// whole session.
pub fn stored_session(
    items: Option<&[SecretItem]>,
    place: &Place,
    backing: Backing,
) -> StoredSession {
    let bytes = match backing {
        Backing::File => match std::fs::read(&place.file) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", place.file.display())),
        },
        Backing::Keystore => {
            let items = items.ok_or("the Secret Service is down")?;
            match keystore_value(&entries_of(items, place)) {
                Ok(value) => value,
                Err(why) => return Ok(Err(why)),
            }
        }
    };
    Ok(match bytes {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("the stored session is not JSON ({e})")),
    })
}

/// The value of entry `session` from its items, as crates/native-oidc/src/store/keystore.rs lays it
/// out: `I<value>`, or `C<generation> <chunks> <sha256>` and the chunks `session#<generation>.<i>`.
fn keystore_value(entries: &[(String, &str)]) -> Result<Option<Vec<u8>>, String> {
    let get = |name: &str| entries.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
    let Some(head) = get("session") else {
        return Ok(None);
    };
    if let Some(inline) = head.strip_prefix('I') {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    let mut parts = head.strip_prefix('C').unwrap_or_default().split(' ');
    let (Some(generation), Some(count)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "the session item is neither inline nor chunked: {} bytes",
            head.len()
        ));
    };
    let count: usize = count
        .parse()
        .map_err(|_| "a chunk count that is not a number")?;
    let mut value = String::new();
    for index in 0..count {
        let chunk = get(&format!("session#{generation}.{index}")).ok_or_else(|| {
            format!("chunk {index} of {count} of generation {generation} is missing")
        })?;
        value.push_str(chunk);
    }
    Ok(Some(value.into_bytes()))
}

/// The tokens in a stored session.
pub fn tokens_of(session: &Value) -> Vec<String> {
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|key| session[*key].as_str().map(str::to_string))
        .collect()
}

/// Files anywhere under `dir` whose name says they were set aside.
pub fn set_aside_files(dir: &Path) -> Vec<String> {
    testkit::files(dir)
        .into_iter()
        .filter(|path| path.to_string_lossy().contains(".corrupt"))
        .map(|path| path.display().to_string())
        .collect()
}

/// Files under `dir` holding any of `secrets`.
pub fn files_with_secrets(dir: &Path, secrets: &HashSet<String>) -> Vec<String> {
    testkit::files(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| {
                let text = String::from_utf8_lossy(&bytes);
                secrets.iter().any(|secret| text.contains(secret.as_str()))
            })
        })
        .map(|path| path.display().to_string())
        .collect()
}
