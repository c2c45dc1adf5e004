//! Local stack tooling, shared by `desk-local` (the CLI `make dev` drives) and the
//! end-to-end tests: the table from `template.yaml`, the HTTP runner of the very
//! same API handler, demo data and development tokens.

pub mod seed;
pub mod server;
pub mod template;

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
        .map_err(|e| format!("no DEV_JWT_SECRET and cannot read {}: {e} (run `make dev` first)", path.display()))
}
