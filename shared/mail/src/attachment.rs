//! Attachments as stored: which parts of a message count as attachments (the
//! same list, in the same order, at ingest and when one is downloaded later from
//! the raw message), and reading one part's decoded bytes.

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders};

/// In a report (bounce, read receipt) the machine-readable parts are not files.
pub(crate) fn is_report_part(report: bool, part: &MessagePart<'_>) -> bool {
    report
        && part.content_type().is_some_and(|c| {
            let kind = format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase();
            matches!(
                kind.as_str(),
                "message/delivery-status"
                    | "message/global-delivery-status"
                    | "message/disposition-notification"
                    | "text/rfc822-headers"
                    | "message/rfc822"
                    | "message/global-headers"
            )
        })
}

/// Whether `msg` is a `multipart/report`.
pub(crate) fn is_report(msg: &Message<'_>) -> bool {
    msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    })
}

/// The parts listed as attachments, in index order.
pub(crate) fn listed<'a>(msg: &'a Message<'a>) -> impl Iterator<Item = &'a MessagePart<'a>> {
    let report = is_report(msg);
    msg.attachments()
        .filter(move |part| !is_report_part(report, part))
}

/// `part`'s MIME type, lowercased (`application/octet-stream` when it has none).
pub(crate) fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|c| {
            format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")).to_ascii_lowercase()
        })
        .unwrap_or_else(|| "application/octet-stream".into())
}

/// One attachment's decoded content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentContent {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The attachment at `index` (as listed on the stored message) of `raw`.
pub fn attachment(raw: &[u8], index: usize) -> Option<AttachmentContent> {
    let msg = MessageParser::default().parse(raw)?;
    let part = listed(&msg).nth(index)?;
    Some(AttachmentContent {
        filename: part.attachment_name().unwrap_or("").to_string(),
        content_type: content_type(part),
        bytes: part.contents().to_vec(),
    })
}

/// [`attachment`] as the desk's port: sending a customer's file on in a reply.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attachments;

impl desk_domain::mail::attachments::AttachmentReader for Attachments {
    fn attachment(
        &self,
        raw: &[u8],
        index: usize,
    ) -> desk_domain::DeskResult<Option<desk_domain::mail::mime::MailFile>> {
        Ok(
            attachment(raw, index).map(|a| desk_domain::mail::mime::MailFile {
                filename: a.filename,
                content_type: a.content_type,
                bytes: a.bytes,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listed_attachment_decoded_and_nothing_past_the_list() {
        let raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b--\r\n";
        let a = attachment(raw, 0).expect("first attachment");
        assert_eq!(a.filename, "r.pdf");
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.bytes, b"%PDF-1.4");
        assert_eq!(attachment(raw, 1), None);
        assert_eq!(attachment(b"", 0), None);
    }
}
