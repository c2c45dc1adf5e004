//! Files in replies (SPEC §3): an agent uploads a file for a ticket straight to
//! storage with a signed PUT (`POST /tickets/{id}/uploads`), then names it in a
//! reply, beside any customer's attachment sent on from the ticket. The reply's
//! MIME is built and kept when the reply is written, so the files download from
//! the sent message byte for byte, as received ones do.
//!
//! An upload is recorded under its ticket (who uploaded it, what was declared,
//! until when it may be used): a reply may only use uploads of its own ticket,
//! made by someone who may write it, whose bytes were PUT and match what was
//! declared. Anything else is refused before anything is stored or sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Caller;
use crate::activity::time_ordered_id;
use crate::error::{DeskError, DeskResult, FieldError};
use crate::mail::mime::{encoded_len, MailFile};
use crate::message::{AttachmentInfo, SignedPut};
use crate::service::Desk;
use crate::types::TicketNumber;

/// Largest file an agent may upload, in bytes: base64 makes it ~9.5 MB, which
/// still fits one message.
pub const MAX_UPLOAD_BYTES: u64 = 7_000_000;
/// Largest message the desk sends, in bytes, everything included (base64 adds a
/// third to every file): SES's limit for every way of sending (SMTP and the
/// v1 API; v2 takes 40 MB), and what most receiving servers accept.
pub const MAX_MESSAGE_BYTES: usize = 10_000_000;
/// Most files on one reply.
pub const MAX_REPLY_ATTACHMENTS: usize = 10;
/// Longest file name, in characters.
pub const MAX_FILENAME: usize = 255;
/// How long the signed upload link works.
pub const UPLOAD_LINK_SECONDS: i64 = 15 * 60;
/// How long an upload may be used in a reply (storage drops it a day later).
pub const UPLOAD_HOURS: i64 = 24;

/// File name endings refused: programs and scripts that mail services refuse
/// or that a recipient could run with a double click (Gmail's list, mostly).
pub const BLOCKED_EXTENSIONS: &[&str] = &[
    "ade", "adp", "apk", "app", "appx", "bat", "cab", "chm", "cmd", "com", "cpl", "dll", "dmg",
    "exe", "hta", "ins", "isp", "jar", "jnlp", "js", "jse", "lib", "lnk", "mde", "msc", "msi",
    "msix", "msp", "mst", "nsh", "pif", "ps1", "reg", "scr", "sct", "shb", "sh", "sys", "vb",
    "vbe", "vbs", "vxd", "wsc", "wsf", "wsh", "xll",
];

/// Content types refused: the same programs and scripts by type.
pub const BLOCKED_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-msi",
    "application/x-ms-installer",
    "application/vnd.microsoft.portable-executable",
    "application/x-sh",
    "application/x-bat",
    "application/x-csh",
    "application/java-archive",
    "application/x-java-archive",
    "application/javascript",
    "application/x-javascript",
    "text/javascript",
    "application/hta",
    "application/x-ms-shortcut",
    "application/vnd.android.package-archive",
    "application/x-apple-diskimage",
];

/// `POST /tickets/{id}/uploads` body: the file about to be uploaded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    pub filename: String,
    pub content_type: String,
    /// In bytes.
    pub size: u64,
}

/// An upload recorded on its ticket (its bytes at `location` once PUT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub ticket: TicketNumber,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// `s3://bucket/uploads/<ticket>/<id>`.
    pub location: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    /// After this it can no longer be used (storage drops the record and file later).
    pub expires_at: DateTime<Utc>,
}

/// A new upload and how to PUT its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    pub upload: Upload,
    pub put: SignedPut,
    /// Until when `put` works.
    pub put_expires_at: DateTime<Utc>,
}

/// A file named in a reply: `{"upload": id}` (an agent's upload of this
/// ticket) or `{"message": id, "index": n}` (attachment `n` of a message of
/// this ticket, sent on).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    #[serde(default)]
    pub upload: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub index: Option<usize>,
}

