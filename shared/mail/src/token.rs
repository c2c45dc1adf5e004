//! Signed reply tokens: the desk's Reply-To is `support+t1001.k2.<sig>@desk.example`,
//! where `<sig>` is an HMAC of the ticket number under key `k2` of the desk's key
//! ring, so a token cannot be forged to attach mail to someone else's ticket.
//!
//! The key ring (kept in Secrets Manager, see [`KeyRing`]) holds the current key,
//! which signs every new token, and the previous keys with when each was retired:
//! a token signed with a previous key verifies for the ring's grace period after
//! its retirement, and no longer after it. Tokens without a key id
//! (`t1001.<sig>`, the format before rotation existed) were signed with the
//! desk's first key, `k0`, and verify against it alone.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use desk_domain::mailbox::Secret;
use desk_domain::outbound::KeyRingStore;
use desk_domain::{DeskError, DeskResult, EmailAddress, TicketNumber};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Hex characters of the HMAC kept in the address (64 bits: short enough for an
/// address, far too many to guess).
const SIG_LEN: usize = 16;

/// The id of the desk's first key: the one tokens without a key id were signed with.
pub const FIRST_KEY_ID: &str = "k0";

/// How long tokens signed with a retired key keep verifying, unless the ring says.
pub const DEFAULT_GRACE_DAYS: u32 = 90;

/// Keys shorter than this are refused.
pub const MIN_KEY_LEN: usize = 32;

/// How long a loaded key ring is used before it is read again, so that a rotation
/// reaches warm functions.
pub const REFRESH_AFTER: Duration = Duration::minutes(5);

/// A token naming a key the cached ring does not have (a rotation not yet seen)
/// reloads the ring, at most this often (forged key ids cannot make every mail
/// call Secrets Manager).
pub const RELOAD_UNKNOWN_AFTER: Duration = Duration::seconds(30);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    #[error("the reply-token key ring is not valid JSON of a key ring: {0}")]
    Format(String),
    #[error("reply-token key {0}: must be at least {MIN_KEY_LEN} characters")]
    ShortKey(String),
    #[error("reply-token key id {0:?}: must be k followed by 1 to 6 digits")]
    BadId(String),
    #[error("reply-token key id {0} appears twice in the ring")]
    DuplicateId(String),
    #[error("reply-token key {0} is retired but says not when")]
    NoRetirement(String),
}

/// One key of the ring. `key` is never logged (`Debug` leaves it out).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingKey {
    pub id: String,
    pub key: String,
    /// When it stopped signing (previous keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for RingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingKey")
            .field("id", &self.id)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// The secret's content:
/// `{"grace_days": 90, "current": {"id": "k1", "key": "…"},
///   "previous": [{"id": "k0", "key": "…", "retired_at": "2026-12-06T17:00:00Z"}]}`.
/// The secret the template generates, `{"key": "…"}`, reads as a ring whose
/// current key is `k0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRing {
    #[serde(default = "default_grace_days")]
    pub grace_days: u32,
    pub current: RingKey,
    #[serde(default)]
    pub previous: Vec<RingKey>,
}

fn default_grace_days() -> u32 {
    DEFAULT_GRACE_DAYS
}

