//! Is this mail from a robot? Automatic answers to robots make mail loops, so
//! anything auto-generated is recorded but never answered automatically.

use serde::Serialize;

/// Why a mail counts as automatic; `None` for a person's mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "signal", rename_all = "snake_case")]
pub enum Automation {
    /// Out-of-office and similar (RFC 3834 `auto-replied`, `X-Autoreply`…).
    AutoReply(String),
    /// Other machine mail (`Auto-Submitted: auto-generated`, bulk, lists…).
    Robot(String),
    /// A delivery-status report (bounce).
    Bounce,
    /// Mail from one of the desk's own addresses.
    OwnMail,
}

const ROBOT_LOCALS: [&str; 8] = [
    "mailer-daemon",
    "postmaster",
    "no-reply",
    "noreply",
    "do-not-reply",
    "donotreply",
    "bounce",
    "bounces",
];

/// Classifies a mail from its headers (name, raw value), sender and content type.
pub fn classify(
    headers: &[(String, String)],
    sender: Option<&str>,
    is_dsn: bool,
    own_addresses: &[String],
) -> Option<Automation> {
    let header = |name: &str| -> Option<String> {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if is_dsn {
        return Some(Automation::Bounce);
    }
    if let Some(s) = sender {
        let s = s.to_ascii_lowercase();
        if own_addresses.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            return Some(Automation::OwnMail);
        }
    }
    if let Some(v) = header("auto-submitted") {
        let v = v.split(';').next().unwrap_or("").trim().to_string();
        if v == "auto-replied" {
            return Some(Automation::AutoReply("Auto-Submitted: auto-replied".into()));
        }
        if !v.is_empty() && v != "no" {
            return Some(Automation::Robot(format!("Auto-Submitted: {v}")));
        }
    }
    for h in ["x-autoreply", "x-autorespond", "x-autoresponder"] {
        if header(h).is_some() {
            return Some(Automation::AutoReply(h.into()));
        }
    }
    if let Some(p) = header("precedence") {
        if p == "auto_reply" {
            return Some(Automation::AutoReply("Precedence: auto_reply".into()));
        }
        if matches!(p.as_str(), "bulk" | "junk" | "list") {
            return Some(Automation::Robot(format!("Precedence: {p}")));
        }
    }
    if header("x-auto-response-suppress").is_some_and(|v| !v.is_empty() && v != "none") {
        return Some(Automation::Robot("X-Auto-Response-Suppress".into()));
    }
    for h in ["list-id", "list-unsubscribe"] {
        if header(h).is_some() {
            return Some(Automation::Robot(h.into()));
        }
    }
    if header("return-path").is_some_and(|v| {
        v.trim_matches(|c| c == '<' || c == '>' || c == ' ')
            .is_empty()
    }) {
        return Some(Automation::Robot("Return-Path: <>".into()));
    }
    if let Some(s) = sender {
        let local = s
            .rsplit_once('@')
            .map_or(s, |(l, _)| l)
            .to_ascii_lowercase();
        let base = local.split('+').next().unwrap_or("");
        if ROBOT_LOCALS.contains(&base) {
            return Some(Automation::Robot(format!("sender {base}")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn recognises_every_robot_signal() {
        let own = vec!["support@desk.example".to_string()];
        let person = Some("carol@example.com");
        assert_eq!(
            classify(&h(&[("Subject", "hi")]), person, false, &own),
            None
        );
        assert_eq!(
            classify(&h(&[("Auto-Submitted", "no")]), person, false, &own),
            None
        );
        for (name, value) in [
            ("Auto-Submitted", "auto-replied"),
            ("X-Autoreply", "yes"),
            ("X-Autorespond", "x"),
            ("Precedence", "auto_reply"),
        ] {
            assert!(
                matches!(
                    classify(&h(&[(name, value)]), person, false, &own),
                    Some(Automation::AutoReply(_))
                ),
                "{name}"
            );
        }
        for (name, value) in [
            ("Auto-Submitted", "auto-generated"),
            ("AUTO-SUBMITTED", "Auto-Notified; owner-email=x"),
            ("Precedence", "bulk"),
            ("Precedence", "junk"),
            ("Precedence", "list"),
            ("X-Auto-Response-Suppress", "All"),
            ("List-Id", "<dev.lists.example.com>"),
            ("List-Unsubscribe", "<mailto:u@example.com>"),
            ("Return-Path", "<>"),
        ] {
            assert!(
                matches!(
                    classify(&h(&[(name, value)]), person, false, &own),
                    Some(Automation::Robot(_))
                ),
                "{name}"
            );
        }
        for sender in [
            "MAILER-DAEMON@mx.example.com",
            "postmaster@example.com",
            "no-reply@shop.example",
            "noreply+x@a.example",
        ] {
            assert!(
                matches!(
                    classify(&[], Some(sender), false, &own),
                    Some(Automation::Robot(_))
                ),
                "{sender}"
            );
        }
        assert_eq!(
            classify(&[], Some("Support@Desk.Example"), false, &own),
            Some(Automation::OwnMail)
        );
        assert_eq!(classify(&[], person, true, &own), Some(Automation::Bounce));
    }
}