/// A checked file name: 1-255 characters (not only blanks; kept trimmed), no
/// control characters, no path.
pub fn filename(raw: &str) -> Result<String, FieldError> {
    let bad = |m: &str| Err(FieldError::new("filename", m));
    if raw.chars().count() > MAX_FILENAME {
        return bad("must be 1-255 characters");
    }
    let name = raw.trim();
    if name.is_empty() {
        return bad("must be 1-255 characters, not only blanks");
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return bad("must not hold control characters, '/' or '\\'");
    }
    if name == "." || name == ".." {
        return bad("must name a file");
    }
    Ok(name.to_string())
}

/// A checked MIME type, lowercased: `type/subtype` of token characters, no parameters.
pub fn content_type(raw: &str) -> Result<String, FieldError> {
    let t = raw.to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match t.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => Ok(t),
        _ => Err(FieldError::new(
            "content_type",
            "must be a MIME type such as application/pdf (no parameters)",
        )),
    }
}

/// Refuses programs and scripts, by name and by type (`field` names the file).
pub fn allowed(filename: &str, content_type: &str, field: &str) -> Result<(), FieldError> {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.trim().to_ascii_lowercase());
    if let Some(e) = extension.filter(|e| BLOCKED_EXTENSIONS.contains(&e.as_str())) {
        return Err(FieldError::new(
            field,
            format!("files ending in .{e} (programs and scripts) cannot be sent"),
        ));
    }
    if BLOCKED_TYPES.contains(&content_type) {
        return Err(FieldError::new(
            field,
            format!("files of type {content_type} (programs and scripts) cannot be sent"),
        ));
    }
    Ok(())
}

/// Whether `bytes` start like a program (Windows PE, ELF, Mach-O), whatever
/// its name and declared type say.
pub fn looks_executable(bytes: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"MZ",
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ];
    MAGIC.iter().any(|m| bytes.starts_with(m))
}

impl NewUpload {
    /// The checked file name and type.
    pub fn check(&self) -> Result<(String, String), FieldError> {
        let name = filename(&self.filename)?;
        let kind = content_type(&self.content_type)?;
        allowed(&name, &kind, "filename")?;
        if self.size == 0 || self.size > MAX_UPLOAD_BYTES {
            return Err(FieldError::new(
                "size",
                format!("must be 1 to {MAX_UPLOAD_BYTES} bytes"),
            ));
        }
        Ok((name, kind))
    }
}

/// Reads attachments out of a raw message (the same list, in the same order, as
/// stored on the message at ingest). Plain logic: `desk_mail` implements it.
pub trait AttachmentReader: Send + Sync {
    /// Attachment `index` of `raw`, decoded (`None`: it has none at `index`).
    fn attachment(&self, raw: &[u8], index: usize) -> DeskResult<Option<MailFile>>;
}

/// Room for a part's headers and boundary (name, type, disposition).
const PART_OVERHEAD: usize = 1_024;

/// What a reply's MIME may take at most for `files` (declared sizes) beside a
/// text of `text_bytes`: base64 and headers counted.
pub fn estimated_message_len(text_bytes: usize, sizes: &[usize]) -> usize {
    sizes
        .iter()
        .map(|n| encoded_len(*n) + PART_OVERHEAD)
        .sum::<usize>()
        + text_bytes
        + 4 * PART_OVERHEAD
}

pub(crate) fn too_large() -> FieldError {
    FieldError::new(
        "attachments",
        format!(
            "the message with its files would exceed {MAX_MESSAGE_BYTES} bytes (files grow by a third in mail); send fewer or smaller files"
        ),
    )
}

/// One named file, resolved.
enum Resolved {
    Upload(Upload),
    Forward {
        /// The message's id and where its raw is kept.
        message: String,
        raw_key: String,
        info: AttachmentInfo,
    },
}

