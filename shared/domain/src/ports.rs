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
    /// Replaces `previous` (the ticket as read) with `ticket` if its stored version
    /// is still `previous.version`, and appends `entry`, atomically; otherwise
    /// `VersionConflict` with the current version. 1 round trip (2 on conflict, to
    /// report the current version).
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        previous: &Ticket,
        entry: &ActivityEntry,
    ) -> DeskResult<()>;
    /// Stores a note, its activity entry and the ticket's new `updated_at`
    /// atomically; `NotFound` if the ticket is gone. 1 round trip.
    async fn add_note(
        &self,
        note: &Note,
        entry: &ActivityEntry,
        touched_at: DateTime<Utc>,
    ) -> DeskResult<()>;
    /// The notes of `thread` (a ticket and those merged into it), oldest first.
    /// One Query per ticket, in parallel: 1 round trip.
    async fn list_notes(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<Note>>;
    /// The activity of `thread`, oldest first. One Query per ticket, in parallel:
    /// 1 round trip.
    async fn list_activity(
        &self,
        thread: &[TicketNumber],
        page: &PageRequest,
    ) -> DeskResult<Page<ActivityEntry>>;
    /// Writes a merge atomically: both tickets if their stored versions are still
    /// the ones read (else `VersionConflict`), the tickets merged into the source
    /// before repointed to the target, both activity entries. 1 round trip.
    async fn merge_tickets(&self, merge: &crate::merging::TicketMerge) -> DeskResult<()>;
    /// One page of the list view. Exactly 1 Query, never a Scan.
    async fn list_tickets(&self, query: &TicketQuery) -> DeskResult<Page<Ticket>>;
    /// Appends an entry to a ticket's log (events that change no ticket field). 1 round trip.
    async fn append_activity(&self, entry: &ActivityEntry) -> DeskResult<()>;
    /// Every assignee key's quick-filter counts, as the stream keeps them. 1 Query.
    async fn ticket_counts(&self) -> DeskResult<Vec<crate::stream::counts::BucketCounts>>;
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

use crate::module::Module;
use crate::session::{CaseStatus, ServiceCase, SessionCode};

/// A stored case with the hash of its public secret.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub case: ServiceCase,
    pub secret_hash: String,
}

/// Service Queue filters, narrowed to what the caller may see.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseQuery {
    /// Agents: only cases assigned to them, unassigned, or created by them.
    pub visible_to: Option<UserId>,
    pub statuses: Vec<CaseStatus>,
    /// `Some(None)`: unassigned only.
    pub assignee: Option<Option<UserId>>,
    pub limit: usize,
    pub cursor: Option<String>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Creates a case. A ticket case also takes its ticket's one live-case slot
    /// and logs `entry`, atomically. `AlreadyExists` if the code is taken;
    /// `Conflict { code: "live_session_exists" }` if the ticket has a live case. 1 round trip.
    async fn create_case(
        &self,
        case: &ServiceCase,
        secret_hash: &str,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<()>;
    /// 1 round trip.
    async fn get_case(&self, code: &SessionCode) -> DeskResult<Option<StoredCase>>;
    /// Stores `next` if the stored version is still `expected_version`, logs `entry`
    /// and, when `next` is final, frees the ticket's live-case slot — atomically.
    /// `VersionConflict` otherwise. 1 round trip.
    async fn transition(
        &self,
        next: &StoredCase,
        expected_version: u64,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<()>;
    /// One page of the Service Queue, newest first. 1 Query.
    async fn list_cases(&self, query: &CaseQuery) -> DeskResult<Page<ServiceCase>>;
    /// Live cases whose 24-hour mark is at or before `now`, oldest first. Reads only
    /// due cases (a sparse index), never the whole queue. 1 Query per `limit`.
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> DeskResult<Vec<StoredCase>>;
    /// Deletes the case (freeing its ticket's slot if it held it) and logs `entry`. 1 round trip.
    async fn delete_case(
        &self,
        case: &ServiceCase,
        entry: Option<&ActivityEntry>,
    ) -> DeskResult<bool>;
}

#[async_trait]
pub trait ModuleStore: Send + Sync {
    async fn get_module(&self, id: &str) -> DeskResult<Option<Module>>;
    async fn create_module(&self, module: &Module) -> DeskResult<()>;
    async fn replace_module(&self, module: &Module) -> DeskResult<()>;
    async fn delete_module(&self, id: &str) -> DeskResult<bool>;
    async fn list_modules(&self) -> DeskResult<Vec<Module>>;
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one hit on `key` in the current window of `window_seconds`; false
    /// when `limit` hits were already counted there. 1 round trip.
    async fn allow(
        &self,
        key: &str,
        limit: u32,
        window_seconds: u32,
        now: DateTime<Utc>,
    ) -> DeskResult<bool>;
}

/// Randomness, injectable for tests.
pub trait Random: Send + Sync {
    /// A number in 0 ..= 999_999_999 for a session code.
    fn code_number(&self) -> u32;
    /// A URL-safe secret of at least 128 bits.
    fn secret(&self) -> String;
    /// A URL-safe lowercase id of `len` characters.
    fn id(&self, len: usize) -> String;
}

/// The system clock shifted by an adjustable offset: lets tests move time (24-hour
/// expiry) for every component sharing it.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_ms: std::sync::atomic::AtomicI64,
    /// When set, the clock stands still at this instant.
    frozen: std::sync::Mutex<Option<DateTime<Utc>>>,
}