fn valid_id(id: &str) -> bool {
    id.strip_prefix('k')
        .is_some_and(|n| (1..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

impl KeyRing {
    /// A ring of one key, `k0`.
    pub fn first(key: impl Into<String>) -> Result<Self, KeyRingError> {
        let ring = Self {
            grace_days: DEFAULT_GRACE_DAYS,
            current: RingKey {
                id: FIRST_KEY_ID.into(),
                key: key.into(),
                retired_at: None,
            },
            previous: vec![],
        };
        ring.check()
    }

    /// Reads the secret's content (a ring, or the template's `{"key": "…"}`).
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Ring(KeyRing),
            First { key: String },
        }
        match serde_json::from_str::<Stored>(text) {
            Ok(Stored::Ring(ring)) => ring.check(),
            Ok(Stored::First { key }) => Self::first(key),
            // serde_json's message names the position, never the content.
            Err(e) => Err(KeyRingError::Format(e.to_string())),
        }
    }

    /// The secret's content.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn check(self) -> Result<Self, KeyRingError> {
        let mut seen = std::collections::BTreeSet::new();
        for k in std::iter::once(&self.current).chain(&self.previous) {
            if !valid_id(&k.id) {
                return Err(KeyRingError::BadId(k.id.clone()));
            }
            if !seen.insert(k.id.as_str()) {
                return Err(KeyRingError::DuplicateId(k.id.clone()));
            }
            if k.key.len() < MIN_KEY_LEN {
                return Err(KeyRingError::ShortKey(k.id.clone()));
            }
        }
        if let Some(k) = self.previous.iter().find(|k| k.retired_at.is_none()) {
            return Err(KeyRingError::NoRetirement(k.id.clone()));
        }
        Ok(self)
    }

    fn grace(&self) -> Duration {
        Duration::days(i64::from(self.grace_days))
    }

    /// Whether a previous key still verifies at `now`.
    fn in_grace(&self, key: &RingKey, now: DateTime<Utc>) -> bool {
        key.retired_at.is_some_and(|at| now < at + self.grace())
    }

    /// `new_key` becomes the current key (the next id); the current key is kept as
    /// previous, retired at `now`; previous keys past their grace period are dropped.
    /// `grace_days`, when given, becomes the ring's grace period.
    pub fn rotate(
        &self,
        new_key: impl Into<String>,
        now: DateTime<Utc>,
        grace_days: Option<u32>,
    ) -> Result<Self, KeyRingError> {
        let next = std::iter::once(&self.current)
            .chain(&self.previous)
            .filter_map(|k| k.id[1..].parse::<u32>().ok())
            .max()
            .map_or(0, |n| n + 1);
        let mut ring = Self {
            grace_days: grace_days.unwrap_or(self.grace_days),
            current: RingKey {
                id: format!("k{next}"),
                key: new_key.into(),
                retired_at: None,
            },
            previous: vec![],
        };
        let retired = RingKey {
            retired_at: Some(now),
            ..self.current.clone()
        };
        ring.previous = std::iter::once(retired)
            .chain(self.previous.iter().cloned())
            .filter(|k| ring.in_grace(k, now))
            .collect();
        ring.check()
    }

    /// The ids of the keys (current first).
    pub fn ids(&self) -> Vec<&str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.id.as_str())
            .collect()
    }

    /// Signs with the current key; verifies with it and the previous keys still in
    /// their grace period at `now`.
    pub fn token_at(&self, now: DateTime<Utc>) -> ReplyToken {
        ReplyToken {
            signing: self.current.id.clone(),
            keys: std::iter::once(&self.current)
                .chain(self.previous.iter().filter(|k| self.in_grace(k, now)))
                .map(|k| (k.id.clone(), k.key.clone().into_bytes()))
                .collect(),
        }
    }
}

/// Signs and verifies tokens with the keys of a ring valid at one instant.
#[derive(Clone)]
pub struct ReplyToken {
    /// The id of the key that signs.
    signing: String,
    /// Keys that verify, by id; the signing key among them.
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for ReplyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyToken(..)")
    }
}

fn signature(key: &[u8], number: TicketNumber) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("t{number}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    bytes
        .iter()
        .take(SIG_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key id and ticket tag of a token-shaped local part `…+t1001[.k2].<sig>`:
/// `(Some("k2") or None, "1001", sig)`.
fn parse_tag(local: &str) -> Option<(Option<&str>, &str, &str)> {
    let (_, tag) = local.split_once('+')?;
    let rest = tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?;
    let (num, rest) = rest.split_once('.')?;
    match rest.split_once('.') {
        Some((kid, sig)) => Some((Some(kid), num, sig)),
        None => Some((None, num, rest)),
    }
}

/// The local part of `address` if it is one of `desk_domains`.
fn desk_local<'a>(address: &'a str, desk_domains: &[String]) -> Option<&'a str> {
    let (local, domain) = address.rsplit_once('@')?;
    desk_domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
        .then_some(local)
}

