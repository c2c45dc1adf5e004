//! Background handlers, event in → domain call → outcome out.

pub mod expire;
pub mod mailer;
