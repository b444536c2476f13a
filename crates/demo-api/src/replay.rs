//! The DPoP replay cache: the `jti`s of accepted proofs, kept per key (`jkt`) for as long as their `iat`
//! could still be accepted, so a proof is good for one request only.
//!
//! Bounded per key: a key that has more than its share of proofs in the window loses its oldest ones,
//! and from then on any proof of that key at least as old as the oldest one it lost is refused as a
//! possible replay (its `jti` may be among those forgotten). So one key's holder can only crowd out its
//! own proofs, never another key's, and a replay is never let through for want of room. Only proofs
//! already checked against a valid token's `cnf.jkt` are recorded, so the number of keys is bounded by
//! the tokens the issuer has issued; every entry is dropped once the window has passed.
//!
//! Every operation is O(log n): a hash set of `jti`s and an age-ordered set per key, and one age-ordered
//! set over all keys that expires entries by age.

use std::collections::{BTreeSet, HashMap, HashSet};

/// How many `jti`s the cache keeps per key by default.
pub const PER_KEY: usize = 4096;

/// Why a proof's `jti` cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// This key already used this `jti`.
    Seen,
    /// The proof is no newer than proofs this key had to forget: it may be one of them.
    Forgotten,
}

#[derive(Default)]
struct KeySeen {
    jtis: HashSet<String>,
    /// `(iat, jti)`, oldest first.
    by_age: BTreeSet<(i64, String)>,
    /// The newest `iat` this key had to forget: proofs no newer than it are refused.
    floor: Option<i64>,
}

/// The `jti`s of accepted proofs, per key, for `window` seconds after their `iat`.
pub struct ReplayCache {
    window: i64,
    per_key: usize,
    keys: HashMap<String, KeySeen>,
    /// `(iat, jkt, jti)` of every entry, oldest first.
    by_age: BTreeSet<(i64, String, String)>,
}

impl ReplayCache {
    /// A cache that keeps at most `per_key` (at least 1) `jti`s per key, each until `window` seconds
    /// after its `iat`.
    pub fn new(window: i64, per_key: usize) -> Self {
        Self {
            window,
            per_key: per_key.max(1),
            keys: HashMap::new(),
            by_age: BTreeSet::new(),
        }
    }

    /// Records the proof `jti` of key `jkt`, issued at `iat`, at `now`; refused if it may have been
    /// seen before.
    pub fn record(&mut self, jkt: &str, jti: &str, iat: i64, now: i64) -> Result<(), Replay> {
        self.expire(now);
        let key = self.keys.entry(jkt.to_string()).or_default();
        if key.jtis.contains(jti) {
            return Err(Replay::Seen);
        }
        if key.floor.is_some_and(|floor| iat <= floor) {
            return Err(Replay::Forgotten);
        }
        key.jtis.insert(jti.to_string());
        key.by_age.insert((iat, jti.to_string()));
        self.by_age.insert((iat, jkt.to_string(), jti.to_string()));
        if key.jtis.len() > self.per_key {
            if let Some((old_iat, old_jti)) = key.by_age.pop_first() {
                key.jtis.remove(&old_jti);
                key.floor = Some(key.floor.map_or(old_iat, |floor| floor.max(old_iat)));
                self.by_age.remove(&(old_iat, jkt.to_string(), old_jti));
            }
        }
        Ok(())
    }

    /// Drops the entries whose `iat` is more than the window before `now`, and the keys left empty.
    fn expire(&mut self, now: i64) {
        while let Some((iat, _, _)) = self.by_age.first() {
            if iat.saturating_add(self.window) >= now {
                break;
            }
            let Some((iat, jkt, jti)) = self.by_age.pop_first() else {
                break;
            };
            if let Some(key) = self.keys.get_mut(&jkt) {
                key.jtis.remove(&jti);
                key.by_age.remove(&(iat, jti));
                // The floor is never newer than the entries left, so an empty key has nothing to keep.
                if key.jtis.is_empty() {
                    self.keys.remove(&jkt);
                }
            }
        }
    }

    /// How many `jti`s the cache holds, over all keys.
    pub fn len(&self) -> usize {
        self.by_age.len()
    }

    /// True when the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.by_age.is_empty()
    }

    /// How many keys the cache holds entries for.
    pub fn keys(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_accepted_once_per_key() {
        let mut cache = ReplayCache::new(60, 10);
        assert_eq!(cache.record("k1", "a", 100, 100), Ok(()));
        assert_eq!(cache.record("k1", "a", 100, 101), Err(Replay::Seen));
        assert_eq!(cache.record("k2", "a", 100, 101), Ok(()), "another key");
    }

    #[test]
    fn a_full_key_forgets_its_oldest_and_refuses_anything_as_old() {
        let mut cache = ReplayCache::new(60, 3);
        for (i, jti) in ["a", "b", "c", "d"].iter().enumerate() {
            assert_eq!(cache.record("k1", jti, 100 + i as i64, 105), Ok(()));
        }
        assert_eq!(cache.len(), 3);
        // "a" (iat 100) was forgotten: it, and anything of k1 as old, is refused.
        assert_eq!(cache.record("k1", "a", 100, 105), Err(Replay::Forgotten));
        assert_eq!(cache.record("k1", "z", 99, 105), Err(Replay::Forgotten));
        assert_eq!(cache.record("k1", "e", 104, 105), Ok(()));
        // Other keys are not affected.
        assert_eq!(cache.record("k2", "a", 100, 105), Ok(()));
    }

    #[test]
    fn entries_and_keys_expire_by_age() {
        let mut cache = ReplayCache::new(60, 3);
        cache.record("k1", "a", 100, 100).unwrap();
        cache.record("k2", "b", 130, 130).unwrap();
        assert_eq!((cache.len(), cache.keys()), (2, 2));
        // At 161, "a" (iat 100) can no longer be accepted anyway: it is dropped, and its key.
        cache.record("k2", "c", 161, 161).unwrap();
        assert_eq!((cache.len(), cache.keys()), (2, 1));
        cache.record("k3", "d", 400, 400).unwrap();
        assert_eq!((cache.len(), cache.keys()), (1, 1));
    }

    #[test]
    fn a_flood_stays_within_the_bound() {
        let mut cache = ReplayCache::new(60, 100);
        for i in 0..10_000i64 {
            let _ = cache.record("k1", &i.to_string(), 1000 + i / 100, 1000 + i / 100);
        }
        assert!(cache.len() <= 100);
        assert_eq!(cache.record("k2", "x", 1100, 1100), Ok(()));
    }
}
