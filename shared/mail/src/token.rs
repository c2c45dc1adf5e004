//! Signed reply tokens: the desk's Reply-To is `support+t1001.<sig>@desk.example`,
//! where `<sig>` is an HMAC of the ticket number, so a token cannot be forged to
//! attach mail to someone else's ticket.

use desk_domain::{EmailAddress, TicketNumber};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Hex characters of the HMAC kept in the address (64 bits: short enough for an
/// address, far too many to guess).
const SIG_LEN: usize = 16;

#[derive(Clone)]
pub struct ReplyToken {
    key: Vec<u8>,
}

impl std::fmt::Debug for ReplyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyToken(..)")
    }
}

impl ReplyToken {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    fn signature(&self, number: TicketNumber) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(format!("t{number}").as_bytes());
        let bytes = mac.finalize().into_bytes();
        bytes
            .iter()
            .take(SIG_LEN / 2)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `t1001.<sig>`
    pub fn token(&self, number: TicketNumber) -> String {
        format!("t{number}.{}", self.signature(number))
    }

    /// The desk address with the token: `support+t1001.<sig>@desk.example`.
    pub fn reply_to(&self, desk: &EmailAddress, number: TicketNumber) -> String {
        let (local, domain) = desk
            .as_str()
            .rsplit_once('@')
            .unwrap_or((desk.as_str(), ""));
        format!("{local}+{}@{domain}", self.token(number))
    }

    /// The ticket a recipient address carries a valid token for, if any: the
    /// address must be one of the desk's (`desk_locals`, compared case-insensitively).
    pub fn ticket_in(&self, address: &str, desk_domains: &[String]) -> Option<TicketNumber> {
        let (local, domain) = address.rsplit_once('@')?;
        if !desk_domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return None;
        }
        let (_, tag) = local.split_once('+')?;
        let rest = tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?;
        let (num, sig) = rest.split_once('.')?;
        let number = TicketNumber::parse(num).ok()?;
        let expected = self.signature(number);
        let given = sig.to_ascii_lowercase();
        // Constant-time comparison.
        (expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0)
            .then_some(number)
    }
}

impl desk_domain::outbound::ReplyAddress for ReplyToken {
    fn reply_to(&self, desk: &EmailAddress, number: TicketNumber) -> String {
        ReplyToken::reply_to(self, desk, number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_cannot_be_forged() {
        let t = ReplyToken::new(b"k1".to_vec());
        let desk = EmailAddress::parse("support@desk.example").unwrap();
        let n = TicketNumber::new(1001).unwrap();
        let addr = t.reply_to(&desk, n);
        assert!(
            addr.starts_with("support+t1001.") && addr.ends_with("@desk.example"),
            "{addr}"
        );
        let domains = vec!["desk.example".to_string()];
        assert_eq!(t.ticket_in(&addr, &domains), Some(n));
        assert_eq!(
            t.ticket_in(&addr.to_uppercase(), &domains),
            Some(n),
            "case-insensitive"
        );
        // Another number with the same signature, another key, another domain: refused.
        let forged = addr.replace("t1001", "t1002");
        assert_eq!(t.ticket_in(&forged, &domains), None);
        assert_eq!(
            ReplyToken::new(b"k2".to_vec()).ticket_in(&addr, &domains),
            None
        );
        assert_eq!(
            t.ticket_in(&addr.replace("desk.example", "evil.example"), &domains),
            None
        );
        assert_eq!(t.ticket_in("support@desk.example", &domains), None);
        assert_eq!(t.ticket_in("support+t1001@desk.example", &domains), None);
    }
}
