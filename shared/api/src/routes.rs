//! Routing: method + path to a domain call. Each arm only translates.

use desk_domain::directory::{GroupUpdate, NewGroup, NewUser, UserUpdate};
use desk_domain::erasure::Retention;
use desk_domain::mailbox::{MailboxUpdate, NewMailbox};
use desk_domain::note::NewNote;
use desk_domain::rules::{NewRule, RuleInput, RuleUpdate};
use desk_domain::ticket::{NewTicket, TicketPatch};
use desk_domain::{Caller, FieldError, GroupId, ListRequest, TicketNumber, UserId};
use http::{Method, StatusCode};
use lambda_http::Request;
use serde_json::json;

use crate::body::{is_empty, json, no_query, page_request, query_pairs};
use crate::problem::Problem;
use crate::{App, Reply};

pub(crate) type Res = Result<Reply, Problem>;

pub(crate) fn ticket_number(raw: &str) -> Result<TicketNumber, Problem> {
    TicketNumber::parse(raw).map_err(|e| Problem::invalid_field(FieldError::new("id", e.message)))
}

/// Malformed directory ids cannot exist, so they are simply not found.
fn user_id(raw: &str) -> Result<UserId, Problem> {
    UserId::parse(raw).map_err(|_| Problem::not_found("user"))
}

fn group_id(raw: &str) -> Result<GroupId, Problem> {
    GroupId::parse(raw).map_err(|_| Problem::not_found("group"))
}

/// A path segment as text: percent-escapes decoded (`carol%40example.com`);
/// malformed escapes or non-UTF-8 name `field`.
fn path_text(raw: &str, field: &str) -> Result<String, Problem> {
    let bad = || Problem::invalid_field(FieldError::new(field, "is not a valid path segment"));
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

pub(crate) fn method_not_allowed(allowed: &str) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("allowed methods: {allowed}"),
    )
}

/// Which methods a path supports; `None` for unknown paths.
pub(crate) fn allowed(segments: &[&str]) -> Option<&'static str> {
    Some(match segments {
        ["me"] => "GET",
        ["audit"] => "GET",
        ["exports"] => "POST",
        ["me", "signature"] => "PUT",
        ["settings", "signature"] => "GET, PUT",
        ["settings", "retention"] => "GET, PUT",
        ["settings", "retention", "dry-run"] => "POST",
        ["customers", _, "erasure"] => "GET, POST",
        ["text-modules"] => "GET, POST",
        ["text-modules", _] => "GET, PUT, DELETE",
        ["tickets", _, "text-modules", _] => "GET",
        ["tickets"] => "GET, POST",
        ["tickets", "counts"] => "GET",
        ["tickets", _] => "GET, PATCH",
        ["tickets", _, "activity"] => "GET",
        ["tickets", _, "merge"] => "POST",
        ["tickets", _, "notes"] => "GET, POST",
        ["tickets", _, "replies"] | ["tickets", _, "uploads"] => "POST",
        ["tickets", _, "forwards"] => "POST",
        ["tickets", _, "messages"]
        | ["tickets", _, "messages", _]
        | ["tickets", _, "messages", _, "raw"]
        | ["tickets", _, "messages", _, "attachments", _] => "GET",
        ["users"] | ["groups"] => "GET, POST",
        ["users", _] | ["groups", _] | ["modules", _] => "GET, PUT, DELETE",
        ["tickets", _, "sessions"] => "POST",
        ["modules"] => "GET, POST",
        ["rules"] => "GET, POST",
        ["rules", "dry-run"] => "POST",
        ["rules", _] => "GET, PUT, DELETE",
        ["mailboxes"] => "GET, POST",
        ["mailboxes", _] => "GET, PUT, DELETE",
        ["service-cases"] => "GET, POST, DELETE",
        ["service-cases", _] => "GET, DELETE",
        ["service-cases", _, "close"] | ["service-cases", _, "connect"] => "POST",
        ["public", "modules", _, "cases"] | ["public", "cases", _, "events"] => "POST",
        _ => return None,
    })
}

