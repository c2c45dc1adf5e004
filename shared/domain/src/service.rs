//! The desk's use cases. Every operation takes the [`Caller`] and checks what
//! they may see and do before touching storage.

use std::sync::Arc;

use crate::access::Caller;
use crate::activity::{ActivityEntry, ActivityKind, Actor};
use crate::audit::{diff, AuditAction};
use crate::directory::{Group, GroupUpdate, NewGroup, NewUser, User, UserUpdate};
use crate::error::{DeskError, DeskResult, FieldError};
use crate::listing::{ListRequest, Page};
use crate::mailbox::{MailboxStore, SecretStore};
use crate::message::{MessageStore, RawMailStore};
use crate::note::{excerpt, NewNote, Note};
use crate::outbound::{EventBus, Outbox, ReplyAddress};
use crate::ports::{
    CaseStore, Clock, DirectoryStore, ModuleStore, PageRequest, Random, RateLimiter, RuleStore,
    TicketStore,
};
use crate::ticket::{Assignee, NewTicket, Ticket, TicketPatch};
use crate::types::{EmailAddress, GroupId, Source, TicketNumber, UserId};

/// Desk-wide settings (from configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The desk's own address: From of everything it sends.
    pub desk_address: EmailAddress,
    /// Base of customers' join links: `<base>/<code>`.
    pub join_link_base: String,
    /// Base of the expert's connect links: `<base>/<code>`.
    pub connect_link_base: String,
    /// The bucket agents' uploads (`uploads/`) and the MIME of sent replies
    /// (`sent/`) are kept in: the API's; `None` in functions that write neither.
    pub files_bucket: Option<String>,
}

/// Everything the desk's use cases work with: ports, clock, randomness, settings.
#[derive(Clone)]
pub struct Desk {
    pub tickets: Arc<dyn TicketStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub cases: Arc<dyn CaseStore>,
    pub modules: Arc<dyn ModuleStore>,
    pub rules: Arc<dyn RuleStore>,
    pub text_modules: Arc<dyn crate::ports::StandardTextStore>,
    pub messages: Arc<dyn MessageStore>,
    pub raw_mail: Arc<dyn RawMailStore>,
    /// Reads a received message's attachments (to send one on in a reply).
    pub attachment_reader: Arc<dyn crate::mail::attachments::AttachmentReader>,
    /// Purges (erasure, retention), erasure jobs and the retention setting.
    pub purge: Arc<dyn crate::erasure::PurgeStore>,
    pub reply_address: Arc<dyn ReplyAddress>,
    pub mailboxes: Arc<dyn MailboxStore>,
    /// The administrators' audit trail.
    pub audit: Arc<dyn crate::audit::AuditLog>,
    /// Mailbox passwords (never in the table).
    pub secrets: Arc<dyn SecretStore>,
    pub limiter: Arc<dyn RateLimiter>,
    pub outbox: Arc<dyn Outbox>,
    pub events: Arc<dyn EventBus>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub settings: Settings,
}

impl Desk {
    /// Resolves an authenticated subject (a token's user claim) to a caller. 1 round trip.
    pub async fn caller(&self, subject: &str) -> DeskResult<Caller> {
        let id = UserId::parse(subject).map_err(|_| DeskError::UnknownCaller)?;
        let user = self
            .directory
            .get_user(&id)
            .await?
            .ok_or(DeskError::UnknownCaller)?;
        Caller::new(user)
    }

    async fn check_assignee(&self, assignee: Option<&Assignee>, field: &str) -> DeskResult<()> {
        let exists = match assignee {
            None => true,
            Some(Assignee::User(u)) => self.directory.get_user(u).await?.is_some_and(|u| u.active),
            Some(Assignee::Group(g)) => self.directory.get_group(g).await?.is_some(),
        };
        if exists {
            Ok(())
        } else {
            Err(DeskError::invalid(field, "no such active user or group"))
        }
    }

    // ---- tickets -------------------------------------------------------------

    pub async fn create_ticket(&self, caller: &Caller, input: NewTicket) -> DeskResult<Ticket> {
        input.check()?;
        self.check_assignee(input.assignee.as_ref(), "assignee")
            .await?;
        let number = self.tickets.allocate_number().await?;
        let now = self.clock.now();
        let ticket = input.into_ticket(number, Source::Manual, now)?;
        let entry = ActivityEntry::new(
            number,
            now,
            Actor::user(caller.id()),
            ActivityKind::TicketCreated {
                source: Source::Manual,
            },
        );
        self.tickets.create_ticket(&ticket, &entry).await?;
        Ok(ticket)
    }

