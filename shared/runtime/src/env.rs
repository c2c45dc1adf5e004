//! Configuration from environment variables. Each function's `Config::from_env`
//! reads only the variables it uses, through an [`Env`], which also records what
//! was asked, so the deploy rehearsal can check a deployed function's environment
//! against what its configuration requires (`desk-local env-check`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use desk_domain::{EmailAddress, Settings};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {0}: {1}")]
    Invalid(&'static str, String),
}

/// Where variables come from: the process environment, or a given map (tests, the
/// rehearsal's check of a deployed function's environment).
pub struct Env {
    source: Option<BTreeMap<String, String>>,
    asked: Mutex<BTreeMap<&'static str, bool>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            source: None,
            asked: Mutex::default(),
        }
    }

    /// Exactly these variables.
    pub fn from_map(vars: BTreeMap<String, String>) -> Self {
        Self {
            source: Some(vars),
            asked: Mutex::default(),
        }
    }

    /// Every variable read so far, with whether it was required.
    pub fn asked(&self) -> BTreeMap<&'static str, bool> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn note(&self, name: &'static str, required: bool) {
        if let Ok(mut asked) = self.asked.lock() {
            let entry = asked.entry(name).or_insert(required);
            *entry |= required;
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        let value = match &self.source {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// An optional variable (empty counts as unset).
    pub fn var(&self, name: &'static str) -> Option<String> {
        self.note(name, false);
        self.lookup(name)
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.note(name, true);
        self.lookup(name).ok_or(ConfigError::Missing(name))
    }

    /// An optional variable parsed as a number, `default` when unset.
    pub fn number<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        match self.var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError::Invalid(name, format!("not a number: {v:?}"))),
        }
    }

    /// An optional `true`/`false` variable, `default` when unset.
    pub fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.var(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(ConfigError::Invalid(
                name,
                format!("use true or false, not {v:?}"),
            )),
        }
    }

    /// `TABLE_NAME`: every function's table.
    pub fn table(&self) -> Result<String, ConfigError> {
        self.required("TABLE_NAME")
    }

    /// `DESK_ADDRESS`: the desk's address, From of everything it sends.
    pub fn desk_address(&self) -> Result<EmailAddress, ConfigError> {
        let address = self.required("DESK_ADDRESS")?;
        EmailAddress::parse(&address).map_err(|e| ConfigError::Invalid("DESK_ADDRESS", e.message))
    }

    /// An http(s) URL.
    pub fn http_url(&self, name: &'static str) -> Result<String, ConfigError> {
        let v = self.required(name)?;
        if v.starts_with("https://") || v.starts_with("http://") {
            Ok(v)
        } else {
            Err(ConfigError::Invalid(name, "must be an http(s) URL".into()))
        }
    }

    /// The desk's settings: `DESK_ADDRESS`, `JOIN_LINK_BASE`, `CONNECT_LINK_BASE`.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        Ok(Settings {
            desk_address: self.desk_address()?,
            join_link_base: self.http_url("JOIN_LINK_BASE")?,
            connect_link_base: self.http_url("CONNECT_LINK_BASE")?,
            files_bucket: None,
        })
    }

    /// `REPLY_TOKEN_SECRET`: the name of the Secrets Manager secret holding the
    /// key ring that signs the reply tokens in our Reply-To addresses (the key
    /// itself is read at first use, never from configuration). A name, not an
    /// ARN: it is read through Parameter Store's reference path, which takes none.
    pub fn reply_token_secret(&self) -> Result<String, ConfigError> {
        let name = self.required("REPLY_TOKEN_SECRET")?;
        if name.starts_with("arn:") {
            return Err(ConfigError::Invalid(
                "REPLY_TOKEN_SECRET",
                "must be the secret's name, not its ARN".into(),
            ));
        }
        let valid = name.len() <= 512
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b));
        if valid {
            Ok(name)
        } else {
            Err(ConfigError::Invalid(
                "REPLY_TOKEN_SECRET",
                "must be a secret's name (letters, digits, /_+=.@-)".into(),
            ))
        }
    }

    /// `SECRETS_PREFIX`, or `service-desk/<table>`.
    pub fn secrets_prefix(&self, table: &str) -> Result<String, ConfigError> {
        secrets_prefix(self.var("SECRETS_PREFIX"), table)
    }
}

/// What every function that holds a desk and sends mail reads: its table and
/// settings, the outbox, the event bus and where the reply-token keys are.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    pub table: String,
    pub settings: Settings,
    pub outbox_queue_url: String,
    pub event_bus: String,
    /// The Secrets Manager secret whose key ring signs and verifies the reply
    /// tokens in our Reply-To addresses (its id, not the key).
    pub reply_token_secret: String,
}

impl DeskConfig {
    /// `TABLE_NAME`, `DESK_ADDRESS`, `JOIN_LINK_BASE`, `CONNECT_LINK_BASE`,
    /// `OUTBOX_QUEUE_URL`, `EVENT_BUS_NAME`, `REPLY_TOKEN_SECRET`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: env.table()?,
            settings: env.settings()?,
            outbox_queue_url: env.required("OUTBOX_QUEUE_URL")?,
            event_bus: env.required("EVENT_BUS_NAME")?,
            reply_token_secret: env.reply_token_secret()?,
        })
    }
}

