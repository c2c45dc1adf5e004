//! IMAP mailboxes (SPEC §3, the alternative mail source): what an administrator
//! configures, and the use cases that manage them. The password is write-only:
//! it goes to the [`SecretStore`] (SSM Parameter Store in the cloud) and is never
//! stored in the table, returned, or logged.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Caller;
use crate::audit::{diff, AuditAction, Change};
use crate::error::{DeskError, DeskResult, FieldError};
use crate::service::Desk;
use crate::types::bounded_text;

/// Limits of a mailbox's fields.
pub mod limits {
    pub const NAME: usize = 200;
    /// RFC 1035: a host name is at most 253 characters.
    pub const HOST: usize = 253;
    pub const USER: usize = 320;
    pub const FOLDER: usize = 200;
    /// SSM standard parameters hold 4 KB; passwords are far shorter.
    pub const PASSWORD: usize = 1_024;
    /// Kept from the last failed poll (IMAP server messages can be long).
    pub const ERROR: usize = 500;
}

/// The folder polled when none is given.
pub const DEFAULT_FOLDER: &str = "INBOX";

/// A configured IMAP mailbox, as stored and as returned (no password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mailbox {
    /// `mb` + 12 lowercase letters/digits.
    pub id: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    /// Implicit TLS (IMAPS, usually port 993). Plain TCP only where the deployment allows it.
    pub tls: bool,
    pub user: String,
    pub folder: String,
    /// Disabled mailboxes are kept and listed but never polled.
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the poller last tried this mailbox.
    #[serde(default)]
    pub last_poll_at: Option<DateTime<Utc>>,
    /// Why the last poll failed (login refused, server unreachable, messages that
    /// could not be ingested…); `None` after a clean poll.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Messages the last poll turned into tickets or replies.
    #[serde(default)]
    pub last_ingested: u32,
}

impl Mailbox {
    /// Name of its password in the secret store (the adapter adds the deployment's prefix).
    pub fn secret_name(&self) -> String {
        secret_name(&self.id)
    }
}

pub fn secret_name(id: &str) -> String {
    format!("mailboxes/{id}/password")
}

/// A secret value: never printed by `Debug`, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// What one poll of a mailbox found, recorded on the mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct PollStatus {
    pub at: DateTime<Utc>,
    pub error: Option<String>,
    pub ingested: u32,
}

impl PollStatus {
    /// The status with its error cut to [`limits::ERROR`] characters.
    pub fn new(at: DateTime<Utc>, error: Option<String>, ingested: u32) -> Self {
        let error = error.map(|e| {
            let mut cut: String = e.chars().take(limits::ERROR).collect();
            if e.chars().count() > limits::ERROR {
                cut.push('…');
            }
            cut
        });
        Self {
            at,
            error,
            ingested,
        }
    }
}

/// Mailboxes, in one small partition.
#[async_trait]
pub trait MailboxStore: Send + Sync {
    /// Every mailbox. 1 Query per MB.
    async fn list_mailboxes(&self) -> DeskResult<Vec<Mailbox>>;
    /// 1 round trip.
    async fn get_mailbox(&self, id: &str) -> DeskResult<Option<Mailbox>>;
    /// `AlreadyExists` if the id is taken. 1 round trip.
    async fn create_mailbox(&self, mailbox: &Mailbox) -> DeskResult<()>;
    /// Replaces the editable fields, keeping the poll status; `NotFound` if gone. 1 round trip.
    async fn replace_mailbox(&self, mailbox: &Mailbox) -> DeskResult<()>;
    /// Whether a mailbox was deleted. 1 round trip.
    async fn delete_mailbox(&self, id: &str) -> DeskResult<bool>;
    /// Records a poll's outcome; a mailbox deleted meanwhile stays deleted. 1 round trip.
    async fn record_poll(&self, id: &str, status: &PollStatus) -> DeskResult<()>;
}

/// Secrets by name (SSM Parameter Store SecureString in the cloud).
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Creates or overwrites. 1 round trip.
    async fn put_secret(&self, name: &str, value: &Secret) -> DeskResult<()>;
    /// `None` if there is no such secret. 1 round trip.
    async fn get_secret(&self, name: &str) -> DeskResult<Option<Secret>>;
    /// Succeeds also when the secret is already gone. 1 round trip.
    async fn delete_secret(&self, name: &str) -> DeskResult<()>;
}

/// Taken as given (no trimming: user names and folder names are the server's):
/// 1..=`max` characters, no control characters.
fn exact(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if raw.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.to_string())
}

