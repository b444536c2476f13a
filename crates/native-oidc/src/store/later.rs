//! Fields a later version wrote into a stored record ([`LaterFields`]): kept as they are when this
//! version rewrites the record, so that an app and a command line of different versions sharing one
//! store (or an app downgraded, then upgraded again) never drop what the other keeps there, such as a
//! device secret still to be revoked.
//!
//! The records that hold one, flattened, are those several programs rewrite in place: the session,
//! the Native SSO share (and each sign-in and retired secret in it) and the list of accounts (not the
//! sign-ins in progress, which live minutes, nor the signed-out mark). A record made anew (a new
//! sign-in replacing a session, a sign-in retired) starts with none: what a later version said of the
//! old one is not true of the new one. A record this version empties of everything it knows (a
//! sign-out, a share whose secrets are all revoked) goes with what a later version kept in it: every
//! sign-out erases every copy.
//!
//! So a later version may keep here only what stays true while this version changes the fields it
//! knows: a refresh rotates the tokens and keeps these fields as they are.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields of a stored record this version does not know. Its `Debug` shows how many there are,
/// never their values (a later version may keep secrets there).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct LaterFields(Map<String, Value>);

impl LaterFields {
    /// True when the record held nothing this version does not know.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for LaterFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LaterFields({} unknown)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Record {
        known: u32,
        #[serde(flatten)]
        later: LaterFields,
    }

    #[test]
    fn fields_this_version_does_not_know_are_written_back_as_they_were_read() {
        let written_later = serde_json::json!({
            "known": 1, "tokens_v9": { "secret": "s3cr3t", "at": [1, 2.5, null] }, "flag": true
        });
        let mut record: Record = serde_json::from_value(written_later.clone()).unwrap();
        assert!(!record.later.is_empty());
        assert!(!format!("{:?}", record.later).contains("s3cr3t"));
        record.known = 2;
        let mut expected = written_later;
        expected["known"] = 2.into();
        assert_eq!(serde_json::to_value(&record).unwrap(), expected);

        let plain: Record = serde_json::from_value(serde_json::json!({ "known": 1 })).unwrap();
        assert!(plain.later.is_empty());
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"known":1}"#,
            "nothing added to a record of this version"
        );
    }
}