/// The key ids the token-shaped recipients among `addresses` name (`k0` for the
/// format without an id), or `None` when none is token-shaped: then no key is needed.
pub fn key_ids_in<'a>(
    addresses: impl IntoIterator<Item = &'a str>,
    desk_domains: &[String],
) -> Option<Vec<String>> {
    let ids: Vec<String> = addresses
        .into_iter()
        .filter_map(|a| desk_local(a, desk_domains))
        .filter_map(parse_tag)
        .map(|(kid, _, _)| kid.unwrap_or(FIRST_KEY_ID).to_ascii_lowercase())
        .collect();
    (!ids.is_empty()).then_some(ids)
}

impl ReplyToken {
    /// A ring of one key, `k0` (tests and tools; the functions load their ring).
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self {
            signing: FIRST_KEY_ID.into(),
            keys: vec![(FIRST_KEY_ID.into(), key.into())],
        }
    }

    /// Verifies nothing: for mail that carries no token-shaped address.
    pub fn none() -> Self {
        Self {
            signing: String::new(),
            keys: vec![],
        }
    }

    fn key(&self, id: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, key)| key.as_slice())
    }

    /// `t1001.k2.<sig>`; with the first key, `t1001.<sig>` (the format tokens had
    /// before keys had ids, so the desk's addresses change only at the first rotation).
    pub fn token(&self, number: TicketNumber) -> String {
        let sig = signature(self.key(&self.signing).unwrap_or_default(), number);
        if self.signing == FIRST_KEY_ID {
            format!("t{number}.{sig}")
        } else {
            format!("t{number}.{}.{sig}", self.signing)
        }
    }

    /// The desk address with the token: `support+t1001.k2.<sig>@desk.example`.
    pub fn reply_to(&self, desk: &EmailAddress, number: TicketNumber) -> String {
        let (local, domain) = desk
            .as_str()
            .rsplit_once('@')
            .unwrap_or((desk.as_str(), ""));
        format!("{local}+{}@{domain}", self.token(number))
    }

    /// The ticket a recipient address carries a valid token for, if any: the
    /// address must be one of the desk's domains (compared case-insensitively), and
    /// the token signed by a key this ring still verifies with.
    pub fn ticket_in(&self, address: &str, desk_domains: &[String]) -> Option<TicketNumber> {
        let (kid, num, sig) = parse_tag(desk_local(address, desk_domains)?)?;
        let key = self.key(&kid.unwrap_or(FIRST_KEY_ID).to_ascii_lowercase())?;
        let number = TicketNumber::parse(num).ok()?;
        let expected = signature(key, number);
        let given = sig.to_ascii_lowercase();
        // Constant-time comparison.
        (expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0)
            .then_some(number)
    }
}

/// The desk's key ring, read from its store at first use and cached: read again
/// when the cached copy is older than [`REFRESH_AFTER`], or when a token names a
/// key it lacks (at most every [`RELOAD_UNKNOWN_AFTER`]). Times are the caller's
/// clock, so tests move them.
pub struct ReplyKeys {
    store: Arc<dyn KeyRingStore>,
    cached: Mutex<Option<(DateTime<Utc>, Arc<KeyRing>)>>,
}

/// A store holding a fixed ring (tests, tools).
struct Fixed(String);

#[async_trait::async_trait]
impl KeyRingStore for Fixed {
    async fn load(&self) -> DeskResult<Secret> {
        Ok(Secret::new(self.0.clone()))
    }
}

impl ReplyKeys {
    pub fn new(store: Arc<dyn KeyRingStore>) -> Self {
        Self {
            store,
            cached: Mutex::new(None),
        }
    }

