//! The conversation's routes: replying by email, reading a ticket's messages,
//! and downloading a received message's raw MIME or one of its attachments.

use desk_domain::conversation::{NewForward, NewReply};
use desk_domain::message::{split_location, MailMessage};
use desk_domain::{Caller, FieldError};
use http::{Method, StatusCode};
use lambda_http::Request;
use serde_json::json;

use crate::body::{json, no_query, page_request};
use crate::problem::Problem;
use crate::routes::{ticket_number, Res};
use crate::{App, Reply};

/// Largest download answered inline: a Lambda response is at most 6 MB and a
/// binary body travels base64-encoded. Larger ones get a short-lived S3 link.
pub const INLINE_DOWNLOAD_BYTES: usize = 4 * 1024 * 1024;

/// A message as shown to a person: its HTML sanitised (stored as received).
fn shown(mut m: MailMessage) -> MailMessage {
    m.html = m.html.map(|h| desk_mail::sanitize::clean_html(&h));
    // How receptions are recognised, not something to show.
    m.fingerprint = None;
    m
}

/// `?reception=N`: the message's N-th later reception (`receptions[N-1]`);
/// absent or 0, the first. Nothing else may be asked.
fn reception(req: &Request) -> Result<usize, Problem> {
    let mut n = 0;
    for (k, v) in crate::body::query_pairs(req) {
        if k != "reception" {
            return Err(Problem::invalid_query(FieldError::new(
                k,
                "is not a known query parameter",
            )));
        }
        n = v
            .parse()
            .ok()
            .filter(|n: &usize| *n <= 1_000)
            .ok_or_else(|| {
                Problem::invalid_query(FieldError::new(
                    "reception",
                    "must be an integer from 0 to 1000",
                ))
            })?;
    }
    Ok(n)
}

/// Message ids are time-ordered ids; anything else cannot exist.
fn message_id(raw: &str) -> Result<&str, Problem> {
    let plausible =
        (1..=40).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if plausible {
        Ok(raw)
    } else {
        Err(Problem::not_found("message"))
    }
}

fn idempotency_key(req: &Request) -> Result<Option<&str>, Problem> {
    req.headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| {
                Problem::invalid_field(FieldError::new("Idempotency-Key", "must be visible ASCII"))
            })
        })
        .transpose()
}

/// Where a download too large to answer inline is linked from.
enum Large {
    /// Already in S3 as is (the raw message).
    At(String),
    /// Copied to this location first (a decoded attachment).
    CopyTo(String),
}

/// A download: inline when small, else a `303 See Other` to a signed link.
async fn download(
    app: &App,
    bytes: Vec<u8>,
    filename: &str,
    content_type: &str,
    large: Large,
) -> Res {
    if bytes.len() <= INLINE_DOWNLOAD_BYTES {
        return Ok(Reply::bytes(bytes, content_type)
            .header(
                http::header::CONTENT_DISPOSITION,
                desk_domain::message::content_disposition(filename),
            )
            // Never let a browser render mail content (HTML attachments) as a page of ours.
            .header(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".into())
            .header(http::header::CACHE_CONTROL, "private, no-store".into()));
    }
    let location = match large {
        Large::At(location) => location,
        Large::CopyTo(location) => {
            app.desk
                .raw_mail
                .put(&location, bytes, content_type)
                .await?;
            location
        }
    };
    let link = app
        .desk
        .raw_mail
        .link(&location, filename, content_type)
        .await?;
    Ok(Reply::see_other(link))
}

pub(crate) async fn route(
    app: &App,
    req: &Request,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
) -> Res {
    let desk = &app.desk;
    match (method.as_str(), segments) {
        ("POST", ["tickets", id, kind @ ("replies" | "forwards")]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            let key = idempotency_key(req)?;
            let outcome = if *kind == "replies" {
                let input: NewReply = json(req)?;
                desk.reply(caller, number, input, key).await?
            } else {
                let input: NewForward = json(req)?;
                desk.forward(caller, number, input, key).await?
            };
            let status = if outcome.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Reply::json(status, &outcome.message)
        }
        ("GET", ["tickets", id, "messages"]) => {
            let number = ticket_number(id)?;
            let page = desk
                .ticket_messages(caller, number, &page_request(req)?)
                .await?;
            let items: Vec<MailMessage> = page.items.into_iter().map(shown).collect();
            Reply::ok(&json!({"items": items, "next_cursor": page.next_cursor}))
        }
        ("GET", ["tickets", id, "messages", message]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            Reply::ok(&shown(
                desk.ticket_message(caller, number, message_id(message)?)
                    .await?,
            ))
        }
        ("GET", ["tickets", id, "messages", message, "raw"]) => {
            let reception = reception(req)?;
            let number = ticket_number(id)?;
            let (stored, raw) = desk
                .raw_message(caller, number, message_id(message)?, reception)
                .await?;
            let name = if reception == 0 {
                format!("{}.eml", stored.id)
            } else {
                format!("{}-{reception}.eml", stored.id)
            };
            download(app, raw, &name, "message/rfc822", Large::At(stored.raw_key)).await
        }
        ("GET", ["tickets", id, "messages", message, "attachments", index]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            let index: usize = index
                .parse()
                .ok()
                .filter(|i: &usize| *i < 1_000)
                .ok_or_else(|| Problem::not_found("attachment"))?;
            let (stored, raw) = desk
                .raw_message(caller, number, message_id(message)?, 0)
                .await?;
            let part = desk_mail::attachment(&raw, index)
                .ok_or_else(|| Problem::not_found("attachment"))?;
            let name = if part.filename.is_empty() {
                format!("attachment-{index}")
            } else {
                part.filename.clone()
            };
            let (bucket, _) =
                split_location(&stored.raw_key).ok_or_else(|| Problem::not_found("attachment"))?;
            let under = format!("s3://{bucket}/downloads/{number}/{}/{index}", stored.id);
            download(
                app,
                part.bytes,
                &name,
                &part.content_type,
                Large::CopyTo(under),
            )
            .await
        }
        _ => Err(crate::routes::method_not_allowed("GET")),
    }
}
