//! Mail the desk writes: replies to customers, their formatting (Markdown to
//! HTML, signatures, the answered message quoted) and the text modules agents
//! answer with.

pub mod acknowledgement;
pub mod attachments;
pub mod conversation;
pub mod formatting;
pub mod mime;
pub mod text_modules;