    /// A ticket the caller may see; others are reported as not found. A merged
    /// ticket may also be read by whoever may see the ticket it was merged into
    /// (it is part of that conversation now): 1 round trip, 2 in that case.
    pub async fn ticket(&self, caller: &Caller, number: TicketNumber) -> DeskResult<Ticket> {
        let ticket = self
            .tickets
            .get_ticket(number)
            .await?
            .ok_or(DeskError::NotFound { what: "ticket" })?;
        if caller.can_see(&ticket) {
            return Ok(ticket);
        }
        if let Some(target) = ticket.merged_into {
            if let Some(t) = self.tickets.get_ticket(target).await? {
                caller.check_can_see(&t)?;
                return Ok(ticket);
            }
        }
        Err(DeskError::NotFound { what: "ticket" })
    }

    /// A ticket the caller may see and write to: one merged into another takes
    /// no more writes (`409 ticket_merged`, naming the target).
    pub async fn open_ticket(&self, caller: &Caller, number: TicketNumber) -> DeskResult<Ticket> {
        let ticket = self.ticket(caller, number).await?;
        match ticket.merged_into {
            Some(target) => Err(crate::merging::merged_error(number, target)),
            None => Ok(ticket),
        }
    }

    pub async fn edit_ticket(
        &self,
        caller: &Caller,
        number: TicketNumber,
        patch: TicketPatch,
    ) -> DeskResult<Ticket> {
        let ticket = self.open_ticket(caller, number).await?;
        if patch.version != ticket.version {
            return Err(DeskError::VersionConflict {
                current: ticket.version,
            });
        }
        let (next, changes) = patch.apply(&ticket, self.clock.now())?;
        if changes.is_empty() {
            return Ok(ticket);
        }
        // Only a new assignee must exist (a ticket may keep one deleted since).
        if next.assignee != ticket.assignee {
            self.check_assignee(patch.new_assignee(), "assignee")
                .await?;
        }
        let entry = ActivityEntry::new(
            number,
            next.updated_at,
            Actor::user(caller.id()),
            ActivityKind::FieldsChanged { changes },
        );
        self.tickets.update_ticket(&next, &ticket, &entry).await?;
        Ok(next)
    }

    pub async fn list_tickets(
        &self,
        caller: &Caller,
        request: &ListRequest,
    ) -> DeskResult<Page<Ticket>> {
        let Some(query) = request.plan(caller)? else {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        };
        let mut page = self.tickets.list_tickets(&query).await?;
        // Storage filtered already; this keeps a storage bug from ever leaking a
        // ticket. (Search words may match notes and mail, which only the index knows.)
        page.items.retain(|t| query.matches_filters(t));
        Ok(page)
    }

    /// The quick-filter counts of what `caller` may see (exact once the stream is
    /// drained). 1 round trip.
    pub async fn ticket_counts(
        &self,
        caller: &Caller,
    ) -> DeskResult<crate::stream::counts::TicketCounts> {
        let buckets = self.tickets.ticket_counts().await?;
        Ok(crate::stream::counts::TicketCounts::sum(
            &caller.scope(),
            &buckets,
        ))
    }

    pub async fn add_note(
        &self,
        caller: &Caller,
        number: TicketNumber,
        input: NewNote,
    ) -> DeskResult<Note> {
        let body = input.body()?;
        self.open_ticket(caller, number).await?;
        let now = self.clock.now();
        let note = Note {
            id: crate::activity::time_ordered_id(now),
            ticket: number,
            author: caller.id().to_string(),
            body,
            created_at: now,
        };
        let entry = ActivityEntry::new(
            number,
            now,
            Actor::user(caller.id()),
            ActivityKind::NoteAdded {
                note_id: note.id.clone(),
                excerpt: excerpt(&note.body),
            },
        );
        self.tickets.add_note(&note, &entry, now).await?;
        Ok(note)
    }

    pub async fn notes(
        &self,
        caller: &Caller,
        number: TicketNumber,
        page: &PageRequest,
    ) -> DeskResult<Page<Note>> {
        let ticket = self.ticket(caller, number).await?;
        self.tickets.list_notes(&ticket.thread(), page).await
    }

    pub async fn activity(
        &self,
        caller: &Caller,
        number: TicketNumber,
        page: &PageRequest,
    ) -> DeskResult<Page<ActivityEntry>> {
        let ticket = self.ticket(caller, number).await?;
        self.tickets.list_activity(&ticket.thread(), page).await
    }

    // ---- directory -----------------------------------------------------------

    async fn check_groups(&self, groups: &[GroupId]) -> DeskResult<()> {
        if groups.is_empty() {
            return Ok(());
        }
        let known = self.directory.list_groups().await?;
        for (i, g) in groups.iter().enumerate() {
            if !known.iter().any(|k| k.id == *g) {
                return Err(
                    FieldError::new(format!("groups[{i}]"), format!("no such group: {g}")).into(),
                );
            }
        }
        Ok(())
    }

