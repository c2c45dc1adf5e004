//! Tolerant parsing of real-world mail with mail-parser: whatever arrives, a
//! `ParsedMail` comes out (missing or broken parts become empty values), and the
//! raw message is kept elsewhere untouched.

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

use crate::robots::{classify, Automation};

/// Storage limits: larger bodies are truncated for storage (the raw stays whole).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_text_chars: usize,
    pub max_html_chars: usize,
    pub max_subject_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: 100_000,
            max_html_chars: 200_000,
            max_subject_chars: 998,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: String,
    /// Lowercased domain; empty when the header had no usable address.
    pub address: String,
}

/// An attachment's metadata, as the domain stores it (the bytes stay in the raw).
pub use desk_domain::message::AttachmentInfo as Attachment;

/// SES's receipt verdicts, as headers it adds to received mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdicts {
    pub spam: bool,
    pub virus: bool,
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
}

/// A delivery-status report about mail we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bounce {
    pub failed_recipients: Vec<String>,
    /// Message-ID of the mail that bounced (from the returned headers).
    pub original_message_id: Option<String>,
    pub original_references: Vec<String>,
    pub original_subject: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedMail {
    /// RFC Message-ID without angle brackets (threading only: senders reuse or omit it).
    pub message_id: Option<String>,
    /// The content's fingerprint ([`crate::fingerprint`]): with the Message-ID,
    /// what recognises another reception of the same message. `None` when the
    /// mail did not parse.
    pub fingerprint: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    pub date: Option<DateTime<Utc>>,
    /// Clean text body (the text part, or the HTML's text when there is none).
    pub text: String,
    /// The HTML body as received (decoded, cut to the limits), if the mail had one.
    /// **Not sanitised**: show it to people only through
    /// [`clean_html`](crate::sanitize::clean_html), which the reader applies when it
    /// serves the message (so the display policy can change without re-ingesting).
    pub html_source: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Every header (name, decoded raw value), for rules and robot detection.
    pub headers: Vec<(String, String)>,
    pub automation: Option<Automation>,
    pub bounce: Option<Bounce>,
    pub verdicts: Verdicts,
    /// Some body or the subject was cut to the limits.
    pub truncated: bool,
}

fn mailboxes(addr: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(addr) = addr else { return vec![] };
    addr.iter()
        .filter_map(|a| {
            let address = a.address()?.trim();
            if address.is_empty() {
                return None;
            }
            let address = match address.rsplit_once('@') {
                // Most domains are lowercase ASCII already: no second copy for them.
                Some((_, d)) if d.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) => {
                    address.to_string()
                }
                Some((l, d)) => format!("{l}@{}", d.to_lowercase()),
                None => address.to_string(),
            };
            Some(Mailbox {
                name: a.name().unwrap_or("").trim().to_string(),
                address,
            })
        })
        .collect()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.trim_matches(|c| c == '<' || c == '>').to_string()],
        HeaderValue::TextList(l) => l
            .iter()
            .map(|t| t.trim_matches(|c| c == '<' || c == '>').to_string())
            .collect(),
        _ => vec![],
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn cut(s: &str, max: usize, truncated: &mut bool) -> String {
    // A string of at most `max` bytes has at most `max` characters: no need to count.
    if s.len() <= max {
        return s.to_string();
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => {
            *truncated = true;
            s[..i].to_string()
        }
        None => s.to_string(),
    }
}

/// A header value on one line: drops the line breaks of folding (`\r\n` and bare
/// `\n`) in one pass; a lone `\r` stays.
fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut lines = v.split('\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_some() {
            out.push_str(line.strip_suffix('\r').unwrap_or(line));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// ASCII-case-insensitive `contains` without lowercasing a copy.
fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `s` without `prefix`, compared ASCII-case-insensitively.
fn strip_prefix_ignore_ascii_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

fn verdicts(headers: &[(String, String)]) -> Verdicts {
    let fail = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("FAIL"))
    };
    let mut v = Verdicts {
        spam: fail("X-SES-Spam-Verdict"),
        virus: fail("X-SES-Virus-Verdict"),
        ..Default::default()
    };
    // Every mail has this header: read it without copies.
    if let Some(auth) = headers.iter().find(|(k, v)| {
        k.eq_ignore_ascii_case("Authentication-Results")
            && contains_ignore_ascii_case(v, "amazonses.com")
    }) {
        for part in auth.1.split(';') {
            let part = part.trim();
            let value = |p: &str| {
                strip_prefix_ignore_ascii_case(part, p).map(|r| {
                    r.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase()
                })
            };
            if let Some(x) = value("spf=") {
                v.spf = Some(x);
            } else if let Some(x) = value("dkim=") {
                v.dkim = Some(x);
            } else if let Some(x) = value("dmarc=") {
                v.dmarc = Some(x);
            }
        }
    }
    v
}

