//! Golden test over the real-world-style corpus in `tests/mail/`: every `.eml`
//! parses, and what the parser makes of it matches `tests/mail/expected.json`
//! (sender, decoded subject, robot / bounce classification, threading signal,
//! attachments, SES verdicts, a distinctive piece of the body).

use std::path::PathBuf;

use desk_mail::parse::subject_tag;
use desk_mail::sanitize::clean_html;
use desk_mail::{parse, Limits, ReplyToken};
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/mail")
}

const OWN: &str = "support@desk.example";

/// A recipient shaped like a desk reply token (valid or not): `support+t<n>.<sig>@desk.example`.
fn token_shaped(address: &str) -> bool {
    address.to_ascii_lowercase().ends_with("@desk.example")
        && address
            .split_once('+')
            .is_some_and(|(_, tag)| tag.starts_with('t') && tag.contains('.'))
}

/// The strongest threading signal the mail carries, in the order the desk
/// trusts them (whether it verifies is checked separately).
fn thread_signal(m: &desk_mail::ParsedMail) -> &'static str {
    let recipients = m.to.iter().chain(m.cc.iter());
    let desk_id = |id: &String| id.to_ascii_lowercase().ends_with("@desk.example");
    if recipients.clone().any(|r| token_shaped(&r.address)) {
        "token"
    } else if m.in_reply_to.iter().chain(m.references.iter()).any(desk_id) {
        "in_reply_to"
    } else if subject_tag(&m.subject).is_some() {
        "subject_tag"
    } else {
        "none"
    }
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn every_fixture_matches_its_golden_expectation() {
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("expected.json")).expect("tests/mail/expected.json"),
    )
    .expect("expected.json is JSON");
    assert!(expected.len() >= 40, "the corpus has at least 40 messages");
    let token = ReplyToken::new(b"fixture-key".to_vec());
    let sig = token.token(desk_domain::TicketNumber::new(1001).expect("number"));
    let mut failures = Vec::new();
    for e in &expected {
        let file = e["file"].as_str().expect("file");
        let raw = std::fs::read(corpus().join(file)).unwrap_or_else(|err| panic!("{file}: {err}"));
        // The corpus writes the reply token's signature as a placeholder (replaced
        // byte-wise: the files hold 8-bit text in many charsets).
        let raw = replace_bytes(&raw, b"t1001.SIGNATURE", sig.as_bytes());
        let m = parse(&raw, &Limits::default(), &[OWN.to_string()]);
        let mut check = |what: &str, ok: bool, got: String| {
            if !ok {
                failures.push(format!("{file}: {what}: got {got}, expected {}", e[what]));
            }
        };
        let from = m.from.as_ref().map(|f| f.address.to_lowercase());
        check(
            "from",
            e["from"].as_str().map(str::to_lowercase) == from,
            format!("{from:?}"),
        );
        check(
            "subject",
            e["subject"].as_str() == Some(m.subject.as_str()),
            format!("{:?}", m.subject),
        );
        let auto = m.automation.is_some();
        check(
            "auto_generated",
            e["auto_generated"].as_bool() == Some(auto),
            format!("{:?}", m.automation),
        );
        let bounce = m
            .bounce
            .as_ref()
            .and_then(|b| b.failed_recipients.first().cloned());
        check(
            "bounce_recipient",
            e["bounce_recipient"].as_str().map(str::to_lowercase) == bounce,
            format!("{bounce:?}"),
        );
        let signal = thread_signal(&m);
        check(
            "thread_signal",
            e["thread_signal"].as_str() == Some(signal),
            signal.to_string(),
        );
        if signal == "token" {
            // Our own signature verifies; the forged one does not.
            let domains = vec!["desk.example".to_string()];
            let verifies =
                m.to.iter()
                    .chain(m.cc.iter())
                    .any(|r| token.ticket_in(&r.address, &domains).is_some());
            check(
                "thread_signal",
                verifies != file.contains("forged"),
                format!("token verifies: {verifies}"),
            );
        }
        let files = m.attachments.iter().filter(|a| !a.inline).count();
        let inline = m.attachments.iter().filter(|a| a.inline).count();
        check(
            "attachments",
            e["attachments"].as_u64() == Some(files as u64),
            files.to_string(),
        );
        check(
            "inline_images",
            e["inline_images"].as_u64() == Some(inline as u64),
            inline.to_string(),
        );
        check(
            "spam",
            e["spam"].as_bool() == Some(m.verdicts.spam),
            m.verdicts.spam.to_string(),
        );
        check(
            "virus",
            e["virus"].as_bool() == Some(m.verdicts.virus),
            m.verdicts.virus.to_string(),
        );
        // The HTML as an agent sees it: sanitised when served.
        let shown_html = m.html_source.as_deref().map(clean_html);
        if let Some(needle) = e["text_contains"].as_str() {
            let found = m.text.contains(needle)
                || shown_html.as_deref().is_some_and(|h| h.contains(needle));
            check(
                "text_contains",
                found,
                format!("text {:?}", m.text.chars().take(200).collect::<String>()),
            );
        }
        // Nothing dangerous survives in the HTML we show.
        if let Some(h) = &shown_html {
            let lower = h.to_lowercase();
            check(
                "text_contains",
                !lower.contains("<script") && !lower.contains("javascript:"),
                "unsafe html".into(),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
