//! Background handlers, event in → domain call → outcome out.

pub mod expire;
pub mod inbound;
pub mod mailer;
