//! Local stack tooling, shared by `desk-local` (the CLI `make dev` drives) and the
//! end-to-end tests: the table from `template.yaml`, the HTTP runner of the very
//! same API handler, demo data and development tokens.

pub mod dev_oidc;
pub mod dev_oidc_http;
pub mod provision;
pub mod reindex;
pub mod reply_keys;
pub mod seed;
pub mod server;
pub mod stream;
pub mod template;
pub mod workers;

use std::path::{Path, PathBuf};

/// The repository root (where `template.yaml` lives), found from this crate.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The development issuer's secret: `DEV_JWT_SECRET`, else `.dev/jwt-secret`.
pub fn dev_secret() -> Result<String, String> {
    if let Ok(s) = std::env::var("DEV_JWT_SECRET") {
        if !s.trim().is_empty() {
            return Ok(s.trim().to_string());
        }
    }
    let path = repo_root().join(".dev/jwt-secret");
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(|e| {
            format!(
                "no DEV_JWT_SECRET and cannot read {}: {e} (run `make dev` first)",
                path.display()
            )
        })
}

/// The environment the local stack gives every function: what `template.yaml`
/// sets in the cloud, with local values (each can be overridden by the process
/// environment). Each function's own `Config::from_env` reads it, so the local
/// stack parses configuration exactly as the deployed functions do.
pub fn local_env(table: &str, resources: Option<&provision::Resources>) -> desk_runtime::Env {
    let var = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_string())
    };
    let mut vars = std::collections::BTreeMap::new();
    let mut set = |k: &str, v: String| {
        vars.insert(k.to_string(), v);
    };
    set("TABLE_NAME", table.to_string());
    set("DESK_ADDRESS", var("DESK_ADDRESS", "support@desk.example"));
    set(
        "JOIN_LINK_BASE",
        var("JOIN_LINK_BASE", "https://quicksupport.example/join"),
    );
    set(
        "CONNECT_LINK_BASE",
        var("CONNECT_LINK_BASE", "https://quicksupport.example/connect"),
    );
    // The key ring's secret in moto's Secrets Manager (`provision` creates it).
    set(
        "REPLY_TOKEN_SECRET",
        resources.map_or_else(
            || provision::reply_token_secret_name(table),
            |r| r.reply_token_secret.clone(),
        ),
    );
    set(
        "OUTBOX_QUEUE_URL",
        resources.map_or_else(
            || "http://127.0.0.1/unprovisioned-outbox".into(),
            |r| r.outbox_url.clone(),
        ),
    );
    set(
        "EVENT_BUS_NAME",
        resources.map_or_else(|| "default".into(), |r| r.bus.clone()),
    );
    set(
        "INBOUND_BUCKET",
        resources.map_or_else(|| format!("{table}-inbound"), |r| r.inbound_bucket.clone()),
    );
    // The console signs in with the local development issuer (desk-local serve).
    set(
        "OIDC_ISSUER",
        var("OIDC_ISSUER", "http://127.0.0.1:3000/dev-oidc"),
    );
    set("OIDC_CLIENT_ID", var("OIDC_CLIENT_ID", "desk-console"));
    // Local mailboxes (Dovecot in the tests) speak plain IMAP unless told otherwise.
    set("IMAP_ALLOW_PLAINTEXT", var("IMAP_ALLOW_PLAINTEXT", "true"));
    for k in [
        "SECRETS_PREFIX",
        "IMAP_MAX_PER_POLL",
        "IMAP_TIMEOUT_SECONDS",
    ] {
        if let Ok(v) = std::env::var(k) {
            set(k, v);
        }
    }
    desk_runtime::Env::from_map(vars)
}

/// Each function's configuration, as the local stack sets it.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub api: api::Config,
    pub ingest: ingest::Config,
    pub mailer: mailer::Config,
    pub expire: expire::Config,
    pub poller: poller::Config,
    pub indexer: indexer::Config,
}

pub fn local_config(
    table: &str,
    resources: Option<&provision::Resources>,
) -> Result<LocalConfig, String> {
    let env = local_env(table, resources);
    let e = |e: desk_runtime::ConfigError| e.to_string();
    Ok(LocalConfig {
        api: api::Config::from_env(&env).map_err(e)?,
        ingest: ingest::Config::from_env(&env).map_err(e)?,
        mailer: mailer::Config::from_env(&env).map_err(e)?,
        expire: expire::Config::from_env(&env).map_err(e)?,
        poller: poller::Config::from_env(&env).map_err(e)?,
        indexer: indexer::Config::from_env(&env).map_err(e)?,
    })
}

/// The functions' handlers, each composed exactly as its Lambda composes it (one
/// process locally, so they share the table client).
pub struct Functions {
    /// The API's desk (every port but SES).
    pub desk: desk_domain::Desk,
    /// The ingest function's handler.
    pub inbound: desk_jobs::inbound::Inbound,
    pub mailer: desk_jobs::mailer::Mailer,
    /// The expiry function's desk (cases and events only).
    pub expiry: desk_domain::Desk,
    /// The indexer function's handler (the table's stream).
    pub indexer: std::sync::Arc<desk_jobs::indexer::Indexer>,
    pub store: desk_dynamo::DynamoStore,
}