pub async fn dispatch(app: &App, req: &Request) -> Res {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let allow = allowed(&segments).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            format!("no route {path}"),
        )
    })?;
    let method = req.method().clone();
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return Err(method_not_allowed(allow));
    }
    if segments.first() == Some(&"public") {
        // The customer side: no agent login; each route authenticates and limits itself.
        return crate::routes_cases::public(app, req, &segments).await;
    }
    let subject = app.auth.subject(req)?;
    let caller = app.desk.caller(&subject).await?;
    if crate::routes_texts::owns(&segments) {
        return crate::routes_texts::route(app, req, &caller, &method, &segments).await;
    }
    if matches!(
        segments.get(2),
        Some(&"replies") | Some(&"forwards") | Some(&"messages") | Some(&"uploads")
    ) {
        return crate::routes_mail::route(app, req, &caller, &method, &segments).await;
    }
    if matches!(segments.first(), Some(&"service-cases") | Some(&"modules"))
        || segments.get(2) == Some(&"sessions")
    {
        return crate::routes_cases::route(app, req, &caller, &method, &segments).await;
    }
    route(app, req, &caller, &method, &segments).await
}

async fn route(
    app: &App,
    req: &Request,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
) -> Res {
    let desk = &app.desk;
    match (method.as_str(), segments) {
        ("GET", ["me"]) => {
            no_query(req)?;
            Reply::ok(&json!({
                "user": caller.user,
                "role": caller.user.role,
                "groups": caller.user.groups,
            }))
        }

        ("GET", ["tickets"]) => {
            let request = ListRequest::parse(&query_pairs(req)).map_err(Problem::invalid_query)?;
            let page = desk.list_tickets(caller, &request).await?;
            Reply::ok(&json!({
                "items": page.items,
                "count": page.items.len(),
                "next_cursor": page.next_cursor,
            }))
        }
        ("POST", ["tickets"]) => {
            no_query(req)?;
            let input: NewTicket = json(req)?;
            let ticket = desk.create_ticket(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &ticket)?.header(
                http::header::LOCATION,
                format!("/tickets/{}", ticket.number),
            ))
        }
        ("GET", ["tickets", "counts"]) => {
            no_query(req)?;
            Reply::ok(&desk.ticket_counts(caller).await?)
        }
        ("GET", ["tickets", id]) => {
            no_query(req)?;
            Reply::ok(&desk.ticket(caller, ticket_number(id)?).await?)
        }
        ("PATCH", ["tickets", id]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            let patch: TicketPatch = json(req)?;
            Reply::ok(&desk.edit_ticket(caller, number, patch).await?)
        }
        ("POST", ["tickets", id, "merge"]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            let input: desk_domain::merging::MergeRequest = json(req)?;
            Reply::ok(&desk.merge_ticket(caller, number, input).await?)
        }
        ("GET", ["tickets", id, "activity"]) => {
            let number = ticket_number(id)?;
            let page = desk.activity(caller, number, &page_request(req)?).await?;
            Reply::ok(&json!({"items": page.items, "next_cursor": page.next_cursor}))
        }
        ("GET", ["tickets", id, "notes"]) => {
            let number = ticket_number(id)?;
            let page = desk.notes(caller, number, &page_request(req)?).await?;
            Reply::ok(&json!({"items": page.items, "next_cursor": page.next_cursor}))
        }
        ("POST", ["tickets", id, "notes"]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            let input: NewNote = json(req)?;
            let note = desk.add_note(caller, number, input).await?;
            Reply::json(StatusCode::CREATED, &note)
        }

        ("GET", ["users"]) => {
            no_query(req)?;
            Reply::ok(&json!({"items": desk.users(caller).await?}))
        }
        ("POST", ["users"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: NewUser = json(req)?;
            let user = desk.create_user(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &user)?
                .header(http::header::LOCATION, format!("/users/{}", user.id)))
        }
        ("GET", ["users", id]) => {
            no_query(req)?;
            Reply::ok(&desk.user(caller, &user_id(id)?).await?)
        }
        ("PUT", ["users", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            let id = user_id(id)?;
            let input: UserUpdate = json(req)?;
            Reply::ok(&desk.update_user(caller, &id, input).await?)
        }
        ("DELETE", ["users", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            desk.delete_user(caller, &user_id(id)?).await?;
            Ok(Reply::no_content())
        }

        ("GET", ["groups"]) => {
            no_query(req)?;
            Reply::ok(&json!({"items": desk.groups(caller).await?}))
        }
        ("POST", ["groups"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: NewGroup = json(req)?;
            let group = desk.create_group(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &group)?
                .header(http::header::LOCATION, format!("/groups/{}", group.id)))
        }
        ("GET", ["groups", id]) => {
            no_query(req)?;
            let (group, members) = desk.group(caller, &group_id(id)?).await?;
            let mut value = serde_json::to_value(&group).map_err(|e| {
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
            value["members"] = json!(members);
            Reply::ok(&value)
        }
        ("PUT", ["groups", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            let id = group_id(id)?;
            let input: GroupUpdate = json(req)?;
            Reply::ok(&desk.update_group(caller, &id, input).await?)
        }
        ("DELETE", ["groups", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            desk.delete_group(caller, &group_id(id)?).await?;
            Ok(Reply::no_content())
        }

        ("GET", ["rules"]) => {
            no_query(req)?;
            Reply::ok(&json!({"items": desk.rules(caller).await?}))
        }
        ("POST", ["rules"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: NewRule = json(req)?;
            let rule = desk.create_rule(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &rule)?
                .header(http::header::LOCATION, format!("/rules/{}", rule.id)))
        }
        ("POST", ["rules", "dry-run"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: RuleInput = json(req)?;
            Reply::ok(&desk.dry_run(caller, &input).await?)
        }
        ("GET", ["rules", id]) => {
            no_query(req)?;
            Reply::ok(&desk.rule(caller, id).await?)
        }
        ("PUT", ["rules", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: RuleUpdate = json(req)?;
            Reply::ok(&desk.update_rule(caller, id, input).await?)
        }
        ("DELETE", ["rules", id]) => {
            no_query(req)?;
            desk.delete_rule(caller, id).await?;
            Ok(Reply::no_content())
        }

        // Erasure and retention: administrators only (the domain checks first).
        ("POST", ["customers", email, "erasure"]) => {
            no_query(req)?;
            let email = path_text(email, "email")?;
            let (erasure, started) = desk.start_erasure(caller, &email).await?;
            let status = if started {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            Ok(Reply::json(status, &erasure)?.header(
                http::header::LOCATION,
                format!("/customers/{}/erasure", segments[1]),
            ))
        }
        ("GET", ["customers", email, "erasure"]) => {
            no_query(req)?;
            let email = path_text(email, "email")?;
            Reply::ok(&desk.erasure(caller, &email).await?)
        }
        ("GET", ["settings", "retention"]) => {
            no_query(req)?;
            Reply::ok(&desk.retention(caller).await?)
        }
        ("PUT", ["settings", "retention"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: Retention = json(req)?;
            Reply::ok(&desk.set_retention(caller, input).await?)
        }
        ("POST", ["settings", "retention", "dry-run"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: Retention = if is_empty(req) {
                Retention::default()
            } else {
                json(req)?
            };
            Reply::ok(&desk.retention_dry_run(caller, input).await?)
        }

        // Mailboxes: administrators only; the password is write-only.
        ("GET", ["mailboxes"]) => {
            no_query(req)?;
            Reply::ok(&json!({"items": desk.mailboxes(caller).await?}))
        }
        ("POST", ["mailboxes"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: NewMailbox = json(req)?;
            let mailbox = desk.create_mailbox(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &mailbox)?
                .header(http::header::LOCATION, format!("/mailboxes/{}", mailbox.id)))
        }
        ("GET", ["mailboxes", id]) => {
            no_query(req)?;
            Reply::ok(&desk.mailbox(caller, id).await?)
        }
        ("PUT", ["mailboxes", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: MailboxUpdate = json(req)?;
            Reply::ok(&desk.update_mailbox(caller, id, input).await?)
        }
        ("DELETE", ["mailboxes", id]) => {
            no_query(req)?;
            desk.delete_mailbox(caller, id).await?;
            Ok(Reply::no_content())
        }

        ("POST", ["exports"]) => crate::routes_export::route(app, req, caller).await,

        // The audit trail: administrators only (checked before the query is read).
        ("GET", ["audit"]) => {
            caller.require_admin()?;
            let query = desk_domain::audit::AuditQuery::parse(&query_pairs(req))
                .map_err(Problem::invalid_query)?;
            let page = desk.audit_trail(caller, &query).await?;
            Reply::ok(&json!({"items": page.items, "next_cursor": page.next_cursor}))
        }

        _ => Err(method_not_allowed(allowed(segments).unwrap_or(""))),
    }
}
