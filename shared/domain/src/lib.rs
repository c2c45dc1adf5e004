//! Service Desk domain: plain Rust, no AWS types. Tickets, their activity log and
//! notes, the directory (users, groups), who may see what, the list view's query,
//! and the storage ports the adapters implement.

pub mod access;
pub mod activity;
pub mod audit;
pub mod cases;
pub mod directory;
pub mod erasure;
pub mod error;
pub mod export;
pub mod listing;
pub mod mail;
pub mod mailbox;
pub mod merging;
pub mod message;
pub mod module;
pub mod note;
pub mod outbound;
pub mod ports;
pub mod random;
pub mod rules;
pub mod rules_admin;
pub mod service;
pub mod session;
pub mod stream;
pub mod ticket;
pub mod types;
pub mod words;

pub use access::{Caller, Scope};
pub use activity::{ActivityEntry, ActivityKind, Actor};
pub use directory::{Group, User};
pub use error::{DeskError, DeskResult, FieldError};
pub use listing::{ListRequest, Order, Page, SortKey, TicketQuery};
/// Replies: kept at the crate root for the paths other crates use.
pub use mail::conversation;
pub use note::Note;
pub use ports::{Clock, DirectoryStore, PageRequest, SystemClock, TicketStore};
pub use service::{Desk, Settings};
pub use ticket::{Assignee, Customer, Ticket};
pub use types::*;