pub fn compose(
    config: &LocalConfig,
    store: desk_dynamo::DynamoStore,
    aws: &aws_config::SdkConfig,
) -> Functions {
    Functions {
        desk: api::desk(&config.api, store.clone(), aws),
        inbound: ingest::compose(&config.ingest, store.clone(), aws),
        mailer: mailer::compose(&config.mailer, store.clone(), aws),
        expiry: expire::compose(&config.expire, store.clone(), aws),
        indexer: std::sync::Arc::new(indexer::compose(&config.indexer, store.clone(), aws)),
        store,
    }
}

/// A mail from `big@example.org` with one attachment of `size` pseudo-random
/// (incompressible) bytes, base64 in 76-character lines: the raw message is
/// about 4/3 of `size`. Returns the raw message and the attachment.
pub fn mail_with_attachment(size: usize) -> (Vec<u8>, Vec<u8>) {
    use base64::Engine;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let payload: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&payload);
    let mut raw = format!(
        "From: Big Sender <big@example.org>\r\nTo: support@desk.example\r\nSubject: Disk image for analysis\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe image is attached.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"disk.img\"\r\nContent-Disposition: attachment; filename=\"disk.img\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes();
    for line in encoded.as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--b1--\r\n");
    (raw, payload)
}

/// The functions `template.yaml` deploys, by binary name
/// (`Metadata.BuildProperties.Binary`).
pub const FUNCTIONS: &[&str] = &[
    "api", "ingest", "mailer", "expire", "poller", "indexer", "console",
];

/// Variables a function may carry without reading them through its configuration:
/// the log filter's.
const OUTSIDE_CONFIG: &[&str] = &["RUST_LOG"];

/// Reads `function`'s configuration from `env` exactly as its Lambda does at a cold
/// start. Returns the variables it read (name → required), or why it would not
/// start.
pub fn read_function_env(
    function: &str,
    env: &desk_runtime::Env,
) -> Result<std::collections::BTreeMap<&'static str, bool>, String> {
    let e = |e: desk_runtime::ConfigError| e.to_string();
    match function {
        "api" => {
            api::Config::from_env(env).map_err(e)?;
            api::authenticator(env).map_err(e)?;
        }
        "ingest" => drop(ingest::Config::from_env(env).map_err(e)?),
        "mailer" => drop(mailer::Config::from_env(env).map_err(e)?),
        "expire" => drop(expire::Config::from_env(env).map_err(e)?),
        "poller" => drop(poller::Config::from_env(env).map_err(e)?),
        "indexer" => drop(indexer::Config::from_env(env).map_err(e)?),
        "console" => {
            // The console starts without them (and says so), but cannot sign anyone in.
            env.required("OIDC_ISSUER").map_err(e)?;
            env.required("OIDC_CLIENT_ID").map_err(e)?;
            drop(desk_console::ConsoleConfig::from_lookup(|k| env.var(k)));
        }
        other => return Err(format!("unknown function {other:?}; one of {FUNCTIONS:?}")),
    }
    Ok(env.asked())
}

/// Checks a deployed function's environment: its configuration parses, and it
/// carries no variable its configuration does not read (least privilege: no
/// setting, and no secret, where it is not used).
pub fn check_function_env(
    function: &str,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let env = desk_runtime::Env::from_map(vars.clone());
    let asked = read_function_env(function, &env).map_err(|e| format!("{function}: {e}"))?;
    let unread: Vec<&String> = vars
        .keys()
        .filter(|k| !asked.contains_key(k.as_str()) && !OUTSIDE_CONFIG.contains(&k.as_str()))
        .collect();
    if !unread.is_empty() {
        return Err(format!(
            "{function}: carries variables its configuration never reads: {unread:?}"
        ));
    }
    Ok(asked.keys().map(|k| k.to_string()).collect())
}

#[cfg(test)]
mod function_env_tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_mailer_needs_its_table_and_address_and_nothing_else() {
        let ok = vars(&[
            ("TABLE_NAME", "desk"),
            ("DESK_ADDRESS", "support@desk.example"),
            ("RUST_LOG", "info"),
        ]);
        assert_eq!(
            check_function_env("mailer", &ok),
            Ok(vec!["DESK_ADDRESS".to_string(), "TABLE_NAME".to_string()])
        );
        let missing = vars(&[("TABLE_NAME", "desk")]);
        assert!(check_function_env("mailer", &missing)
            .unwrap_err()
            .contains("DESK_ADDRESS is required"));
        let mut extra = ok.clone();
        extra.insert("REPLY_TOKEN_SECRET".into(), "desk-reply-token".into());
        assert!(check_function_env("mailer", &extra)
            .unwrap_err()
            .contains("REPLY_TOKEN_SECRET"));
    }

    #[test]
    fn the_local_environment_configures_every_function() {
        let env = local_env("desk", None);
        for f in FUNCTIONS {
            assert!(read_function_env(f, &env).is_ok(), "{f}");
        }
        assert!(read_function_env("nope", &env).is_err());
    }
}
