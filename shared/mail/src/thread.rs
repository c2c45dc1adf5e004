//! The threading signals of an incoming mail, strongest first (SPEC §3): a signed
//! token in a recipient address, `In-Reply-To` / `References` ids, and the
//! `[#1001]` subject tag. Storage lookups decide what they point to.

use desk_domain::rules::{CompiledRules, Evaluation, RuleInput, RuleInputRef};
use desk_domain::{EmailAddress, TicketNumber};

use crate::parse::{subject_tag, ParsedMail};
use crate::token::ReplyToken;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signals {
    /// The ticket a valid reply token names.
    pub token: Option<TicketNumber>,
    /// A token-shaped recipient whose signature does not verify (forged or stale).
    pub forged_token: bool,
    /// `In-Reply-To` then `References` ids, most recent first, without duplicates.
    pub message_ids: Vec<String>,
    /// `[#n]` in the subject: counts only from the ticket's customer or a participant.
    pub subject_tag: Option<TicketNumber>,
}

/// Every recipient of `mail`: To, Cc, then the SMTP `envelope`.
pub fn recipients<'a>(
    mail: &'a ParsedMail,
    envelope: &'a [String],
) -> impl Iterator<Item = &'a str> {
    mail.to
        .iter()
        .chain(mail.cc.iter())
        .map(|m| m.address.as_str())
        .chain(envelope.iter().map(String::as_str))
}

/// Reads the signals of `mail`. `envelope` are the SMTP recipients (SES reports
/// them; Bcc'd desk addresses appear only there).
pub fn signals(
    mail: &ParsedMail,
    envelope: &[String],
    token: &ReplyToken,
    desk_domains: &[String],
) -> Signals {
    let mut s = Signals::default();
    for r in recipients(mail, envelope) {
        match token.ticket_in(r, desk_domains) {
            Some(n) if s.token.is_none() => s.token = Some(n),
            Some(_) => {}
            None => {
                let shaped = r.rsplit_once('@').is_some_and(|(local, domain)| {
                    desk_domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
                        && local.split_once('+').is_some_and(|(_, tag)| {
                            tag.starts_with(['t', 'T']) && tag.contains('.')
                        })
                });
                s.forged_token |= shaped;
            }
        }
    }
    for id in mail.in_reply_to.iter().chain(mail.references.iter().rev()) {
        if !s.message_ids.contains(id) && s.message_ids.len() < 50 {
            s.message_ids.push(id.clone());
        }
    }
    s.subject_tag = subject_tag(&mail.subject);
    s
}

/// What the rules see of a mail, borrowing its subject, body and headers: only
/// the addresses are parsed. `None` without a usable sender address (as
/// [`rule_input`]).
pub struct RuleView<'m> {
    mail: &'m ParsedMail,
    sender: EmailAddress,
    to: Vec<EmailAddress>,
    cc: Vec<EmailAddress>,
}

impl<'m> RuleView<'m> {
    pub fn new(mail: &'m ParsedMail) -> Option<Self> {
        let sender = EmailAddress::parse(&mail.from.as_ref()?.address).ok()?;
        Some(RuleView {
            mail,
            sender,
            to: addresses(&mail.to),
            cc: addresses(&mail.cc),
        })
    }

    pub fn input(&self) -> RuleInputRef<'_> {
        RuleInputRef {
            sender: &self.sender,
            to: &self.to,
            cc: &self.cc,
            subject: &self.mail.subject,
            body: &self.mail.text,
            headers: &self.mail.headers,
        }
    }

    /// The rule that applies to the mail (ingest's path: nothing copied).
    pub fn evaluate(&self, rules: &CompiledRules) -> Evaluation {
        rules.evaluate_ref(self.input())
    }
}

fn addresses(list: &[crate::parse::Mailbox]) -> Vec<EmailAddress> {
    list.iter()
        .filter_map(|m| EmailAddress::parse(&m.address).ok())
        .collect()
}

/// What the rules see of a mail, as an owned sample (e.g. for a dry run); `None`
/// without a usable sender address.
pub fn rule_input(mail: &ParsedMail) -> Option<RuleInput> {
    let sender = EmailAddress::parse(&mail.from.as_ref()?.address).ok()?;
    Some(RuleInput {
        sender,
        to: addresses(&mail.to),
        cc: addresses(&mail.cc),
        subject: mail.subject.clone(),
        body: mail.text.clone(),
        headers: mail.headers.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Limits};

    #[test]
    fn reads_token_ids_and_tag_in_order() {
        let t = ReplyToken::new(b"k".to_vec());
        let n = TicketNumber::new(1001).unwrap();
        let addr = t.reply_to(&EmailAddress::parse("support@desk.example").unwrap(), n);
        let raw = format!(
            "From: carol@example.com\r\nTo: {addr}\r\nCc: support+t1002.0000000000000000@desk.example\r\nSubject: Re: [#1003] x\r\nIn-Reply-To: <a@desk.example>\r\nReferences: <z@desk.example> <a@desk.example>\r\n\r\nhi\r\n"
        );
        let m = parse(raw.as_bytes(), &Limits::default(), &[]);
        let s = signals(&m, &[], &t, &["desk.example".into()]);
        assert_eq!(s.token, Some(n));
        assert!(s.forged_token);
        assert_eq!(s.message_ids, ["a@desk.example", "z@desk.example"]);
        assert_eq!(s.subject_tag.map(|n| n.get()), Some(1003));
        assert_eq!(rule_input(&m).unwrap().sender.as_str(), "carol@example.com");
        // The borrowed view reads the same mail as the owned input.
        let view = RuleView::new(&m).unwrap();
        let owned = rule_input(&m).unwrap();
        assert_eq!(view.input().to, owned.to.as_slice());
        assert_eq!(view.input().subject, owned.subject);
        assert_eq!(view.input().headers, owned.headers.as_slice());
        // A token only in the envelope (Bcc) counts too.
        let bcc = parse(
            b"From: a@b.example\r\nSubject: x\r\n\r\n",
            &Limits::default(),
            &[],
        );
        assert_eq!(
            signals(&bcc, &[addr], &t, &["desk.example".into()]).token,
            Some(n)
        );
    }
}