impl OffsetClock {
    /// Moves the clock forward by `by` (a frozen clock stays frozen, `by` later).
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut f) = self.frozen.lock() {
            if let Some(t) = f.as_mut() {
                *t += by;
            }
        }
        self.offset_ms
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops the clock at `at` until `set`/`advance`/`unfreeze`.
    pub fn freeze(&self, at: DateTime<Utc>) {
        if let Ok(mut f) = self.frozen.lock() {
            *f = Some(at);
        }
    }

    pub fn unfreeze(&self) {
        if let Ok(mut f) = self.frozen.lock() {
            *f = None;
        }
    }

    /// Moves the clock so that it reads `at` now (and lets it run).
    pub fn set(&self, at: DateTime<Utc>) {
        self.unfreeze();
        let offset = (at - Utc::now()).num_milliseconds();
        self.offset_ms
            .store(offset, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        if let Some(t) = self.frozen.lock().ok().and_then(|f| *f) {
            return t;
        }
        Utc::now()
            + chrono::Duration::milliseconds(
                self.offset_ms.load(std::sync::atomic::Ordering::SeqCst),
            )
    }
}

/// Rules, in one small partition.
#[async_trait]
pub trait RuleStore: Send + Sync {
    /// Every rule. 1 Query per MB.
    async fn list_rules(&self) -> DeskResult<Vec<crate::rules::Rule>>;
    async fn get_rule(&self, id: &str) -> DeskResult<Option<crate::rules::Rule>>;
    /// `AlreadyExists` if the id is taken.
    async fn create_rule(&self, rule: &crate::rules::Rule) -> DeskResult<()>;
    /// Replaces the rule if its stored version is `expected_version`, else `VersionConflict`.
    async fn replace_rule(
        &self,
        rule: &crate::rules::Rule,
        expected_version: u64,
    ) -> DeskResult<()>;
    async fn delete_rule(&self, id: &str) -> DeskResult<bool>;
}

/// The standard texts replies are written with: text modules and the desk's
/// signature, in one small partition.
#[async_trait]
pub trait StandardTextStore: Send + Sync {
    /// Every module. 1 Query per MB.
    async fn list_text_modules(&self) -> DeskResult<Vec<crate::mail::text_modules::TextModule>>;
    /// 1 GetItem.
    async fn get_text_module(
        &self,
        id: &str,
    ) -> DeskResult<Option<crate::mail::text_modules::TextModule>>;
    /// `AlreadyExists` if the id is taken. 1 PutItem.
    async fn create_text_module(
        &self,
        module: &crate::mail::text_modules::TextModule,
    ) -> DeskResult<()>;
    /// Replaces the module if its stored version is `expected_version`, else
    /// `VersionConflict`. 1 PutItem.
    async fn replace_text_module(
        &self,
        module: &crate::mail::text_modules::TextModule,
        expected_version: u64,
    ) -> DeskResult<()>;
    /// Whether a module was deleted. 1 DeleteItem.
    async fn delete_text_module(&self, id: &str) -> DeskResult<bool>;
    /// The desk's signature, below every reply (empty until set). 1 GetItem.
    async fn desk_signature(&self) -> DeskResult<crate::mail::text_modules::DeskSignature>;
    /// Stores the desk's signature if its stored version is `expected_version`
    /// (0: never set), else `VersionConflict`. 1 PutItem.
    async fn set_desk_signature(
        &self,
        signature: &crate::mail::text_modules::DeskSignature,
        expected_version: u64,
    ) -> DeskResult<()>;
}
