//! The content fingerprint that recognises another reception of one message:
//! transport headers and re-encoding leave it alone; any change of a body part,
//! the sender, the date or the subject changes it.

use base64::Engine;
use desk_mail::fingerprint::fingerprint;
use mail_parser::MessageParser;
use proptest::prelude::*;

fn fp(raw: &str) -> String {
    fingerprint(
        &MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses"),
    )
}

/// Quoted-printable, as a relay that re-encodes would write it (soft breaks at 76).
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for b in text.replace('\n', "\r\n").bytes() {
        let piece = match b {
            b'\r' | b'\n' => {
                out.push(b as char);
                line = 0;
                continue;
            }
            b'=' => "=3D".to_string(),
            33..=126 | b' ' => (b as char).to_string(),
            _ => format!("={b:02X}"),
        };
        if line + piece.len() > 75 {
            out.push_str("=\r\n");
            line = 0;
        }
        line += piece.len();
        out.push_str(&piece);
    }
    out
}

fn base64_lines(bytes: &[u8]) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(bytes);
    b.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A mail with a text body and a binary attachment, its parts encoded as asked,
/// after the given transport headers.
fn mail(
    transport: &[String],
    subject: &str,
    text: &str,
    file: &[u8],
    text_in_base64: bool,
) -> String {
    let mut m = String::new();
    for h in transport {
        m.push_str(h);
        m.push_str("\r\n");
    }
    m.push_str("From: Carol <carol@example.com>\r\nTo: support@desk.example\r\n");
    m.push_str(&format!(
        "Subject: {subject}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
    ));
    m.push_str("Message-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\n");
    m.push_str("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n");
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    if text_in_base64 {
        m.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        m.push_str(&base64_lines(text.as_bytes()));
    } else {
        m.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        m.push_str(&quoted_printable(text));
    }
    m.push_str("\r\n--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n");
    m.push_str("Content-Disposition: attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.push_str(&base64_lines(file));
    m.push_str("\r\n--b1--\r\n");
    m
}

fn transport_header() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "Received",
            "Return-Path",
            "DKIM-Signature",
            "X-SES-Spam-Verdict",
            "X-SES-Receipt",
            "Delivered-To",
            "X-Original-To",
            "ARC-Seal",
        ]),
        "[a-zA-Z0-9 ;=.@<>-]{1,60}",
    )
        .prop_map(|(name, value)| format!("{name}: {value}"))
}

fn body_text() -> impl Strategy<Value = String> {
    // Words, accents, punctuation and line breaks; no trailing white space
    // (a relay may drop it, so the fingerprint ignores it).
    prop::collection::vec("[a-zA-Z0-9àéüß€=.,!?]{1,12}", 1..40).prop_map(|w| {
        w.iter()
            .enumerate()
            .map(|(i, w)| {
                if i % 9 == 8 {
                    format!("{w}\n")
                } else {
                    format!("{w} ")
                }
            })
            .collect::<String>()
            .trim_end()
            .to_string()
    })
}

proptest! {
    #[test]
    fn transport_headers_and_re_encoding_leave_it_alone(
        text in body_text(),
        file in prop::collection::vec(any::<u8>(), 0..300),
        first in prop::collection::vec(transport_header(), 0..6),
        second in prop::collection::vec(transport_header(), 0..6),
    ) {
        let a = mail(&first, "Printer", &text, &file, false);
        let b = mail(&second, "Printer", &text, &file, true);
        prop_assert_eq!(fp(&a), fp(&b));
    }

    #[test]
    fn any_change_of_a_body_part_changes_it(
        text in body_text(),
        file in prop::collection::vec(any::<u8>(), 1..300),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let original = fp(&mail(&[], "Printer", &text, &file, false));
        // One byte of the attachment.
        let mut changed = file.clone();
        let i = at.index(changed.len());
        changed[i] ^= flip;
        prop_assert_ne!(&original, &fp(&mail(&[], "Printer", &text, &changed, false)));
        // One word of the text.
        let edited = format!("{text} x");
        prop_assert_ne!(&original, &fp(&mail(&[], "Printer", &edited, &file, false)));
        // The subject.
        prop_assert_ne!(&original, &fp(&mail(&[], "Printer!", &text, &file, false)));
    }
}