/// `SECRETS_PREFIX`, or `service-desk/<table>`: an SSM path (letters, digits, `_.-/`).
pub fn secrets_prefix(value: Option<String>, table: &str) -> Result<String, ConfigError> {
    let prefix = value.unwrap_or_else(|| format!("service-desk/{table}"));
    let prefix = prefix.trim_matches('/').to_string();
    let valid = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
        && !prefix.to_ascii_lowercase().starts_with("aws")
        && !prefix.to_ascii_lowercase().starts_with("ssm");
    if valid {
        Ok(prefix)
    } else {
        Err(ConfigError::Invalid(
            "SECRETS_PREFIX",
            "must be an SSM parameter path (letters, digits, _.-/), not starting with aws or ssm"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_missing_or_empty_required_variable_is_named() {
        assert_eq!(env(&[]).table(), Err(ConfigError::Missing("TABLE_NAME")));
        assert_eq!(
            env(&[("TABLE_NAME", "  ")]).table(),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
        assert_eq!(
            env(&[("TABLE_NAME", "desk")]).table().as_deref(),
            Ok("desk")
        );
    }

    #[test]
    fn what_was_asked_is_recorded_with_whether_it_was_required() {
        let e = env(&[("TABLE_NAME", "desk")]);
        let _ = e.table();
        let _ = e.var("RUST_LOG");
        let _ = e.flag("IMAP_ALLOW_PLAINTEXT", false);
        let asked = e.asked();
        assert_eq!(asked.get("TABLE_NAME"), Some(&true));
        assert_eq!(asked.get("RUST_LOG"), Some(&false));
        assert_eq!(asked.get("IMAP_ALLOW_PLAINTEXT"), Some(&false));
    }

    #[test]
    fn settings_need_an_address_and_http_links() {
        let ok = env(&[
            ("DESK_ADDRESS", "support@desk.example"),
            ("JOIN_LINK_BASE", "https://qs.example/join"),
            ("CONNECT_LINK_BASE", "https://qs.example/connect"),
        ]);
        assert_eq!(
            ok.settings().map(|s| s.join_link_base).as_deref(),
            Ok("https://qs.example/join")
        );
        let bad = env(&[
            ("DESK_ADDRESS", "support@desk.example"),
            ("JOIN_LINK_BASE", "ftp://qs.example/join"),
            ("CONNECT_LINK_BASE", "https://qs.example/connect"),
        ]);
        assert!(matches!(
            bad.settings(),
            Err(ConfigError::Invalid("JOIN_LINK_BASE", _))
        ));
        assert!(matches!(
            env(&[("DESK_ADDRESS", "not an address")]).settings(),
            Err(ConfigError::Invalid("DESK_ADDRESS", _))
        ));
    }

    #[test]
    fn the_reply_token_secret_is_a_secret_name() {
        let name = "desk-prod/reply-token";
        assert_eq!(
            env(&[("REPLY_TOKEN_SECRET", name)])
                .reply_token_secret()
                .as_deref(),
            Ok(name)
        );
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:desk-reply-AbCdEf";
        assert!(matches!(
            env(&[("REPLY_TOKEN_SECRET", arn)]).reply_token_secret(),
            Err(ConfigError::Invalid("REPLY_TOKEN_SECRET", m)) if m.contains("not its ARN")
        ));
        assert!(matches!(
            env(&[("REPLY_TOKEN_SECRET", "a key with spaces")]).reply_token_secret(),
            Err(ConfigError::Invalid("REPLY_TOKEN_SECRET", _))
        ));
        assert_eq!(
            env(&[]).reply_token_secret(),
            Err(ConfigError::Missing("REPLY_TOKEN_SECRET"))
        );
    }

    #[test]
    fn numbers_and_flags_default_and_refuse_garbage() {
        assert_eq!(env(&[]).number("N", 25u32), Ok(25));
        assert_eq!(env(&[("N", "7")]).number("N", 25u32), Ok(7));
        assert!(env(&[("N", "seven")]).number("N", 25u32).is_err());
        assert_eq!(env(&[("F", "TRUE")]).flag("F", false), Ok(true));
        assert!(env(&[("F", "yes")]).flag("F", false).is_err());
    }

    #[test]
    fn secrets_prefix_defaults_to_the_table_and_refuses_reserved_paths() {
        assert_eq!(
            secrets_prefix(None, "desk").as_deref(),
            Ok("service-desk/desk")
        );
        assert_eq!(
            secrets_prefix(Some("/a/b/".into()), "desk").as_deref(),
            Ok("a/b")
        );
        assert!(secrets_prefix(Some("aws/x".into()), "desk").is_err());
        assert!(secrets_prefix(Some("a b".into()), "desk").is_err());
    }
}
