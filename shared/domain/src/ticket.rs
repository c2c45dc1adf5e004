//! Tickets: the record, its creation and its edits. Every edit yields the list of
//! field changes that goes into the activity log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::error::FieldError;
use crate::types::{
    bounded_text, limits, EmailAddress, GroupId, Priority, Source, Status, Tag, Tags, TicketNumber,
    UserId,
};

/// Who a ticket is assigned to; `None` in an `Option<Assignee>` is "unassigned".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "id",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Assignee {
    User(UserId),
    Group(GroupId),
}

impl Assignee {
    /// Stable key: `user:alice`, `group:support`. Unassigned is [`UNASSIGNED_KEY`].
    pub fn key(&self) -> String {
        match self {
            Assignee::User(u) => format!("user:{u}"),
            Assignee::Group(g) => format!("group:{g}"),
        }
    }

    pub fn key_of(assignee: &Option<Assignee>) -> String {
        assignee
            .as_ref()
            .map_or_else(|| UNASSIGNED_KEY.to_string(), Assignee::key)
    }
}

pub const UNASSIGNED_KEY: &str = "none";

/// The customer a ticket is about; their email is used for all mail with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: String,
    pub email: EmailAddress,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNumber,
    pub name: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Option<Assignee>,
    pub tags: Tags,
    pub customer: Customer,
    pub source: Source,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Incremented by every field edit; the optimistic-concurrency token.
    pub version: u64,
    /// Set when this ticket was merged into another: that one holds the
    /// conversation now, and this one takes no more writes.
    #[serde(default)]
    pub merged_into: Option<TicketNumber>,
    /// The tickets merged into this one (and those merged into them), oldest
    /// merge first: their messages, notes and activity read as this ticket's.
    #[serde(default)]
    pub merged: Vec<TicketNumber>,
    /// Third parties the desk forwarded this ticket's mail to (lower case, at
    /// most [`PARTICIPANTS`]): their answers thread back and show as theirs.
    #[serde(default)]
    pub participants: Vec<EmailAddress>,
}

/// Most third parties one ticket is forwarded to.
pub const PARTICIPANTS: usize = 20;

impl Ticket {
    /// Whether `address` is a third party this ticket was forwarded to.
    pub fn is_participant(&self, address: &str) -> bool {
        self.participants
            .iter()
            .any(|p| p.as_str().eq_ignore_ascii_case(address))
    }

    /// This ticket and those merged into it: where its conversation is stored.
    pub fn thread(&self) -> Vec<TicketNumber> {
        std::iter::once(self.number)
            .chain(self.merged.iter().copied())
            .collect()
    }
}

/// Customer as given by a client: email required, name and phone optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[serde(default)]
    pub name: Option<String>,
    pub email: EmailAddress,
    #[serde(default)]
    pub phone: Option<String>,
}

impl CustomerInput {
    pub fn validate(self) -> Result<Customer, FieldError> {
        Ok(Customer {
            name: person_name(self.name.as_deref().unwrap_or(""))?,
            email: self.email,
            phone: phone(self.phone.as_deref().unwrap_or(""))?,
        })
    }
}

fn person_name(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::PERSON_NAME, true).map_err(|e| FieldError::new("name", e.message))
}

fn phone(raw: &str) -> Result<String, FieldError> {
    let s =
        bounded_text(raw, limits::PHONE, true).map_err(|e| FieldError::new("phone", e.message))?;
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./x".contains(c))
    {
        return Err(FieldError::new(
            "phone",
            "may contain only digits, spaces and + - ( ) . / x",
        ));
    }
    Ok(s)
}

fn ticket_name(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::NAME, false).map_err(|e| FieldError::new("name", e.message))
}

fn ticket_description(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::DESCRIPTION, true)
        .map_err(|e| FieldError::new("description", e.message))
}

/// `POST /tickets` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub assignee: Option<Assignee>,
    #[serde(default)]
    pub tags: Option<Tags>,
    pub customer: CustomerInput,
}