/// Reads `Final-Recipient` / `Action: failed` fields of a delivery-status body.
fn failed_recipients(status: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Per-recipient blocks are separated by blank lines.
    for block in status.replace("\r\n", "\n").split("\n\n") {
        let mut recipient = None;
        let mut failed = false;
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "final-recipient" | "original-recipient" if recipient.is_none() => {
                    let addr = v
                        .rsplit(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches(|c| c == '<' || c == '>');
                    if addr.contains('@') {
                        recipient = Some(addr.to_lowercase());
                    }
                }
                "action" => failed = v.trim().eq_ignore_ascii_case("failed"),
                _ => {}
            }
        }
        if let (Some(r), true) = (recipient, failed) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

fn header_in(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Parses `raw`. Never fails: unreadable input yields an empty mail.
pub fn parse(raw: &[u8], limits: &Limits, own_addresses: &[String]) -> ParsedMail {
    let mut truncated = false;
    let Some(msg) = MessageParser::default().parse(raw) else {
        return ParsedMail {
            message_id: None,
            fingerprint: None,
            in_reply_to: vec![],
            references: vec![],
            from: None,
            reply_to: None,
            to: vec![],
            cc: vec![],
            subject: String::new(),
            date: None,
            text: cut(
                &String::from_utf8_lossy(raw),
                limits.max_text_chars,
                &mut truncated,
            ),
            html_source: None,
            attachments: vec![],
            headers: vec![],
            automation: None,
            bounce: None,
            verdicts: Verdicts::default(),
            truncated,
        };
    };
    let mut headers: Vec<(String, String)> = Vec::with_capacity(msg.headers().len());
    headers.extend(
        msg.headers_raw()
            .map(|(k, v)| (k.to_string(), unfold(v.trim()))),
    );
    let from = mailboxes(msg.from()).into_iter().next();
    let mut subject = msg.subject().unwrap_or("").trim().to_string();
    if subject.contains('\u{FFFD}') {
        // 8-bit bytes in the header, or a character split across encoded words.
        if let Some(raw_subject) = crate::headers::raw_header(raw, "Subject") {
            subject = crate::headers::decode_value(&raw_subject);
        }
    }
    let subject = cut(&subject, limits.max_subject_chars, &mut truncated);

    // Bounces: multipart/report; report-type=delivery-status.
    let is_report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    });
    let mut bounce = None;
    if is_report {
        let mut failed = Vec::new();
        let mut original: Option<(Option<String>, Vec<String>, String)> = None;
        for part in msg.parts.iter() {
            let Some(ct) = part.content_type() else {
                continue;
            };
            let kind =
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
            if kind == "message/delivery-status" || kind == "message/global-delivery-status" {
                failed.extend(failed_recipients(&String::from_utf8_lossy(part.contents())));
            } else if let PartType::Message(inner) = &part.body {
                original = Some((
                    inner.message_id().map(str::to_string),
                    ids(inner.references()),
                    inner.subject().unwrap_or("").to_string(),
                ));
            } else if kind == "text/rfc822-headers" && original.is_none() {
                let text = String::from_utf8_lossy(part.contents()).to_string();
                original = Some((
                    header_in(&text, "Message-ID")
                        .map(|v| v.trim_matches(|c| c == '<' || c == '>').to_string()),
                    header_in(&text, "References")
                        .map(|r| {
                            r.split_whitespace()
                                .map(|x| x.trim_matches(|c| c == '<' || c == '>').to_string())
                                .collect()
                        })
                        .unwrap_or_default(),
                    header_in(&text, "Subject").unwrap_or_default(),
                ));
            }
        }
        let (original_message_id, original_references, original_subject) =
            original.unwrap_or((None, vec![], String::new()));
        bounce = Some(Bounce {
            failed_recipients: failed,
            original_message_id,
            original_references,
            original_subject,
        });
    }

    // Each body is extracted once (mail-parser converts HTML to text when there is
    // no text part, which is not cheap).
    let mut text = msg
        .body_text(0)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if bounce.is_none() {
        bounce = qmail_bounce(&text, from.as_ref().map(|m| m.address.as_str()));
    }

    // Sanitising is left to the reader (`sanitize::clean_html`): ingest only needs
    // the source, to tell inline images from attachments. Without an HTML part
    // mail-parser would convert the text to HTML, for nothing.
    let has_html =
        msg.html_body_count() > 0 && msg.html_bodies().any(|p| p.is_content_type("text", "html"));
    let html_source = if has_html {
        msg.body_html(0).unwrap_or_default()
    } else {
        Default::default()
    };
    if let Some(part) = msg.text_part(0) {
        if part
            .content_transfer_encoding()
            .is_some_and(|c| c.eq_ignore_ascii_case("base64"))
        {
            if let Some(fixed) = lenient_base64_text(
                &text,
                part.content_type().and_then(|c| c.attribute("charset")),
            ) {
                text = fixed;
            }
        }
    }
    let text = cut(&text, limits.max_text_chars, &mut truncated);
    let attachments = crate::attachment::listed(&msg)
        .enumerate()
        .map(|(index, part)| {
            let content_type = crate::attachment::content_type(part);
            let content_id = part
                .content_id()
                .map(|c| c.trim_matches(|x| x == '<' || x == '>').to_string());
            let inline = content_id
                .as_ref()
                .is_some_and(|cid| html_source.contains(&format!("cid:{cid}")));
            Attachment {
                index,
                filename: part.attachment_name().unwrap_or("").to_string(),
                content_type,
                size: part.len(),
                content_id,
                inline,
            }
        })
        .collect();

    let html_source = has_html.then(|| cut(&html_source, limits.max_html_chars, &mut truncated));
    let sender = from.as_ref().map(|m| m.address.clone());
    let automation = classify(&headers, sender.as_deref(), bounce.is_some(), own_addresses);
    let date = msg
        .date()
        .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single());
    ParsedMail {
        message_id: msg
            .message_id()
            .map(|m| m.trim_matches(|c| c == '<' || c == '>').to_string()),
        fingerprint: Some(crate::fingerprint::fingerprint(&msg)),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        reply_to: mailboxes(msg.reply_to()).into_iter().next(),
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        from,
        subject,
        date,
        text,
        html_source,
        attachments,
        verdicts: verdicts(&headers),
        headers,
        automation,
        bounce,
        truncated,
    }
}

