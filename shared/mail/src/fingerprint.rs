//! What makes two receptions the same message: a fingerprint of its content.
//!
//! An SMTP retry, one mail to two desk addresses, the same mailbox read over
//! IMAP and forwarded to SES: each reception carries other transport headers
//! (`Received`, `Return-Path`, `DKIM-Signature`, `X-SES-*`, `Delivered-To`) and
//! may be re-encoded on the way (base64 ↔ quoted-printable, another charset),
//! but the sender, date, subject and every body part's decoded content stay.
//! Together with the Message-ID they recognise the message; a different mail
//! that reuses a Message-ID (senders do) has another fingerprint.

use mail_parser::{Message, PartType};
use sha2::{Digest, Sha256};

/// Hex of the first 16 bytes of SHA-256 over the sender, the date, the subject
/// and each leaf part's decoded content, in order. Text parts count as text
/// (line endings and trailing white space normalised), so a change of transfer
/// encoding or charset leaves the fingerprint alone; any change of content
/// changes it.
pub fn fingerprint(msg: &Message<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |name: &[u8], value: &[u8]| {
        h.update(name);
        h.update((value.len() as u64).to_be_bytes());
        h.update(value);
    };
    let from = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    field(b"from", from.as_bytes());
    let date = msg.date().map(|d| d.to_timestamp()).unwrap_or(i64::MIN);
    field(b"date", &date.to_be_bytes());
    field(b"subject", msg.subject().unwrap_or("").trim().as_bytes());
    for part in &msg.parts {
        match &part.body {
            PartType::Text(t) | PartType::Html(t) => {
                field(b"text", normalise_text(t).as_bytes());
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => field(b"binary", b),
            PartType::Message(m) => field(b"message", m.raw_message()),
            // Containers: their children are parts of their own.
            PartType::Multipart(_) => {}
        }
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// CRLF and LF alike, no trailing white space per line or at the end: what a
/// re-encoding on the way may change without changing the text.
fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn fp(raw: &str) -> String {
        fingerprint(&MessageParser::default().parse(raw.as_bytes()).unwrap())
    }

    const BASE: &str = "From: Carol <carol@example.com>\r\nTo: support@desk.example\r\nSubject: Printer on fire\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <a1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt smokes. Café closed.\r\n";

    #[test]
    fn transport_headers_leave_it_alone() {
        let relayed = format!(
            "Return-Path: <bounce@example.com>\r\nReceived: from mx1 by mx2; Tue, 01 Dec 2026 10:00:05 +0000\r\nDKIM-Signature: v=1; a=rsa-sha256; b=abc\r\nX-SES-Spam-Verdict: PASS\r\nDelivered-To: other@desk.example\r\n{BASE}"
        );
        assert_eq!(fp(BASE), fp(&relayed));
    }

    #[test]
    fn a_changed_body_changes_it() {
        assert_ne!(fp(BASE), fp(&BASE.replace("It smokes.", "It smoked.")));
        assert_ne!(fp(BASE), fp(&BASE.replace("Printer on fire", "Printer ok")));
        assert_ne!(fp(BASE), fp(&BASE.replace("10:00:00", "10:00:01")));
        assert_ne!(fp(BASE), fp(&BASE.replace("carol@", "dave@")));
    }
}
