//! The list view's query: filters, search, sort, order and paging, parsed from
//! query-string pairs, plus the predicate every listed ticket must satisfy.

use crate::access::{Caller, Scope};
use crate::error::{DeskError, FieldError};
use crate::ticket::{Assignee, Ticket, UNASSIGNED_KEY};
use crate::types::{limits, EmailAddress, GroupId, Priority, Status, Tag, UserId};

pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
    Priority,
    Status,
    Name,
    Customer,
    Assignee,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str); 7] = [
        (SortKey::Created, "created"),
        (SortKey::Updated, "updated"),
        (SortKey::Priority, "priority"),
        (SortKey::Status, "status"),
        (SortKey::Name, "name"),
        (SortKey::Customer, "customer"),
        (SortKey::Assignee, "assignee"),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("updated", |(_, s)| s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// Which assignee the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Me,
    Unassigned,
    Is(Assignee),
}

/// A parsed `GET /tickets` request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRequest {
    pub status: Vec<Status>,
    pub priority: Vec<Priority>,
    pub assignee: Option<AssigneeFilter>,
    pub tags: Vec<Tag>,
    pub customer: Option<EmailAddress>,
    pub terms: Vec<String>,
    pub sort: SortKey,
    pub order: Order,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl Default for ListRequest {
    fn default() -> Self {
        Self {
            status: vec![],
            priority: vec![],
            assignee: None,
            tags: vec![],
            customer: None,
            terms: vec![],
            sort: SortKey::Updated,
            order: Order::Desc,
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

fn list_of<T>(
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Result<Vec<T>, FieldError>
where
    T: PartialEq,
{
    let mut out = Vec::new();
    for part in raw.split(',').filter(|p| !p.trim().is_empty()) {
        let v = parse(part).map_err(|e| FieldError::new(field, e.message))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn parse_assignee(raw: &str) -> Result<AssigneeFilter, FieldError> {
    let bad = || {
        FieldError::new(
            "assignee",
            "must be me, unassigned, user:<id> or group:<id>",
        )
    };
    match raw.trim() {
        "me" => Ok(AssigneeFilter::Me),
        "unassigned" | "none" => Ok(AssigneeFilter::Unassigned),
        other => match other.split_once(':') {
            Some(("user", id)) => Ok(AssigneeFilter::Is(Assignee::User(
                UserId::parse(id).map_err(|_| bad())?,
            ))),
            Some(("group", id)) => Ok(AssigneeFilter::Is(Assignee::Group(
                GroupId::parse(id).map_err(|_| bad())?,
            ))),
            _ => Err(bad()),
        },
    }
}

/// The search words of `q`, folded as stored text is (`words`), at most 10.
pub fn search_terms(q: &str) -> Result<Vec<String>, FieldError> {
    if q.chars().count() > limits::QUERY {
        return Err(FieldError::new(
            "q",
            format!("must be at most {} characters", limits::QUERY),
        ));
    }
    let mut terms: Vec<String> = Vec::new();
    for w in crate::words::words(q) {
        if !terms.contains(&w) {
            terms.push(w);
        }
    }
    if terms.len() > 10 {
        return Err(FieldError::new("q", "at most 10 words"));
    }
    Ok(terms)
}

impl ListRequest {
    /// Parses query-string pairs; unknown or repeated parameters are refused by name.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, FieldError> {
        let mut req = ListRequest::default();
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in pairs {
            if seen.contains(&k.as_str()) && k != "tag" {
                return Err(FieldError::new(k.clone(), "given more than once"));
            }
            seen.push(k);
            match k.as_str() {
                "status" => req.status = list_of("status", v, Status::parse)?,
                "priority" => req.priority = list_of("priority", v, Priority::parse)?,
                "assignee" => req.assignee = Some(parse_assignee(v)?),
                "tag" | "tags" => {
                    for t in list_of(k, v, Tag::parse)? {
                        if !req.tags.contains(&t) {
                            req.tags.push(t);
                        }
                    }
                }
                "customer" => {
                    req.customer = Some(EmailAddress::parse(v).map_err(|e| FieldError::new("customer", e.message))?)
                }
                "q" => req.terms = search_terms(v)?,
                "sort" => {
                    req.sort = SortKey::ALL
                        .iter()
                        .find(|(_, s)| *s == v.trim())
                        .map(|(k, _)| *k)
                        .ok_or_else(|| {
                            FieldError::new("sort", "must be one of: created, updated, priority, status, name, customer, assignee")
                        })?
                }
                "order" => {
                    req.order = match v.trim() {
                        "asc" => Order::Asc,
                        "desc" => Order::Desc,
                        _ => return Err(FieldError::new("order", "must be asc or desc")),
                    }
                }
                "limit" => {
                    req.limit = v
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| FieldError::new("limit", format!("must be a whole number from 1 to {MAX_LIMIT}")))?
                }
                "cursor" => {
                    if v.is_empty() || v.len() > 2048 {
                        return Err(FieldError::new("cursor", "is not a cursor this API returned"));
                    }
                    req.cursor = Some(v.clone())
                }
                other => return Err(FieldError::new(other, "is not a known query parameter")),
            }
        }
        if req.tags.len() > limits::TAGS {
            return Err(FieldError::new(
                "tag",
                format!("at most {} tags", limits::TAGS),
            ));
        }
        Ok(req)
    }

    /// Narrows the request to what `caller` may see. `None`: nothing can match
    /// (an agent asking for someone else's tickets), so no storage call is needed.
    pub fn plan(&self, caller: &Caller) -> Result<Option<TicketQuery>, DeskError> {
        let scope = caller.scope();
        let assignee = match &self.assignee {
            None => None,
            Some(AssigneeFilter::Me) => Some(Assignee::User(caller.id().clone()).key()),
            Some(AssigneeFilter::Unassigned) => Some(UNASSIGNED_KEY.to_string()),
            Some(AssigneeFilter::Is(a)) => Some(a.key()),
        };
        if let Some(key) = &assignee {
            if !scope.allows_key(key) {
                return Ok(None);
            }
        }
        Ok(Some(TicketQuery {
            scope,
            status: self.status.clone(),
            priority: self.priority.clone(),
            assignee,
            tags: self.tags.clone(),
            customer: self.customer.as_ref().map(EmailAddress::key),
            terms: self.terms.clone(),
            sort: self.sort,
            order: self.order,
            limit: self.limit,
            cursor: self.cursor.clone(),
        }))
    }
}

/// What storage is asked for: the request narrowed to the caller's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketQuery {
    pub scope: Scope,
    pub status: Vec<Status>,
    pub priority: Vec<Priority>,
    /// Assignee key (`user:x`, `group:y`, `none`).
    pub assignee: Option<String>,
    pub tags: Vec<Tag>,
    /// Lowercased customer email.
    pub customer: Option<String>,
    pub terms: Vec<String>,
    pub sort: SortKey,
    pub order: Order,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl TicketQuery {
    /// Whether `ticket` belongs in the result by its own fields: the tests' reference for
    /// list pages (the full-text index answers the words, over notes and mail too).
    pub fn matches(&self, ticket: &Ticket) -> bool {
        self.matches_filters(ticket) && crate::words::matches(&ticket.search_text(), &self.terms)
    }

    /// Whether `ticket` passes everything but the search words (which the
    /// full-text index answers, over notes and mail too).
    pub fn matches_filters(&self, ticket: &Ticket) -> bool {
        let key = Assignee::key_of(&ticket.assignee);
        self.scope.allows_key(&key)
            && (self.status.is_empty() || self.status.contains(&ticket.status))
            && (self.priority.is_empty() || self.priority.contains(&ticket.priority))
            && self.assignee.as_ref().is_none_or(|a| *a == key)
            && self.tags.iter().all(|t| ticket.tags.contains(t))
            && self
                .customer
                .as_ref()
                .is_none_or(|c| *c == ticket.customer.email.key())
    }

    /// Whether any filter beyond the index's own key is in force.
    pub fn is_filtered(&self) -> bool {
        self.scope != Scope::All
            || !self.status.is_empty()
            || !self.priority.is_empty()
            || self.assignee.is_some()
            || !self.tags.is_empty()
            || self.customer.is_some()
            || !self.terms.is_empty()
    }
}

impl Ticket {
    /// The searchable words (`words::searchable`) of what `q` searches: number,
    /// name, description, customer, tags.
    pub fn search_text(&self) -> String {
        crate::words::searchable(&self.search_source())
    }

    /// The text of what `q` searches on the ticket itself (a description from mail
    /// without its quoted history and signature, as for messages).
    pub fn search_source(&self) -> String {
        let mut s = format!(
            "#{} {}\n{}\n{} {} {}",
            self.number,
            self.name,
            crate::stream::search::fresh_text(&self.description),
            self.customer.name,
            self.customer.email,
            self.customer.phone
        );
        for t in self.tags.iter() {
            s.push(' ');
            s.push_str(t.as_str());
        }
        s
    }
}

/// One page of results and the cursor for the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_parameter() {
        let r = ListRequest::parse(&pairs(&[
            ("status", "open,waiting"),
            ("priority", "urgent"),
            ("assignee", "group:support"),
            ("tag", "VIP"),
            ("tag", "billing"),
            ("customer", "C@Example.com"),
            ("q", "Printer  FIRE"),
            ("sort", "priority"),
            ("order", "asc"),
            ("limit", "10"),
        ]))
        .unwrap();
        assert_eq!(r.status, vec![Status::Open, Status::Waiting]);
        assert_eq!(r.priority, vec![Priority::Urgent]);
        assert_eq!(r.tags.len(), 2);
        assert_eq!(r.terms, vec!["printer", "fire"]);
        assert_eq!(r.sort, SortKey::Priority);
        assert_eq!(r.order, Order::Asc);
        assert_eq!(r.limit, 10);
        let r = ListRequest::parse(&pairs(&[("q", "Café, CAFÉ crème")])).unwrap();
        assert_eq!(r.terms, vec!["cafe", "creme"]);
    }

    #[test]
    fn refuses_bad_parameters_by_name() {
        for (k, v) in [
            ("status", "done"),
            ("priority", "p1"),
            ("assignee", "someone"),
            ("sort", "colour"),
            ("order", "up"),
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "ten"),
            ("customer", "nobody"),
            ("bogus", "1"),
        ] {
            let err = ListRequest::parse(&pairs(&[(k, v)])).unwrap_err();
            assert_eq!(err.field, k, "{k}={v}");
        }
        let err = ListRequest::parse(&pairs(&[("limit", "5"), ("limit", "6")])).unwrap_err();
        assert_eq!(err.field, "limit");
    }
}