    /// Always this ring.
    pub fn fixed(ring: &KeyRing) -> Self {
        Self::new(Arc::new(Fixed(ring.to_json())))
    }

    fn cached(&self) -> Option<(DateTime<Utc>, Arc<KeyRing>)> {
        self.cached.lock().ok().and_then(|c| c.clone())
    }

    /// The ring: cached, or loaded (1 call to the store).
    async fn ring(&self, now: DateTime<Utc>, want: &[String]) -> DeskResult<Arc<KeyRing>> {
        if let Some((at, ring)) = self.cached() {
            let fresh = now >= at && now - at < REFRESH_AFTER;
            let ids = ring.ids();
            let lacks = want.iter().any(|w| !ids.contains(&w.as_str()));
            if fresh && !(lacks && now - at >= RELOAD_UNKNOWN_AFTER) {
                return Ok(ring);
            }
        }
        let secret = self.store.load().await?;
        let ring = KeyRing::parse(secret.expose()).map_err(|e| {
            tracing::error!(error = %e, "the reply-token key ring cannot be read");
            DeskError::Storage(e.to_string())
        })?;
        let ring = Arc::new(ring);
        if let Ok(mut c) = self.cached.lock() {
            *c = Some((now, ring.clone()));
        }
        Ok(ring)
    }

    /// Signs with the current key: 0 or 1 call to the store.
    pub async fn signer(&self, now: DateTime<Utc>) -> DeskResult<ReplyToken> {
        Ok(self.ring(now, &[]).await?.token_at(now))
    }

    /// Verifies tokens that name the keys `key_ids` (see [`key_ids_in`]): 0 or 1
    /// call to the store.
    pub async fn verifier(&self, now: DateTime<Utc>, key_ids: &[String]) -> DeskResult<ReplyToken> {
        Ok(self.ring(now, key_ids).await?.token_at(now))
    }
}