impl NewTicket {
    /// Builds the ticket this input describes, as it will be stored.
    pub fn into_ticket(
        self,
        number: TicketNumber,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<Ticket, FieldError> {
        let status = self.status.unwrap_or_default();
        Ok(Ticket {
            number,
            name: ticket_name(&self.name)?,
            description: ticket_description(self.description.as_deref().unwrap_or(""))?,
            status,
            priority: self.priority.unwrap_or_default(),
            assignee: self.assignee,
            tags: self.tags.unwrap_or_default(),
            customer: self.customer.validate().map_err(|e| e.under("customer"))?,
            source,
            created_at: now,
            updated_at: now,
            closed_at: (status == Status::Closed).then_some(now),
            version: 1,
            merged_into: None,
            merged: Vec::new(),
            participants: Vec::new(),
        })
    }

    /// Checks the input without a ticket number (so nothing is allocated for bad input).
    pub fn check(&self) -> Result<(), FieldError> {
        self.clone()
            .into_ticket(
                TicketNumber::new(1).map_err(|e| e.under("number"))?,
                Source::Manual,
                Utc::now(),
            )
            .map(|_| ())
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Partial customer update.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// `PATCH /tickets/{id}` body: every field optional; `version` required.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    pub version: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Absent: unchanged; `null`: unassign.
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<Assignee>>,
    /// Replaces the whole tag set.
    #[serde(default)]
    pub tags: Option<Tags>,
    #[serde(default)]
    pub add_tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub remove_tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub customer: Option<CustomerPatch>,
}

/// One field's change, as recorded in the activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

fn assignee_json(a: &Option<Assignee>) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

fn tags_json(t: &Tags) -> Value {
    Value::Array(t.iter().map(|t| json!(t.as_str())).collect())
}

impl TicketPatch {
    /// The new assignee, if this patch changes it (used to check the assignee exists).
    pub fn new_assignee(&self) -> Option<&Assignee> {
        self.assignee.as_ref().and_then(Option::as_ref)
    }

    /// Applies the patch to `ticket`, returning the edited ticket and what changed.
    /// Setting a field to its current value is not a change. The version is not
    /// checked here (storage does that atomically); it is bumped when anything changed.
    pub fn apply(
        &self,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<(Ticket, Vec<FieldChange>), FieldError> {
        if self.tags.is_some() && (self.add_tags.is_some() || self.remove_tags.is_some()) {
            return Err(FieldError::new(
                "tags",
                "use either tags (replace) or add_tags/remove_tags, not both",
            ));
        }
        let mut next = ticket.clone();
        let mut changes = Vec::new();
        let mut record = |field: &str, from: Value, to: Value| {
            if from != to {
                changes.push(FieldChange {
                    field: field.to_string(),
                    from,
                    to,
                });
            }
        };

        if let Some(name) = &self.name {
            next.name = ticket_name(name)?;
            record("name", json!(ticket.name), json!(next.name));
        }
        if let Some(description) = &self.description {
            next.description = ticket_description(description)?;
            record(
                "description",
                json!(ticket.description),
                json!(next.description),
            );
        }
        if let Some(status) = self.status {
            next.status = status;
            record(
                "status",
                json!(ticket.status.as_str()),
                json!(status.as_str()),
            );
        }
        if let Some(priority) = self.priority {
            next.priority = priority;
            record(
                "priority",
                json!(ticket.priority.as_str()),
                json!(priority.as_str()),
            );
        }
        if let Some(assignee) = &self.assignee {
            next.assignee = assignee.clone();
            record(
                "assignee",
                assignee_json(&ticket.assignee),
                assignee_json(&next.assignee),
            );
        }
        if let Some(tags) = &self.tags {
            next.tags = tags.clone();
        } else if self.add_tags.is_some() || self.remove_tags.is_some() {
            next.tags = ticket
                .tags
                .edited(
                    self.add_tags.as_deref().unwrap_or(&[]),
                    self.remove_tags.as_deref().unwrap_or(&[]),
                )
                .map_err(|e| FieldError::new("add_tags", e.message))?;
        }
        record("tags", tags_json(&ticket.tags), tags_json(&next.tags));
        if let Some(c) = &self.customer {
            if let Some(name) = &c.name {
                next.customer.name = person_name(name).map_err(|e| e.under("customer"))?;
            }
            if let Some(email) = &c.email {
                next.customer.email = email.clone();
            }
            if let Some(p) = &c.phone {
                next.customer.phone = phone(p).map_err(|e| e.under("customer"))?;
            }
            record(
                "customer",
                serde_json::to_value(&ticket.customer).unwrap_or(Value::Null),
                serde_json::to_value(&next.customer).unwrap_or(Value::Null),
            );
        }

        if !changes.is_empty() {
            next.version = ticket.version + 1;
            next.updated_at = now;
            match (ticket.status, next.status) {
                (s, Status::Closed) if s != Status::Closed => next.closed_at = Some(now),
                (Status::Closed, s) if s != Status::Closed => next.closed_at = None,
                _ => {}
            }
        }
        Ok((next, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        let input: NewTicket = serde_json::from_value(json!({
            "name": "Printer on fire",
            "customer": {"email": "Carol@Example.com", "name": "Carol"}
        }))
        .unwrap();
        input
            .into_ticket(TicketNumber::new(1001).unwrap(), Source::Manual, Utc::now())
            .unwrap()
    }

    fn patch(v: Value) -> TicketPatch {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn new_ticket_gets_defaults() {
        let t = ticket();
        assert_eq!(t.status, Status::Open);
        assert_eq!(t.priority, Priority::Medium);
        assert_eq!(t.assignee, None);
        assert_eq!(t.version, 1);
        assert_eq!(t.customer.email.as_str(), "Carol@example.com");
    }

    #[test]
    fn new_ticket_names_the_bad_field() {
        let input: NewTicket = serde_json::from_value(json!({
            "name": "x", "customer": {"email": "c@example.com", "phone": "call me"}
        }))
        .unwrap();
        let err = input.check().unwrap_err();
        assert_eq!(err.field, "customer.phone");
        let input: NewTicket = serde_json::from_value(json!({
            "name": "  ", "customer": {"email": "c@example.com"}
        }))
        .unwrap();
        assert_eq!(input.check().unwrap_err().field, "name");
    }

    #[test]
    fn patch_records_only_real_changes_and_bumps_version() {
        let t = ticket();
        let (next, changes) = patch(json!({"version": 1, "status": "open", "priority": "high"}))
            .apply(&t, Utc::now())
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "priority");
        assert_eq!(changes[0].from, json!("medium"));
        assert_eq!(changes[0].to, json!("high"));
        assert_eq!(next.version, 2);

        let (same, none) = patch(json!({"version": 1, "status": "open"}))
            .apply(&t, Utc::now())
            .unwrap();
        assert!(none.is_empty());
        assert_eq!(same.version, 1);
    }

    #[test]
    fn closing_sets_and_reopening_clears_closed_at() {
        let t = ticket();
        let (closed, _) = patch(json!({"version": 1, "status": "closed"}))
            .apply(&t, Utc::now())
            .unwrap();
        assert!(closed.closed_at.is_some());
        let (reopened, _) = patch(json!({"version": 2, "status": "waiting"}))
            .apply(&closed, Utc::now())
            .unwrap();
        assert!(reopened.closed_at.is_none());
    }

    #[test]
    fn assignee_null_unassigns_and_absent_keeps() {
        let mut t = ticket();
        t.assignee = Some(Assignee::User(UserId::parse("alice").unwrap()));
        let (kept, c) = patch(json!({"version": 1, "name": "New"}))
            .apply(&t, Utc::now())
            .unwrap();
        assert!(kept.assignee.is_some());
        assert_eq!(c.len(), 1);
        let (cleared, c) = patch(json!({"version": 1, "assignee": null}))
            .apply(&t, Utc::now())
            .unwrap();
        assert_eq!(cleared.assignee, None);
        assert_eq!(c[0].field, "assignee");
        assert_eq!(c[0].to, Value::Null);
    }

    #[test]
    fn tags_add_remove_and_replace() {
        let t = ticket();
        let (tagged, _) = patch(json!({"version": 1, "add_tags": ["VIP", "vip", "billing"]}))
            .apply(&t, Utc::now())
            .unwrap();
        assert_eq!(tags_json(&tagged.tags), json!(["vip", "billing"]));
        let (less, c) = patch(json!({"version": 2, "remove_tags": ["Billing"]}))
            .apply(&tagged, Utc::now())
            .unwrap();
        assert_eq!(tags_json(&less.tags), json!(["vip"]));
        assert_eq!(c[0].field, "tags");
        let both =
            patch(json!({"version": 1, "tags": ["a"], "add_tags": ["b"]})).apply(&t, Utc::now());
        assert_eq!(both.unwrap_err().field, "tags");
    }

    #[test]
    fn unknown_fields_and_enum_values_are_refused() {
        assert!(
            serde_json::from_value::<TicketPatch>(json!({"version": 1, "colour": "red"})).is_err()
        );
        assert!(
            serde_json::from_value::<TicketPatch>(json!({"version": 1, "status": "done"})).is_err()
        );
        assert!(serde_json::from_value::<TicketPatch>(json!({"status": "open"})).is_err());
    }
}