/// A DNS host name or dotted IPv4 address, as given: labels of 1-63 letters,
/// digits and `-` (not at either end), joined by dots; no scheme, port or path.
/// Stored lowercased.
fn host(raw: &str) -> Result<String, FieldError> {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if raw.len() <= limits::HOST && raw.split('.').all(label_ok) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(FieldError::new(
            "host",
            "must be a host name or IPv4 address (no scheme, port, path or spaces)",
        ))
    }
}

fn port(p: Option<u16>, tls: bool) -> Result<u16, FieldError> {
    match p {
        None => Ok(if tls { 993 } else { 143 }),
        Some(0) => Err(FieldError::new("port", "must be between 1 and 65535")),
        Some(p) => Ok(p),
    }
}

fn password(p: &Secret) -> Result<(), FieldError> {
    let v = p.expose();
    if v.is_empty() {
        return Err(FieldError::new("password", "must not be empty"));
    }
    if v.chars().count() > limits::PASSWORD {
        return Err(FieldError::new(
            "password",
            format!("must be at most {} characters", limits::PASSWORD),
        ));
    }
    // IMAP LOGIN sends it as a quoted string: line breaks and NUL cannot be sent.
    if v.contains(['\r', '\n', '\0']) {
        return Err(FieldError::new(
            "password",
            "must not contain line breaks or NUL",
        ));
    }
    Ok(())
}

fn yes() -> bool {
    true
}

/// A port as JSON Schema sees an integer: `993` and `993.0` alike; `null` is none.
fn port_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    struct PortVisitor;
    impl serde::de::Visitor<'_> for PortVisitor {
        type Value = Option<u16>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer between 1 and 65535, or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u16::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("must be between 1 and 65535"))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::custom("must be between 1 and 65535"))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=65535.0).contains(&v) {
                Ok(Some(v as u16))
            } else {
                Err(E::custom("must be an integer between 1 and 65535"))
            }
        }
    }
    d.deserialize_any(PortVisitor)
}

fn inbox() -> String {
    DEFAULT_FOLDER.to_string()
}

/// The editable fields, validated.
struct Fields {
    name: String,
    host: String,
    port: u16,
    tls: bool,
    user: String,
    folder: String,
    enabled: bool,
}

#[allow(clippy::too_many_arguments)]
fn settings(
    name: &str,
    host_raw: &str,
    port_raw: Option<u16>,
    tls: bool,
    user: &str,
    folder: &str,
    enabled: bool,
) -> Result<Fields, FieldError> {
    Ok(Fields {
        name: bounded_text(name, limits::NAME, false)
            .map_err(|e| FieldError::new("name", e.message))?,
        host: host(host_raw)?,
        port: port(port_raw, tls)?,
        tls,
        user: exact("user", user, limits::USER)?,
        folder: exact("folder", folder, limits::FOLDER)?,
        enabled,
    })
}

/// `POST /mailboxes` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMailbox {
    pub name: String,
    pub host: String,
    /// Default 993 with TLS, 143 without.
    #[serde(default, deserialize_with = "port_number")]
    pub port: Option<u16>,
    #[serde(default = "yes")]
    pub tls: bool,
    pub user: String,
    pub password: Secret,
    #[serde(default = "inbox")]
    pub folder: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl NewMailbox {
    /// The mailbox to store and the password to keep apart.
    pub fn validate(self, id: String, now: DateTime<Utc>) -> Result<(Mailbox, Secret), FieldError> {
        let s = settings(
            &self.name,
            &self.host,
            self.port,
            self.tls,
            &self.user,
            &self.folder,
            self.enabled,
        )?;
        password(&self.password)?;
        Ok((
            Mailbox {
                id,
                name: s.name,
                host: s.host,
                port: s.port,
                tls: s.tls,
                user: s.user,
                folder: s.folder,
                enabled: s.enabled,
                created_at: now,
                updated_at: now,
                last_poll_at: None,
                last_error: None,
                last_ingested: 0,
            },
            self.password,
        ))
    }
}

/// `PUT /mailboxes/{id}` body: the whole editable record; without `password`
/// the stored one is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxUpdate {
    pub name: String,
    pub host: String,
    #[serde(default, deserialize_with = "port_number")]
    pub port: Option<u16>,
    #[serde(default = "yes")]
    pub tls: bool,
    pub user: String,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default = "inbox")]
    pub folder: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl MailboxUpdate {
    pub fn apply(
        self,
        current: &Mailbox,
        now: DateTime<Utc>,
    ) -> Result<(Mailbox, Option<Secret>), FieldError> {
        let s = settings(
            &self.name,
            &self.host,
            self.port,
            self.tls,
            &self.user,
            &self.folder,
            self.enabled,
        )?;
        if let Some(p) = &self.password {
            password(p)?;
        }
        Ok((
            Mailbox {
                name: s.name,
                host: s.host,
                port: s.port,
                tls: s.tls,
                user: s.user,
                folder: s.folder,
                enabled: s.enabled,
                updated_at: now,
                ..current.clone()
            },
            self.password,
        ))
    }
}

