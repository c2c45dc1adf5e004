//! Storage ports. Adapters (DynamoDB) live beside the domain, in their own crate.
//! Each method documents its round trips so hot paths have a known cost.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::activity::ActivityEntry;
use crate::directory::{Group, User};
use crate::error::DeskResult;
use crate::listing::{Page, TicketQuery};
use crate::note::Note;
use crate::ticket::Ticket;
use crate::types::{GroupId, TicketNumber, UserId};

/// Paging of a ticket's timeline or notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Hands out the next ticket number; unique under concurrency. 1 round trip.
    async fn allocate_number(&self) -> DeskResult<TicketNumber>;
    /// Writes a new ticket and its first activity entry atomically. 1 round trip.
    async fn create_ticket(&self, ticket: &Ticket, created: &ActivityEntry) -> DeskResult<()>;
    /// 1 round trip.
    async fn get_ticket(&self, number: TicketNumber) -> DeskResult<Option<Ticket>>;
    /// Replaces the ticket if its stored version is still `expected_version`, and
    /// appends `entry`, atomically; otherwise `VersionConflict` with the current
    /// version. 1 round trip (2 on conflict, to report the current version).
    async fn update_ticket(&self, ticket: &Ticket, expected_version: u64, entry: &ActivityEntry) -> DeskResult<()>;
    /// Stores a note, its activity entry and the ticket's new `updated_at`
    /// atomically; `NotFound` if the ticket is gone. 1 round trip.
    async fn add_note(&self, note: &Note, entry: &ActivityEntry, touched_at: DateTime<Utc>) -> DeskResult<()>;
    /// Oldest first. 1 round trip.
    async fn list_notes(&self, number: TicketNumber, page: &PageRequest) -> DeskResult<Page<Note>>;
    /// Oldest first. 1 round trip.
    async fn list_activity(&self, number: TicketNumber, page: &PageRequest) -> DeskResult<Page<ActivityEntry>>;
    /// One page of the list view. Exactly 1 Query, never a Scan.
    async fn list_tickets(&self, query: &TicketQuery) -> DeskResult<Page<Ticket>>;
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// 1 round trip.
    async fn get_user(&self, id: &UserId) -> DeskResult<Option<User>>;
    /// `AlreadyExists` if the id is taken. 1 round trip.
    async fn create_user(&self, user: &User) -> DeskResult<()>;
    /// `NotFound` if the user is gone. 1 round trip.
    async fn replace_user(&self, user: &User) -> DeskResult<()>;
    /// Whether a user was deleted. 1 round trip.
    async fn delete_user(&self, id: &UserId) -> DeskResult<bool>;
    /// Every user (the directory is small: one partition). 1 Query per 1 MB.
    async fn list_users(&self) -> DeskResult<Vec<User>>;
    async fn get_group(&self, id: &GroupId) -> DeskResult<Option<Group>>;
    async fn create_group(&self, group: &Group) -> DeskResult<()>;
    async fn replace_group(&self, group: &Group) -> DeskResult<()>;
    async fn delete_group(&self, id: &GroupId) -> DeskResult<bool>;
    async fn list_groups(&self) -> DeskResult<Vec<Group>>;
}

/// Time, injectable for tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