    pub async fn users(&self, _caller: &Caller) -> DeskResult<Vec<User>> {
        // Agents may read the directory: they assign tickets to users and groups.
        self.directory.list_users().await
    }

    pub async fn user(&self, _caller: &Caller, id: &UserId) -> DeskResult<User> {
        self.directory
            .get_user(id)
            .await?
            .ok_or(DeskError::NotFound { what: "user" })
    }

    pub async fn create_user(&self, caller: &Caller, input: NewUser) -> DeskResult<User> {
        caller.require_admin()?;
        let user = input.into_user(self.clock.now())?;
        self.check_groups(&user.groups).await?;
        self.directory.create_user(&user).await?;
        self.audit(
            caller,
            AuditAction::UserCreated,
            user.id.as_str(),
            diff(None, Some(&user)),
        )
        .await?;
        Ok(user)
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: &UserId,
        input: UserUpdate,
    ) -> DeskResult<User> {
        caller.require_admin()?;
        let current = self.user(caller, id).await?;
        let next = input.apply(&current, self.clock.now())?;
        if *id == *caller.id() && (!next.active || next.role != current.role) {
            return Err(DeskError::Conflict {
                code: "cannot_demote_self",
                message: "administrators cannot deactivate themselves or change their own role"
                    .into(),
            });
        }
        self.check_groups(&next.groups).await?;
        self.directory.replace_user(&next).await?;
        let changes = diff(Some(&current), Some(&next));
        if !changes.is_empty() {
            self.audit(caller, AuditAction::UserUpdated, id.as_str(), changes)
                .await?;
        }
        Ok(next)
    }

    pub async fn delete_user(&self, caller: &Caller, id: &UserId) -> DeskResult<()> {
        caller.require_admin()?;
        if *id == *caller.id() {
            return Err(DeskError::Conflict {
                code: "cannot_delete_self",
                message: "administrators cannot delete themselves".into(),
            });
        }
        let current = self.directory.get_user(id).await?;
        if self.directory.delete_user(id).await? {
            self.audit(
                caller,
                AuditAction::UserDeleted,
                id.as_str(),
                diff(current.as_ref(), None),
            )
            .await
        } else {
            Err(DeskError::NotFound { what: "user" })
        }
    }

    pub async fn groups(&self, _caller: &Caller) -> DeskResult<Vec<Group>> {
        self.directory.list_groups().await
    }

    /// A group and the ids of its members.
    pub async fn group(&self, _caller: &Caller, id: &GroupId) -> DeskResult<(Group, Vec<UserId>)> {
        let group = self
            .directory
            .get_group(id)
            .await?
            .ok_or(DeskError::NotFound { what: "group" })?;
        let members = self.members(id).await?;
        Ok((group, members))
    }

    async fn members(&self, id: &GroupId) -> DeskResult<Vec<UserId>> {
        Ok(self
            .directory
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.groups.contains(id))
            .map(|u| u.id)
            .collect())
    }

    pub async fn create_group(&self, caller: &Caller, input: NewGroup) -> DeskResult<Group> {
        caller.require_admin()?;
        let group = input.into_group(self.clock.now())?;
        self.directory.create_group(&group).await?;
        self.audit(
            caller,
            AuditAction::GroupCreated,
            group.id.as_str(),
            diff(None, Some(&group)),
        )
        .await?;
        Ok(group)
    }

    pub async fn update_group(
        &self,
        caller: &Caller,
        id: &GroupId,
        input: GroupUpdate,
    ) -> DeskResult<Group> {
        caller.require_admin()?;
        let current = self
            .directory
            .get_group(id)
            .await?
            .ok_or(DeskError::NotFound { what: "group" })?;
        let next = input.apply(&current, self.clock.now())?;
        self.directory.replace_group(&next).await?;
        let changes = diff(Some(&current), Some(&next));
        if !changes.is_empty() {
            self.audit(caller, AuditAction::GroupUpdated, id.as_str(), changes)
                .await?;
        }
        Ok(next)
    }

    pub async fn delete_group(&self, caller: &Caller, id: &GroupId) -> DeskResult<()> {
        caller.require_admin()?;
        let Some(current) = self.directory.get_group(id).await? else {
            return Err(DeskError::NotFound { what: "group" });
        };
        let members = self.members(id).await?;
        if !members.is_empty() {
            return Err(DeskError::Conflict {
                code: "group_in_use",
                message: format!(
                    "the group still has {} member(s); remove them first",
                    members.len()
                ),
            });
        }
        if self.directory.delete_group(id).await? {
            self.audit(
                caller,
                AuditAction::GroupDeleted,
                id.as_str(),
                diff(Some(&current), None),
            )
            .await?;
        }
        Ok(())
    }
}
