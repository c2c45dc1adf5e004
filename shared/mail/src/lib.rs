//! Email in, as plain logic with no I/O: parse a raw message tolerantly, keep a
//! clean text body and a sanitised HTML body, recognise robots and bounces, and
//! find the signals that thread a reply onto its ticket.

pub mod attachment;
pub mod fingerprint;
pub mod headers;
pub mod parse;
pub mod robots;
pub mod sanitize;
pub mod thread;
pub mod token;

pub use attachment::{attachment, AttachmentContent};
pub use parse::{parse, Attachment, Limits, Mailbox, ParsedMail, Verdicts};
pub use robots::{classify, Automation};
pub use token::{KeyRing, ReplyKeys, ReplyToken};
