//! Local stack tooling, shared by `desk-local` (the CLI `make dev` drives) and the
//! end-to-end tests: the table from `template.yaml`, the HTTP runner of the very
//! same API handler, demo data and development tokens.

pub mod dev_oidc;
pub mod dev_oidc_http;
pub mod provision;
pub mod seed;
pub mod server;
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

/// The desk's configuration for the local stack (what `template.yaml` sets in the cloud).
pub fn local_config(
    table: &str,
    resources: Option<&provision::Resources>,
) -> Result<desk_runtime::Config, String> {
    let var = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_string())
    };
    let address = var("DESK_ADDRESS", "support@desk.example");
    let secrets_prefix = desk_runtime::secrets_prefix(
        std::env::var("SECRETS_PREFIX")
            .ok()
            .filter(|v| !v.is_empty()),
        table,
    )
    .map_err(|e| e.to_string())?;
    Ok(desk_runtime::Config {
        secrets_prefix,
        reply_token_key: var(
            "REPLY_TOKEN_KEY",
            "local-development-reply-token-key-not-secret",
        ),
        table: table.to_string(),
        outbox_queue_url: resources.map(|r| r.outbox_url.clone()).unwrap_or_default(),
        event_bus: resources
            .map(|r| r.bus.clone())
            .unwrap_or_else(|| "default".into()),
        settings: desk_domain::Settings {
            desk_address: desk_domain::EmailAddress::parse(&address)
                .map_err(|e| format!("DESK_ADDRESS: {}", e.message))?,
            join_link_base: var("JOIN_LINK_BASE", "https://quicksupport.example/join"),
            connect_link_base: var("CONNECT_LINK_BASE", "https://quicksupport.example/connect"),
        },
    })
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