impl Desk {
    /// Records an upload for a reply on ticket `number` (which the caller may
    /// write) and signs its PUT. Round trips: 1 GetItem (the ticket), 1 PutItem.
    pub async fn create_upload(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewUpload,
    ) -> DeskResult<UploadGrant> {
        let (filename, content_type) = input.check()?;
        self.open_ticket(caller, number).await?;
        let bucket = self.files_bucket()?;
        let now = self.clock.now();
        let id = time_ordered_id(now);
        let upload = Upload {
            location: format!("s3://{bucket}/uploads/{number}/{id}"),
            id,
            ticket: number,
            filename,
            content_type,
            size: input.size,
            uploaded_by: caller.id().to_string(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(UPLOAD_HOURS),
        };
        let put = self
            .raw_mail
            .upload_link(
                &upload.location,
                &upload.content_type,
                upload.size,
                std::time::Duration::from_secs(UPLOAD_LINK_SECONDS as u64),
            )
            .await?;
        self.messages.put_upload(&upload).await?;
        Ok(UploadGrant {
            upload,
            put,
            put_expires_at: now + chrono::Duration::seconds(UPLOAD_LINK_SECONDS),
        })
    }

    pub(crate) fn files_bucket(&self) -> DeskResult<&str> {
        self.settings
            .files_bucket
            .as_deref()
            .ok_or_else(|| DeskError::Storage("no bucket for files is configured".into()))
    }

    /// The files a reply on ticket `number` names, checked and read, with their
    /// metadata as the sent message lists them. Refuses (naming
    /// `attachments[i]…`) an unknown, expired or foreign upload, one never PUT
    /// or unlike what was declared, a message or attachment the ticket does not
    /// have, programs, and a total over [`MAX_MESSAGE_BYTES`] (counted on the
    /// declared sizes before anything is read). Round trips: the uploads' and
    /// messages' GetItems in parallel, then their S3 GetObjects in parallel.
    pub(crate) async fn reply_files(
        &self,
        number: TicketNumber,
        refs: &[AttachmentRef],
        text_bytes: usize,
    ) -> DeskResult<(Vec<MailFile>, Vec<AttachmentInfo>)> {
        if refs.is_empty() {
            return Ok((vec![], vec![]));
        }
        check_refs(refs)?;
        let now = self.clock.now();
        let resolved = futures::future::try_join_all(
            refs.iter()
                .enumerate()
                .map(|(i, r)| self.resolve(number, i, r, now)),
        )
        .await?;
        let sizes: Vec<usize> = resolved
            .iter()
            .map(|r| match r {
                Resolved::Upload(u) => u.size as usize,
                Resolved::Forward { info, .. } => info.size,
            })
            .collect();
        if estimated_message_len(text_bytes, &sizes) > MAX_MESSAGE_BYTES {
            return Err(too_large().into());
        }
        let files = futures::future::try_join_all(
            resolved
                .iter()
                .enumerate()
                .map(|(i, r)| self.read_file(i, r)),
        )
        .await?;
        let infos = files
            .iter()
            .enumerate()
            .map(|(index, f)| AttachmentInfo {
                index,
                filename: f.filename.clone(),
                content_type: f.content_type.clone(),
                size: f.bytes.len(),
                content_id: None,
                inline: false,
            })
            .collect();
        Ok((files, infos))
    }

    async fn resolve(
        &self,
        number: TicketNumber,
        i: usize,
        r: &AttachmentRef,
        now: DateTime<Utc>,
    ) -> DeskResult<Resolved> {
        let field = |f: &str| format!("attachments[{i}]{f}");
        match (&r.upload, &r.message, r.index) {
            (Some(id), None, None) => {
                let unknown = || FieldError::new(field(".upload"), format!("no upload {id:?} on this ticket"));
                let upload = self
                    .messages
                    .get_upload(number, id)
                    .await?
                    .ok_or_else(unknown)?;
                if upload.expires_at <= now {
                    return Err(FieldError::new(
                        field(".upload"),
                        "has expired; upload the file again",
                    )
                    .into());
                }
                Ok(Resolved::Upload(upload))
            }
            (None, Some(id), Some(index)) => {
                let unknown = || FieldError::new(field(".message"), format!("no message {id:?} on this ticket"));
                let message = self
                    .messages
                    .get_message(number, id)
                    .await?
                    .filter(|m| !m.raw_key.is_empty())
                    .ok_or_else(unknown)?;
                let info = message
                    .attachments
                    .iter()
                    .find(|a| a.index == index)
                    .cloned()
                    .ok_or_else(|| {
                        FieldError::new(
                            field(".index"),
                            format!("message {id:?} has no attachment {index}"),
                        )
                    })?;
                Ok(Resolved::Forward {
                    message: message.id,
                    raw_key: message.raw_key,
                    info,
                })
            }
            _ => Err(FieldError::new(
                field(""),
                "name either an upload (`upload`) or a message's attachment (`message` and `index`)",
            )
            .into()),
        }
    }

    async fn read_file(&self, i: usize, r: &Resolved) -> DeskResult<MailFile> {
        match r {
            Resolved::Upload(u) => {
                let field = format!("attachments[{i}].upload");
                let stored = self.raw_mail.find(&u.location).await?.ok_or_else(|| {
                    FieldError::new(&field, "holds no file yet: PUT it to the upload URL first")
                })?;
                if stored.bytes.len() as u64 != u.size {
                    return Err(FieldError::new(
                        &field,
                        format!(
                            "holds {} bytes, not the {} declared",
                            stored.bytes.len(),
                            u.size
                        ),
                    )
                    .into());
                }
                let stored_type = stored.content_type.as_deref().map(|t| {
                    t.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                });
                if stored_type.as_deref().is_some_and(|t| t != u.content_type) {
                    return Err(FieldError::new(
                        &field,
                        format!(
                            "was uploaded as another type than the declared {}",
                            u.content_type
                        ),
                    )
                    .into());
                }
                if looks_executable(&stored.bytes) {
                    return Err(
                        FieldError::new(&field, "is a program; programs cannot be sent").into(),
                    );
                }
                Ok(MailFile {
                    filename: u.filename.clone(),
                    content_type: u.content_type.clone(),
                    bytes: stored.bytes,
                })
            }
            Resolved::Forward {
                message,
                raw_key,
                info,
            } => {
                let field = format!("attachments[{i}]");
                let raw = self.raw_mail.raw(raw_key).await?;
                let mut file = self
                    .attachment_reader
                    .attachment(&raw, info.index)?
                    .ok_or_else(|| {
                        FieldError::new(
                            format!("{field}.index"),
                            format!("message {message:?} has no attachment {}", info.index),
                        )
                    })?;
                file.filename = filename(&file.filename)
                    .unwrap_or_else(|_| format!("attachment-{}", info.index));
                file.content_type = content_type(&file.content_type)
                    .unwrap_or_else(|_| "application/octet-stream".into());
                allowed(&file.filename, &file.content_type, &field)?;
                if looks_executable(&file.bytes) {
                    return Err(
                        FieldError::new(field, "is a program; programs cannot be sent").into(),
                    );
                }
                Ok(file)
            }
        }
    }
}

/// Upload and message ids are time-ordered ids (`time_ordered_id`: 20 digits,
/// `-`, 12 lowercase hex digits); anything else cannot exist.
fn time_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 33
        && b[..20].iter().all(u8::is_ascii_digit)
        && b[20] == b'-'
        && b[21..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// Highest attachment index a reply may name (as the download route).
pub const MAX_ATTACHMENT_INDEX: usize = 999;

/// Checks the shape of a reply's `attachments` (how many; each either an upload
/// id or a message id and an index), before anything is looked up.
pub fn check_refs(refs: &[AttachmentRef]) -> Result<(), FieldError> {
    if refs.len() > MAX_REPLY_ATTACHMENTS {
        return Err(FieldError::new(
            "attachments",
            format!("at most {MAX_REPLY_ATTACHMENTS} files"),
        ));
    }
    for (i, r) in refs.iter().enumerate() {
        let field = |f: &str| format!("attachments[{i}]{f}");
        match (&r.upload, &r.message, r.index) {
            (Some(id), None, None) if !time_id(id) => {
                return Err(FieldError::new(field(".upload"), "is not an upload id"))
            }
            (None, Some(id), Some(_)) if !time_id(id) => {
                return Err(FieldError::new(field(".message"), "is not a message id"))
            }
            (None, Some(_), Some(index)) if index > MAX_ATTACHMENT_INDEX => {
                return Err(FieldError::new(
                    field(".index"),
                    format!("must be 0 to {MAX_ATTACHMENT_INDEX}"),
                ))
            }
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            _ => {
                return Err(FieldError::new(
                    field(""),
                    "name either an upload (`upload`) or a message's attachment (`message` and `index`)",
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(filename: &str, content_type: &str, size: u64) -> NewUpload {
        NewUpload {
            filename: filename.into(),
            content_type: content_type.into(),
            size,
        }
    }

    #[test]
    fn uploads_are_checked_by_name_type_and_size() {
        let field = |u: NewUpload| u.check().unwrap_err().field;
        assert_eq!(field(upload("a.txt", " text/plain", 10)), "content_type");
        assert_eq!(
            field(upload(&"a".repeat(256), "text/plain", 10)),
            "filename"
        );
        assert_eq!(field(upload("  ", "text/plain", 10)), "filename");
        assert_eq!(
            upload(" Report.PDF ", "Application/PDF", 10).check(),
            Ok(("Report.PDF".into(), "application/pdf".into()))
        );
        assert_eq!(
            field(upload("setup.exe", "application/pdf", 10)),
            "filename"
        );
        assert_eq!(field(upload("run.Bat", "text/plain", 10)), "filename");
        assert_eq!(
            field(upload("a.bin", "application/x-msdownload", 10)),
            "filename"
        );
        assert_eq!(field(upload("", "text/plain", 10)), "filename");
        assert_eq!(field(upload("../etc/passwd", "text/plain", 10)), "filename");
        assert_eq!(field(upload("a\r\nb.txt", "text/plain", 10)), "filename");
        assert_eq!(
            field(upload("a.txt", "text/plain; charset=x", 10)),
            "content_type"
        );
        assert_eq!(field(upload("a.txt", "text", 10)), "content_type");
        assert_eq!(field(upload("a.txt", "text/plain", 0)), "size");
        assert_eq!(
            field(upload("a.txt", "text/plain", MAX_UPLOAD_BYTES + 1)),
            "size"
        );
        assert!(upload("a.txt", "text/plain", MAX_UPLOAD_BYTES)
            .check()
            .is_ok());
    }

    #[test]
    fn attachment_references_are_checked_for_shape_first() {
        let r = |v: serde_json::Value| -> AttachmentRef { serde_json::from_value(v).unwrap() };
        let id = "20261206172500123456-0a1b2c3d4e5f";
        let field = |refs: &[AttachmentRef]| check_refs(refs).unwrap_err().field;
        assert!(check_refs(&[
            r(serde_json::json!({"upload": id})),
            r(serde_json::json!({"message": id, "index": 999}))
        ])
        .is_ok());
        assert_eq!(
            field(&[r(serde_json::json!({"upload": "x"}))]),
            "attachments[0].upload"
        );
        assert_eq!(
            field(&[r(serde_json::json!({"upload": id.to_uppercase()}))]),
            "attachments[0].upload"
        );
        assert_eq!(
            field(&[r(serde_json::json!({"message": id, "index": 1000}))]),
            "attachments[0].index"
        );
        assert_eq!(
            field(&[r(serde_json::json!({"message": id}))]),
            "attachments[0]"
        );
        assert_eq!(
            field(&[r(
                serde_json::json!({"upload": id, "message": id, "index": 0})
            )]),
            "attachments[0]"
        );
        assert_eq!(
            field(&vec![r(serde_json::json!({"upload": id})); 11]),
            "attachments"
        );
    }

    #[test]
    fn programs_are_recognised_by_their_first_bytes() {
        assert!(looks_executable(b"MZ\x90\x00"));
        assert!(looks_executable(b"\x7fELF\x02"));
        assert!(!looks_executable(b"%PDF-1.7"));
        assert!(!looks_executable(b""));
    }

    #[test]
    fn the_estimate_holds_the_largest_upload_alone_and_refuses_two() {
        let one = MAX_UPLOAD_BYTES as usize;
        assert!(estimated_message_len(100_000, &[one]) <= MAX_MESSAGE_BYTES);
        assert!(estimated_message_len(0, &[one, one]) > MAX_MESSAGE_BYTES);
        // Base64 counts: 7.5 MB of files is over 10 MB in mail.
        assert!(estimated_message_len(0, &[3_750_000, 3_750_000]) > MAX_MESSAGE_BYTES);
    }
}
