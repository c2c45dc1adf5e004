//! Fallback header decoding for what real mail gets wrong: raw 8-bit bytes in
//! headers (read as Windows-1252, as mail clients do) and one multibyte character
//! split across two encoded words (RFC 2047 says that cannot happen; it does).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The raw bytes of header `name` (unfolded), from the header block of `raw`.
pub fn raw_header(raw: &[u8], name: &str) -> Option<Vec<u8>> {
    let end = find(raw, b"\r\n\r\n")
        .or_else(|| find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let block = &raw[..end];
    let mut out: Option<Vec<u8>> = None;
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match (&mut out, line.first()) {
            (Some(v), Some(b' ' | b'\t')) => v.extend_from_slice(line),
            (Some(_), _) => break,
            (None, _) => {
                if let Some(colon) = line.iter().position(|b| *b == b':') {
                    if line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
                        out = Some(line[colon + 1..].to_vec());
                    }
                }
            }
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn decode_charset(label: &str, bytes: &[u8]) -> String {
    let enc =
        encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::WINDOWS_1252);
    enc.decode(bytes).0.into_owned()
}

fn q_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'='),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Decodes a header value: invalid UTF-8 is read as Windows-1252, then encoded
/// words are decoded, joining adjacent words of one charset before decoding.
pub fn decode_value(raw: &[u8]) -> String {
    let text = match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(raw).0.into_owned(),
    };
    let mut out = String::new();
    // Pending bytes of consecutive encoded words in one charset.
    let mut pending: Option<(String, Vec<u8>)> = None;
    let mut rest = text.as_str();
    let mut gap = String::new();
    while let Some(start) = rest.find("=?") {
        let word = &rest[start + 2..];
        let parsed = (|| {
            let (charset, r) = word.split_once('?')?;
            let (enc, r) = r.split_once('?')?;
            let end = r.find("?=")?;
            Some((
                charset.split('*').next().unwrap_or(charset).to_string(),
                enc.to_ascii_uppercase(),
                &r[..end],
                start + 2 + charset.len() + 1 + enc.len() + 1 + end + 2,
            ))
        })();
        let Some((charset, enc, payload, consumed)) = parsed else {
            gap.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        };
        let before = format!("{gap}{}", &rest[..start]);
        gap.clear();
        let bytes = match enc.as_str() {
            "B" => STANDARD
                .decode(
                    payload.trim_end_matches('=').to_string()
                        + &"=".repeat((4 - payload.trim_end_matches('=').len() % 4) % 4),
                )
                .unwrap_or_default(),
            _ => q_decode(payload),
        };
        // White space between two encoded words is dropped (RFC 2047 §6.2).
        let joins = pending
            .as_ref()
            .is_some_and(|(c, _)| c.eq_ignore_ascii_case(&charset))
            && before.trim().is_empty();
        if joins {
            if let Some((_, b)) = pending.as_mut() {
                b.extend_from_slice(&bytes);
            }
        } else {
            if let Some((c, b)) = pending.take() {
                out.push_str(&decode_charset(&c, &b));
            }
            out.push_str(&before);
            pending = Some((charset, bytes));
        }
        rest = &rest[consumed..];
    }
    if let Some((c, b)) = pending.take() {
        out.push_str(&decode_charset(&c, &b));
    }
    out.push_str(&gap);
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_split_multibyte_words_and_reads_8bit_as_windows_1252() {
        assert_eq!(
            decode_value(
                b" =?UTF-8?B?w5xiZXJ3ZWlzdW5nIGbD?=\r\n =?UTF-8?B?vHIgTcOkcnogZXJoYWx0ZW4/?="
            ),
            "Überweisung für März erhalten?"
        );
        assert_eq!(decode_value(b" R\xe9servation salle"), "Réservation salle");
        assert_eq!(
            decode_value(b"=?ISO-8859-1?Q?Caf=E9_cr=E8me?= ok"),
            "Café crème ok"
        );
        assert_eq!(decode_value(b"Plain subject"), "Plain subject");
        assert_eq!(decode_value(b"a =?bogus"), "a =?bogus");
    }

    #[test]
    fn finds_folded_headers() {
        let raw = b"From: a@b.c\r\nSubject: one\r\n two\r\nTo: x@y.z\r\n\r\nSubject: body";
        assert_eq!(raw_header(raw, "subject").unwrap(), b" one two");
        assert_eq!(raw_header(raw, "cc"), None);
    }
}