#[async_trait::async_trait]
impl desk_domain::outbound::ReplyAddress for ReplyKeys {
    async fn reply_to(
        &self,
        desk: &EmailAddress,
        number: TicketNumber,
        now: DateTime<Utc>,
    ) -> DeskResult<String> {
        Ok(self.signer(now).await?.reply_to(desk, number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K0: &str = "first-key-of-the-desk-at-least-32-characters";
    const K1: &str = "second-key-of-the-desk-at-least-32-characters";
    const K2: &str = "third-key-of-the-desk-at-least-32-characters!";

    fn desk() -> EmailAddress {
        EmailAddress::parse("support@desk.example").unwrap()
    }

    fn domains() -> Vec<String> {
        vec!["desk.example".to_string()]
    }

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::days(day)
    }

    #[test]
    fn tokens_round_trip_and_cannot_be_forged() {
        let t = ReplyToken::new(b"k1".to_vec());
        let n = TicketNumber::new(1001).unwrap();
        let addr = t.reply_to(&desk(), n);
        assert!(
            addr.starts_with("support+t1001.") && addr.ends_with("@desk.example"),
            "{addr}"
        );
        let domains = domains();
        assert_eq!(t.ticket_in(&addr, &domains), Some(n));
        assert_eq!(
            t.ticket_in(&addr.to_uppercase(), &domains),
            Some(n),
            "case-insensitive"
        );
        // Another number with the same signature, another key, another domain: refused.
        let forged = addr.replace("t1001", "t1002");
        assert_eq!(t.ticket_in(&forged, &domains), None);
        assert_eq!(
            ReplyToken::new(b"k2".to_vec()).ticket_in(&addr, &domains),
            None
        );
        assert_eq!(
            t.ticket_in(&addr.replace("desk.example", "evil.example"), &domains),
            None
        );
        assert_eq!(t.ticket_in("support@desk.example", &domains), None);
        assert_eq!(t.ticket_in("support+t1001@desk.example", &domains), None);
    }

    #[test]
    fn the_templates_secret_is_a_ring_of_its_first_key_and_signs_as_before() {
        let ring = KeyRing::parse(&format!(r#"{{"key":"{K0}"}}"#)).unwrap();
        assert_eq!(ring.current.id, "k0");
        assert_eq!(ring.grace_days, DEFAULT_GRACE_DAYS);
        let n = TicketNumber::new(1001).unwrap();
        // Same address as a token made before rings existed.
        assert_eq!(
            ring.token_at(at(0)).reply_to(&desk(), n),
            ReplyToken::new(K0).reply_to(&desk(), n)
        );
        assert_eq!(KeyRing::parse(&ring.to_json()), Ok(ring));
    }

    #[test]
    fn bad_rings_are_refused_without_quoting_keys() {
        assert!(matches!(
            KeyRing::parse("not json"),
            Err(KeyRingError::Format(_))
        ));
        assert_eq!(
            KeyRing::parse(r#"{"key":"short"}"#),
            Err(KeyRingError::ShortKey("k0".into()))
        );
        let dup = format!(
            r#"{{"current":{{"id":"k1","key":"{K1}"}},"previous":[{{"id":"k1","key":"{K0}","retired_at":"2026-12-01T00:00:00Z"}}]}}"#
        );
        assert_eq!(
            KeyRing::parse(&dup),
            Err(KeyRingError::DuplicateId("k1".into()))
        );
        let unretired = format!(
            r#"{{"current":{{"id":"k1","key":"{K1}"}},"previous":[{{"id":"k0","key":"{K0}"}}]}}"#
        );
        assert_eq!(
            KeyRing::parse(&unretired),
            Err(KeyRingError::NoRetirement("k0".into()))
        );
        let bad_id = format!(r#"{{"current":{{"id":"x.1","key":"{K1}"}}}}"#);
        assert_eq!(
            KeyRing::parse(&bad_id),
            Err(KeyRingError::BadId("x.1".into()))
        );
        let e = KeyRing::parse(&format!(r#"{{"key":"{K0}", "#)).unwrap_err();
        assert!(!e.to_string().contains(K0), "{e}");
        assert!(!format!("{:?}", KeyRing::first(K0).unwrap()).contains(K0));
    }

    #[test]
    fn rotation_signs_with_the_new_key_and_old_tokens_verify_during_the_grace_period() {
        let n = TicketNumber::new(1001).unwrap();
        let ring0 = KeyRing::first(K0).unwrap();
        let old = ring0.token_at(at(0)).reply_to(&desk(), n);
        let ring1 = ring0.rotate(K1, at(1), Some(30)).unwrap();
        assert_eq!(ring1.ids(), vec!["k1", "k0"]);
        assert_eq!(ring1.grace_days, 30);
        let new = ring1.token_at(at(1)).reply_to(&desk(), n);
        assert!(new.starts_with("support+t1001.k1."), "{new}");
        assert_ne!(new, old);
        // During the grace period both verify; after it only the new one.
        let t = ring1.token_at(at(30));
        assert_eq!(t.ticket_in(&old, &domains()), Some(n));
        assert_eq!(t.ticket_in(&new, &domains()), Some(n));
        let t = ring1.token_at(at(31));
        assert_eq!(t.ticket_in(&old, &domains()), None);
        assert_eq!(t.ticket_in(&new, &domains()), Some(n));
        // A token naming a key the ring does not have, or another key's id: refused.
        assert_eq!(t.ticket_in(&new.replace(".k1.", ".k7."), &domains()), None);
        assert_eq!(
            ring1
                .token_at(at(1))
                .ticket_in(&new.replace(".k1.", ".k0."), &domains()),
            None
        );
        // The first key's tokens in the new format verify too (case-insensitively).
        let explicit = old.replace("t1001.", "T1001.K0.");
        assert_eq!(
            ring1.token_at(at(2)).ticket_in(&explicit, &domains()),
            Some(n)
        );
    }

    #[test]
    fn a_rotation_drops_keys_past_their_grace_period_and_numbers_keys_on() {
        let ring = KeyRing::first(K0)
            .unwrap()
            .rotate(K1, at(0), Some(10))
            .unwrap()
            .rotate(K2, at(5), None)
            .unwrap();
        assert_eq!(ring.ids(), vec!["k2", "k1", "k0"]);
        assert_eq!(ring.previous[0].retired_at, Some(at(5)));
        assert_eq!(ring.previous[1].retired_at, Some(at(0)));
        let ring = ring.rotate(K0.repeat(2), at(12), None).unwrap();
        assert_eq!(ring.ids(), vec!["k3", "k2", "k1"], "k0 retired 12 days ago");
        assert!(ring.rotate("short", at(12), None).is_err());
    }

    #[test]
    fn key_ids_are_read_only_from_token_shaped_desk_addresses() {
        assert_eq!(
            key_ids_in(["a@example.org", "support@desk.example"], &domains()),
            None
        );
        assert_eq!(
            key_ids_in(
                [
                    "support+t1001.K2.abcd@desk.example",
                    "support+t1002.abcd@DESK.example",
                    "support+t1003.k9.abcd@evil.example"
                ],
                &domains()
            ),
            Some(vec!["k2".to_string(), "k0".to_string()])
        );
    }

    /// A store whose ring the test replaces, counting loads.
    struct Counting(Mutex<(String, usize)>);

    #[async_trait::async_trait]
    impl KeyRingStore for Counting {
        async fn load(&self) -> DeskResult<Secret> {
            let mut s = self.0.lock().unwrap();
            s.1 += 1;
            Ok(Secret::new(s.0.clone()))
        }
    }

    #[tokio::test]
    async fn the_ring_is_loaded_at_first_use_cached_and_refreshed() {
        let ring0 = KeyRing::first(K0).unwrap();
        let store = Arc::new(Counting(Mutex::new((ring0.to_json(), 0))));
        let keys = ReplyKeys::new(store.clone());
        let loads = || store.0.lock().unwrap().1;
        assert_eq!(loads(), 0, "nothing is loaded before use");
        let n = TicketNumber::new(1001).unwrap();
        let t0 = at(0);
        let first = keys.signer(t0).await.unwrap().reply_to(&desk(), n);
        keys.signer(t0 + Duration::minutes(4)).await.unwrap();
        assert_eq!(loads(), 1, "cached");
        // Rotated in the store: seen after the refresh time, or at once by a token naming the new key
        // (once the cache is older than RELOAD_UNKNOWN_AFTER).
        let ring1 = ring0.rotate(K1, t0, None).unwrap();
        store.0.lock().unwrap().0 = ring1.to_json();
        let new = ring1.token_at(t0).reply_to(&desk(), n);
        let ids = key_ids_in([new.as_str()], &domains()).unwrap();
        let v = keys
            .verifier(t0 + Duration::seconds(10), &ids)
            .await
            .unwrap();
        assert_eq!(v.ticket_in(&new, &domains()), None, "too soon to reload");
        let v = keys
            .verifier(t0 + Duration::seconds(40), &ids)
            .await
            .unwrap();
        assert_eq!(v.ticket_in(&new, &domains()), Some(n));
        assert_eq!(v.ticket_in(&first, &domains()), Some(n));
        assert_eq!(loads(), 2);
        let later = t0 + Duration::seconds(40) + REFRESH_AFTER;
        let signed = keys.signer(later).await.unwrap().reply_to(&desk(), n);
        assert_eq!(loads(), 3, "refreshed");
        assert!(signed.contains(".k1."), "{signed}");
        // An unreadable ring is an error, not a panic, and names no key.
        store.0.lock().unwrap().0 = "{".into();
        let e = keys.signer(later + REFRESH_AFTER).await.unwrap_err();
        assert!(matches!(e, DeskError::Storage(_)));
    }
}
