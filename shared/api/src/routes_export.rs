//! `POST /exports`: one customer's data as one ZIP archive (administrators only).
//!
//! Layout: `manifest.json` first (the customer, who exported when, the tickets,
//! and every other file's path, size and SHA-256), then per ticket
//! `tickets/<n>/ticket.json`, `messages.json` (as `GET /tickets/{n}/messages`
//! shows them), `messages/<id>.eml` (a received message's raw MIME, byte for
//! byte), `messages/<id>/attachments/<index>-<name>` (decoded), `notes.json` and
//! `activity.json`. Entries are stored, not compressed: raw mail and most
//! attachments barely shrink, and deflating tens of MB would spend the API
//! function's CPU time. Answered inline up to 4 MiB, else by a signed S3 link.

use desk_domain::audit::{AuditAction, Change};
use desk_domain::export::{CustomerExport, ExportRequest};
use desk_domain::message::split_location;
use desk_domain::{Caller, DeskError};
use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::body::{json, no_query};
use crate::problem::Problem;
use crate::routes::Res;
use crate::routes_mail::{download, shown, Large, INLINE_DOWNLOAD_BYTES};
use crate::App;

/// One file of the archive, as the manifest lists it.
#[derive(Debug, Serialize)]
struct FileEntry {
    path: String,
    bytes: usize,
    sha256: String,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Problem> {
    serde_json::to_vec_pretty(value).map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("encode: {e}"),
        )
    })
}

/// A file name safe in any unpacker: no directories, no control characters.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .take(100)
        .collect();
    match cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace()) {
        "" => "attachment".to_string(),
        n => n.to_string(),
    }
}

/// The archive's files (without the manifest), in order.
fn files(export: &CustomerExport) -> Result<Vec<(String, Vec<u8>)>, Problem> {
    let mut out = Vec::new();
    for t in &export.tickets {
        let dir = format!("tickets/{}", t.ticket.number);
        out.push((format!("{dir}/ticket.json"), encode(&t.ticket)?));
        let shown_messages: Vec<_> = t
            .messages
            .iter()
            .map(|m| shown(m.message.clone()))
            .collect();
        out.push((format!("{dir}/messages.json"), encode(&shown_messages)?));
        for m in &t.messages {
            let Some(raw) = &m.raw else { continue };
            let id = &m.message.id;
            out.push((format!("{dir}/messages/{id}.eml"), raw.clone()));
            for a in &m.message.attachments {
                if let Some(part) = desk_mail::attachment(raw, a.index) {
                    out.push((
                        format!(
                            "{dir}/messages/{id}/attachments/{}-{}",
                            a.index,
                            safe_name(&a.filename)
                        ),
                        part.bytes,
                    ));
                }
            }
        }
        out.push((format!("{dir}/notes.json"), encode(&t.notes)?));
        out.push((format!("{dir}/activity.json"), encode(&t.activity)?));
    }
    Ok(out)
}

fn zip_failed(e: impl std::fmt::Display) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("archive: {e}"),
    )
}

/// The ZIP archive: the manifest, then `files`.
fn archive(manifest: &[u8], files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, Problem> {
    use std::io::Write;
    let total: usize = files.iter().map(|(_, b)| b.len()).sum::<usize>() + manifest.len();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(
        total + 512 * (files.len() + 1),
    )));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, bytes) in std::iter::once(("manifest.json", manifest))
        .chain(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())))
    {
        zip.start_file(path, options).map_err(zip_failed)?;
        zip.write_all(bytes).map_err(zip_failed)?;
    }
    Ok(zip.finish().map_err(zip_failed)?.into_inner())
}

pub(crate) async fn route(app: &App, req: &Request, caller: &Caller) -> Res {
    no_query(req)?;
    caller.require_admin()?;
    let input: ExportRequest = json(req)?;
    let desk = &app.desk;
    let export = desk.export_customer(caller, &input.customer).await?;
    let files = files(&export)?;
    let at = desk.clock.now();
    let listed: Vec<FileEntry> = files
        .iter()
        .map(|(path, bytes)| FileEntry {
            path: path.clone(),
            bytes: bytes.len(),
            sha256: hex(&Sha256::digest(bytes)),
        })
        .collect();
    let total: usize = listed.iter().map(|f| f.bytes).sum();
    let manifest = encode(&json!({
        "customer": export.customer,
        "exported_at": at,
        "exported_by": caller.id(),
        "tickets": export.tickets.iter().map(|t| t.ticket.number).collect::<Vec<_>>(),
        "files": listed,
        "total_bytes": total,
    }))?;
    let zip = archive(&manifest, &files)?;
    // Where a large archive is linked from: the raw mail's bucket, under
    // downloads/ (expires after a day). Without received mail there is none.
    let bucket = export
        .tickets
        .iter()
        .flat_map(|t| &t.messages)
        .find_map(|m| split_location(&m.message.raw_key).map(|(b, _)| b.to_string()));
    if zip.len() > INLINE_DOWNLOAD_BYTES && bucket.is_none() {
        return Err(DeskError::Conflict {
            code: "export_too_large",
            message: "the archive is too large to answer inline and there is no mail store to link it from".into(),
        }
        .into());
    }
    desk.audit(
        caller,
        AuditAction::CustomerExported,
        export.customer.as_str(),
        vec![
            Change::value("tickets", None, Some(json!(export.tickets.len()))),
            Change::value("files", None, Some(json!(files.len() + 1))),
            Change::value("bytes", None, Some(json!(zip.len()))),
            Change::value("sha256", None, Some(json!(hex(&Sha256::digest(&zip))))),
        ],
    )
    .await?;
    let name = format!("export-{}.zip", at.format("%Y%m%dT%H%M%SZ"));
    // Used only when the archive is too large to answer inline.
    let location = format!(
        "s3://{}/downloads/exports/{}.zip",
        bucket.unwrap_or_default(),
        uuid::Uuid::new_v4()
    );
    download(app, zip, &name, "application/zip", Large::CopyTo(location)).await
}