/// A base64 body the strict decoder left encoded (bad padding, stray blank lines
/// or trailing junk): decode what is base64 and read it in the part's charset.
fn lenient_base64_text(text: &str, charset: Option<&str>) -> Option<String> {
    use base64::Engine;
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=';
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    // Only when it still looks encoded: long, and (nearly) all base64 characters.
    let encoded = compact.chars().filter(|c| alphabet(*c)).count();
    if compact.len() < 16 || encoded * 100 < compact.len() * 95 {
        return None;
    }
    let mut clean: String = compact
        .chars()
        .filter(|c| alphabet(*c) && *c != '=')
        .collect();
    clean.truncate(
        clean.len() - clean.len() % 4
            + if clean.len() % 4 >= 2 {
                clean.len() % 4
            } else {
                0
            },
    );
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = engine.decode(clean.as_bytes()).ok()?;
    let enc = charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (decoded, _, had_errors) = enc.decode(&bytes);
    (!had_errors).then(|| decoded.trim().to_string())
}

/// qmail's plain-text bounce: "<addr>:" lines, then "--- Below this line is a
/// copy of the message." and the returned message.
fn qmail_bounce(text: &str, sender: Option<&str>) -> Option<Bounce> {
    let sender = sender?.to_ascii_lowercase();
    if !(sender.starts_with("mailer-daemon@") || sender.starts_with("postmaster@")) {
        return None;
    }
    let (report, copy) = text.split_once("--- Below this line is a copy of the message.")?;
    let failed: Vec<String> = report
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('<')?
                .strip_suffix(">:")
                .map(str::to_lowercase)
        })
        .filter(|a| a.contains('@'))
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(Bounce {
        failed_recipients: failed,
        original_message_id: header_in(copy.trim_start(), "Message-ID")
            .map(|v| v.trim_matches(|c| c == '<' || c == '>').to_string()),
        original_references: vec![],
        original_subject: header_in(copy.trim_start(), "Subject").unwrap_or_default(),
    })
}

