//! The MIME of mail the desk sends (mail-builder): From the desk's address, the
//! Message-ID the desk gave it, for replies Reply-To and the thread headers, a
//! text part with an HTML part beside it, and files attached. Plain logic, no
//! I/O: the API builds a reply's MIME when the reply is written (so what is
//! stored is what is sent) and the mailer builds other mail when it sends.

use base64::Engine;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

use crate::error::{DeskError, DeskResult};
use crate::outbound::OutgoingMail;
use crate::types::EmailAddress;

/// A file attached to outgoing mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub filename: String,
    /// A checked `type/subtype` (`crate::mail::attachments::content_type`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Base64 line length in MIME (RFC 2045: at most 76 characters).
const LINE: usize = 76;

/// How many bytes `n` bytes take base64-encoded in MIME lines, each with its CRLF.
pub fn encoded_len(n: usize) -> usize {
    let chars = n.div_ceil(3) * 4;
    chars + chars.div_ceil(LINE) * 2
}

/// `bytes` base64-encoded in 76-character lines joined by CRLF.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    for (i, line) in encoded.as_bytes().chunks(LINE).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        // Base64 is ASCII.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
    }
    out
}

/// One attachment part, always base64 (whatever its type): mail-builder would
/// send a text file as 7bit or quoted-printable and its line ends could change
/// on the way; base64 keeps every file byte for byte.
fn attachment_part(file: &MailFile) -> MimePart<'_> {
    MimePart::new(
        ContentType::new(file.content_type.as_str()).attribute("name", file.filename.as_str()),
        base64_lines(&file.bytes),
    )
    .attachment(file.filename.as_str())
    .transfer_encoding("base64")
}

/// Builds the raw MIME of `mail` from the desk's address, with `files`
/// attached after the text (and HTML) part.
pub fn mime(from: &EmailAddress, mail: &OutgoingMail, files: &[MailFile]) -> DeskResult<Vec<u8>> {
    let mut builder = mail_builder::MessageBuilder::new()
        .from(from.as_str())
        .to(mail.to.iter().map(|a| a.as_str()).collect::<Vec<_>>())
        .subject(mail.subject.as_str())
        .message_id(mail.rfc_message_id(from));
    if files.is_empty() {
        builder = builder.text_body(mail.text.as_str());
        if let Some(html) = &mail.html {
            builder = builder.html_body(html.as_str());
        }
    } else {
        let text = MimePart::new("text/plain", mail.text.as_str());
        let body = match &mail.html {
            Some(html) => MimePart::new(
                "multipart/alternative",
                vec![text, MimePart::new("text/html", html.as_str())],
            ),
            None => text,
        };
        let mut parts = vec![body];
        parts.extend(files.iter().map(attachment_part));
        builder = builder.body(MimePart::new("multipart/mixed", parts));
    }
    if !mail.cc.is_empty() {
        builder = builder.cc(mail.cc.iter().map(|a| a.as_str()).collect::<Vec<_>>());
    }
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.as_str());
    }
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(parent.as_str());
    }
    if !mail.references.is_empty() {
        builder = builder.references(
            mail.references
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
    }
    if let Some(auto) = &mail.auto_submitted {
        builder = builder.header("Auto-Submitted", Raw::new(auto.as_str()));
        // Ask other robots not to answer (Microsoft's header).
        builder = builder.header("X-Auto-Response-Suppress", Raw::new("All"));
    }
    builder
        .write_to_vec()
        .map_err(|e| DeskError::Storage(format!("build mail: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_lengths_count_base64_growth_and_line_ends() {
        for n in [0, 1, 2, 3, 56, 57, 58, 1000, 7_000_000] {
            // The last line's CRLF is the boundary's.
            let lines = base64_lines(&vec![7u8; n]).len();
            assert_eq!(encoded_len(n), if n == 0 { 0 } else { lines + 2 }, "{n}");
        }
        assert_eq!(encoded_len(57), 78);
        assert_eq!(encoded_len(58), 84);
    }
}