/// Ids are `mb` + 12 letters/digits; anything else cannot exist.
fn well_formed(id: &str) -> bool {
    id.len() == 14
        && id.starts_with("mb")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl Desk {
    pub async fn mailboxes(&self, caller: &Caller) -> DeskResult<Vec<Mailbox>> {
        caller.require_admin()?;
        let mut all = self.mailboxes.list_mailboxes().await?;
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    pub async fn mailbox(&self, caller: &Caller, id: &str) -> DeskResult<Mailbox> {
        caller.require_admin()?;
        if !well_formed(id) {
            return Err(DeskError::NotFound { what: "mailbox" });
        }
        self.mailboxes
            .get_mailbox(id)
            .await?
            .ok_or(DeskError::NotFound { what: "mailbox" })
    }

    /// Stores the password first: a mailbox never exists without its password.
    pub async fn create_mailbox(&self, caller: &Caller, input: NewMailbox) -> DeskResult<Mailbox> {
        caller.require_admin()?;
        let id = format!("mb{}", self.random.id(12));
        let (mailbox, secret) = input.validate(id, self.clock.now())?;
        self.secrets
            .put_secret(&mailbox.secret_name(), &secret)
            .await?;
        if let Err(e) = self.mailboxes.create_mailbox(&mailbox).await {
            // Do not leave an orphaned password behind.
            if let Err(cleanup) = self.secrets.delete_secret(&mailbox.secret_name()).await {
                tracing::warn!(mailbox = %mailbox.id, error = %cleanup, "could not remove the password of a mailbox that was not created");
            }
            return Err(e);
        }
        tracing::info!(mailbox = %mailbox.id, host = %mailbox.host, "mailbox created");
        let mut changes = diff(None, Some(&mailbox));
        changes.push(Change::redacted("password"));
        self.audit(caller, AuditAction::MailboxCreated, &mailbox.id, changes)
            .await?;
        Ok(mailbox)
    }

    pub async fn update_mailbox(
        &self,
        caller: &Caller,
        id: &str,
        input: MailboxUpdate,
    ) -> DeskResult<Mailbox> {
        let current = self.mailbox(caller, id).await?;
        let (next, secret) = input.apply(&current, self.clock.now())?;
        let password_changed = secret.is_some();
        if let Some(s) = secret {
            self.secrets.put_secret(&next.secret_name(), &s).await?;
        }
        self.mailboxes.replace_mailbox(&next).await?;
        let mut changes = diff(Some(&current), Some(&next));
        if password_changed {
            // Only that it changed: the password is never recorded.
            changes.push(Change::redacted("password"));
        }
        self.audit(caller, AuditAction::MailboxUpdated, id, changes)
            .await?;
        // The stored poll status is kept by the store; return what is stored.
        Ok(self.mailboxes.get_mailbox(id).await?.unwrap_or(next))
    }

    /// Deletes the password first, so a half-done delete leaves a mailbox that
    /// can be deleted again (never a password nobody can find).
    pub async fn delete_mailbox(&self, caller: &Caller, id: &str) -> DeskResult<()> {
        let current = self.mailbox(caller, id).await?;
        self.secrets.delete_secret(&current.secret_name()).await?;
        if self.mailboxes.delete_mailbox(id).await? {
            tracing::info!(mailbox = %id, "mailbox deleted");
            self.audit(
                caller,
                AuditAction::MailboxDeleted,
                id,
                diff(Some(&current), None),
            )
            .await
        } else {
            Err(DeskError::NotFound { what: "mailbox" })
        }
    }

    /// The mailboxes the poller reads (no permission check: the system polls them).
    pub async fn enabled_mailboxes(&self) -> DeskResult<Vec<Mailbox>> {
        let mut all = self.mailboxes.list_mailboxes().await?;
        all.retain(|m| m.enabled);
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    /// A mailbox's password, for the poller only.
    pub async fn mailbox_password(&self, mailbox: &Mailbox) -> DeskResult<Option<Secret>> {
        self.secrets.get_secret(&mailbox.secret_name()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn new(v: serde_json::Value) -> Result<(Mailbox, Secret), FieldError> {
        serde_json::from_value::<NewMailbox>(v)
            .map_err(|e| FieldError::new("json", e.to_string()))?
            .validate("mbaaaaaaaaaaaa".into(), now())
    }

    #[test]
    fn defaults_follow_tls() {
        let (m, p) = new(
            json!({"name": " Support ", "host": "IMAP.Example.com", "user": "u", "password": "pw"}),
        )
        .unwrap();
        assert_eq!((m.port, m.tls, m.enabled), (993, true, true));
        assert_eq!(m.folder, "INBOX");
        assert_eq!(m.name, "Support");
        assert_eq!(m.host, "imap.example.com");
        assert_eq!(p.expose(), "pw");
        let (m, _) = new(
            json!({"name": "n", "host": "10.0.0.1", "tls": false, "user": "u", "password": "pw"}),
        )
        .unwrap();
        assert_eq!(m.port, 143);
        // JSON Schema's integers: 995.0 is 995; null is the default.
        for (port, expected) in [(json!(995.0), 995), (json!(null), 993)] {
            let (m, _) =
                new(json!({"name": "n", "host": "h", "port": port, "user": "u", "password": "pw"}))
                    .unwrap();
            assert_eq!(m.port, expected);
        }
        let (m, _) = new(
            json!({"name": "n", "host": "localhost", "port": 1993, "user": " u ", "password": "pw"}),
        )
        .unwrap();
        assert_eq!(
            (m.host.as_str(), m.port, m.user.as_str()),
            ("localhost", 1993, " u ")
        );
    }

    #[test]
    fn refuses_bad_fields_by_name() {
        let base = json!({"name": "n", "host": "h.example", "user": "u", "password": "pw"});
        for (field, bad) in [
            ("name", json!("  ")),
            ("host", json!("")),
            ("host", json!("imaps://h.example")),
            ("host", json!("h.example:993")),
            ("host", json!("bad host")),
            ("host", json!("-h")),
            ("host", json!(" h.example")),
            ("host", json!("h..example")),
            ("host", json!("h.example.")),
            ("host", json!("[::1]")),
            ("port", json!(0)),
            ("user", json!("")),
            ("user", json!("a\nb")),
            ("folder", json!("")),
            ("password", json!("")),
            ("password", json!("a\r\nb")),
        ] {
            let mut v = base.clone();
            v[field] = bad.clone();
            let e = new(v).expect_err(&format!("{field}={bad} accepted"));
            assert_eq!(e.field, field, "{field}={bad}: {e}");
        }
    }

    #[test]
    fn ports_must_be_whole_and_in_range() {
        for bad in [json!(993.5), json!(-1), json!(65536), json!("993")] {
            let body =
                json!({"name": "n", "host": "h", "port": bad, "user": "u", "password": "pw"});
            assert!(serde_json::from_value::<NewMailbox>(body).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let input: NewMailbox = serde_json::from_value(
            json!({"name": "n", "host": "h", "user": "u", "password": "hunter2"}),
        )
        .unwrap();
        assert!(!format!("{input:?}").contains("hunter2"));
        let (m, _) = input.validate("mbaaaaaaaaaaaa".into(), now()).unwrap();
        let out = serde_json::to_string(&m).unwrap();
        assert!(
            !out.contains("hunter2") && !out.contains("password"),
            "{out}"
        );
    }

    #[test]
    fn update_keeps_identity_and_poll_status() {
        let (mut m, _) =
            new(json!({"name": "n", "host": "h", "user": "u", "password": "pw"})).unwrap();
        m.last_error = Some("boom".into());
        let later = now() + chrono::Duration::hours(1);
        let u: MailboxUpdate = serde_json::from_value(
            json!({"name": "m", "host": "h2", "tls": false, "user": "u2", "enabled": false}),
        )
        .unwrap();
        let (next, secret) = u.apply(&m, later).unwrap();
        assert!(secret.is_none());
        assert_eq!(
            (next.id.as_str(), next.created_at, next.updated_at),
            (m.id.as_str(), m.created_at, later)
        );
        assert_eq!(
            (next.port, next.enabled, next.last_error.as_deref()),
            (143, false, Some("boom"))
        );
    }

    #[test]
    fn poll_errors_are_cut() {
        let s = PollStatus::new(now(), Some("x".repeat(2000)), 0);
        assert_eq!(s.error.map(|e| e.chars().count()), Some(limits::ERROR + 1));
        assert!(
            well_formed("mb0123456789ab")
                && !well_formed("mb0123")
                && !well_formed("rb0123456789ab")
        );
    }
}