/// The ticket number tagged in a subject as `[#1001]`, if any.
pub fn subject_tag(subject: &str) -> Option<desk_domain::TicketNumber> {
    let start = subject.find("[#")? + 2;
    let len = subject[start..].find(']')?;
    desk_domain::TicketNumber::parse(&subject[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plain_reply() {
        let raw = b"From: Carol <carol@Example.COM>\r\nTo: support@desk.example\r\nSubject: Re: [#1001] Printer\r\nMessage-ID: <abc@mail.example.com>\r\nIn-Reply-To: <reply-1@desk.example>\r\nReferences: <x@y> <reply-1@desk.example>\r\n\r\nStill broken.\r\n";
        let m = parse(raw, &Limits::default(), &[]);
        assert_eq!(m.from.as_ref().unwrap().address, "carol@example.com");
        assert_eq!(m.from.as_ref().unwrap().name, "Carol");
        assert_eq!(m.subject, "Re: [#1001] Printer");
        assert_eq!(m.message_id.as_deref(), Some("abc@mail.example.com"));
        assert_eq!(m.in_reply_to, ["reply-1@desk.example"]);
        assert_eq!(m.references, ["x@y", "reply-1@desk.example"]);
        assert_eq!(m.text, "Still broken.");
        assert_eq!(m.automation, None);
        assert_eq!(subject_tag(&m.subject).map(|n| n.get()), Some(1001));
    }

    #[test]
    fn garbage_never_panics_and_limits_truncate() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"no headers at all",
            b"Subject: =?UTF-8?B?broken",
            b"From:\r\n\r\n",
        ] {
            let _ = parse(raw, &Limits::default(), &[]);
        }
        let big = format!("Subject: big\r\n\r\n{}", "x".repeat(1000));
        let m = parse(
            big.as_bytes(),
            &Limits {
                max_text_chars: 100,
                ..Limits::default()
            },
            &[],
        );
        assert_eq!(m.text.chars().count(), 100);
        assert!(m.truncated);
    }

    #[test]
    fn reads_ses_verdicts_whatever_the_case() {
        let headers = |auth: &str| {
            vec![
                ("x-ses-spam-verdict".to_string(), " fail ".to_string()),
                ("X-SES-Virus-Verdict".to_string(), "PASS".to_string()),
                ("Authentication-Results".to_string(), auth.to_string()),
            ]
        };
        let v = verdicts(&headers(
            "AmazonSES.com; SPF=Fail (spfCheck) smtp.mailfrom=x; DKIM=pass header.i=@x; dmarc=None header.from=x",
        ));
        assert!(v.spam && !v.virus);
        assert_eq!(v.spf.as_deref(), Some("fail"));
        assert_eq!(v.dkim.as_deref(), Some("pass"));
        assert_eq!(v.dmarc.as_deref(), Some("none"));
        // Another server's results are not SES's verdicts.
        let other = verdicts(&headers("mx.example.org; spf=pass"));
        assert_eq!(other.spf, None);
    }

    #[test]
    fn unfolds_like_removing_crlf_then_lf() {
        for v in [
            "",
            "plain",
            "a\r\n b",
            "a\n b\r\n\tc",
            "a\r b",
            "a\r\r\n b",
            "\n\r\n",
            "trailing\r",
            "é\r\n ü",
        ] {
            assert_eq!(unfold(v), v.replace("\r\n", "").replace('\n', ""), "{v:?}");
        }
    }

    #[test]
    fn keeps_the_html_source_for_the_reader_to_sanitise() {
        let raw = "From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p onclick=\"x()\">Hello <b>agent</b><script>alert(1)</script><img src=\"cid:logo@x\"></p>\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
        let m = parse(raw.as_bytes(), &Limits::default(), &[]);
        let source = m.html_source.as_deref().expect("an HTML body");
        // Stored as received ...
        assert!(source.contains("<script>"), "{source}");
        // ... the text comes from the HTML, and the image counts as inline ...
        assert!(m.text.contains("Hello agent"), "{}", m.text);
        assert_eq!(m.attachments.len(), 1);
        assert!(m.attachments[0].inline);
        // ... and what is shown is sanitised.
        let shown = crate::sanitize::clean_html(source);
        assert!(
            !shown.contains("script") && !shown.contains("onclick"),
            "{shown}"
        );
        assert!(shown.contains("<b>agent</b>"), "{shown}");

        // A text-only mail has no HTML source.
        let plain = parse(
            b"From: a@example.com\r\n\r\nhi\r\n",
            &Limits::default(),
            &[],
        );
        assert_eq!(plain.html_source, None);
    }

    #[test]
    fn reads_delivery_status_reports() {
        let raw = "From: MAILER-DAEMON@mx.example.com\r\nTo: support@desk.example\r\nSubject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; carol@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <session-link-s123-456-789@desk.example>\r\nSubject: [#1001] Your session\r\n--b--\r\n";
        let m = parse(raw.as_bytes(), &Limits::default(), &[]);
        let b = m.bounce.expect("a bounce");
        assert_eq!(b.failed_recipients, ["carol@example.com"]);
        assert_eq!(
            b.original_message_id.as_deref(),
            Some("session-link-s123-456-789@desk.example")
        );
        assert_eq!(m.automation, Some(Automation::Bounce));
    }
}
