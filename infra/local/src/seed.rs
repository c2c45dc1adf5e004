//! Demo data for `make dev`: the users `admin`, `alice` (support) and `bob`
//! (billing), their groups, and a handful of tickets. Safe to run twice.

use desk_domain::directory::{NewGroup, NewUser};
use desk_domain::note::NewNote;
use desk_domain::ticket::NewTicket;
use desk_domain::{Caller, Desk, DeskError, TicketNumber, User, UserId};
use serde_json::json;

fn ignore_existing<T>(r: Result<T, DeskError>) -> Result<(), DeskError> {
    match r {
        Ok(_) | Err(DeskError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The bootstrap administrator, written straight to the directory (nobody can
/// call the API before one exists).
pub async fn bootstrap_admin(desk: &Desk, id: &str) -> Result<Caller, DeskError> {
    let uid = UserId::parse(id)?;
    if let Some(user) = desk.directory.get_user(&uid).await? {
        return Caller::new(user);
    }
    let input: NewUser = serde_json::from_value(json!({
        "id": id, "name": "Administrator", "email": format!("{id}@desk.example"), "role": "admin"
    }))
    .map_err(|e| DeskError::invalid("admin", e.to_string()))?;
    let user: User = input.into_user(desk.clock.now())?;
    ignore_existing(desk.directory.create_user(&user).await)?;
    Caller::new(user)
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, DeskError> {
    serde_json::from_value(v).map_err(|e| DeskError::invalid("seed", e.to_string()))
}

/// Everything: the directory, then demo tickets on a fresh table.
pub async fn demo(desk: &Desk) -> Result<(), DeskError> {
    let admin = directory(desk).await?;
    tickets(desk, &admin).await
}

/// Groups `support` and `billing`; users `admin`, `alice` (support), `bob` (billing).
pub async fn directory(desk: &Desk) -> Result<Caller, DeskError> {
    let admin = bootstrap_admin(desk, "admin").await?;
    for (id, name) in [("support", "Support"), ("billing", "Billing")] {
        let g: NewGroup =
            parse(json!({"id": id, "name": name, "description": format!("{name} team")}))?;
        ignore_existing(desk.create_group(&admin, g).await)?;
    }
    for (id, name, group) in [
        ("alice", "Alice Agent", "support"),
        ("bob", "Bob Agent", "billing"),
    ] {
        let u: NewUser = parse(json!({
            "id": id, "name": name, "email": format!("{id}@desk.example"), "role": "agent", "groups": [group]
        }))?;
        ignore_existing(desk.create_user(&admin, u).await)?;
    }
    Ok(admin)
}

async fn tickets(desk: &Desk, admin: &Caller) -> Result<(), DeskError> {
    // Tickets only on a fresh table.
    if desk
        .tickets
        .get_ticket(TicketNumber::new(TicketNumber::FIRST)?)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let tickets = [
        json!({"name": "Cannot log in to the portal", "description": "Password reset mail never arrives.",
               "priority": "high", "assignee": {"type": "group", "id": "support"}, "tags": ["login", "email"],
               "customer": {"name": "Carol Customer", "email": "carol@example.com", "phone": "+1 555 0100"}}),
        json!({"name": "Invoice 2026-114 charged twice", "description": "Card was charged two times on 3 Nov.",
               "priority": "urgent", "assignee": {"type": "user", "id": "bob"}, "tags": ["billing", "refund"],
               "customer": {"name": "Dan Doe", "email": "dan@example.org"}}),
        json!({"name": "How do I export my data?", "description": "Looking for a CSV export of all projects.",
               "priority": "low", "customer": {"name": "Erin", "email": "erin@example.net"}}),
        json!({"name": "VPN drops every 10 minutes", "status": "processing", "assignee": {"type": "user", "id": "alice"},
               "tags": ["network"], "customer": {"name": "Frank", "email": "frank@example.com"}}),
        json!({"name": "Upgrade plan to Business", "status": "waiting", "assignee": {"type": "group", "id": "billing"},
               "customer": {"name": "Grace", "email": "grace@example.com"}}),
    ];
    for t in tickets {
        let input: NewTicket = parse(t)?;
        let ticket = desk.create_ticket(admin, input).await?;
        if ticket.priority == desk_domain::Priority::Urgent {
            let note: NewNote = parse(
                json!({"body": "Checked the payment provider: two captures. Refund pending."}),
            )?;
            desk.add_note(admin, ticket.number, note).await?;
        }
    }
    // A website SOS button (its public id is random: GET /modules shows it) and a
    // live remote-support session on the VPN ticket (1004, alice's).
    let module: desk_domain::module::ModuleInput =
        parse(json!({"name": "Website SOS button", "kind": "sos", "assignee": "alice"}))?;
    desk.create_module(admin, module).await?;
    let alice = desk.caller("alice").await?;
    let session: desk_domain::session::NewTicketSession =
        parse(json!({"description": "Check the VPN client logs"}))?;
    desk.create_ticket_session(&alice, TicketNumber::new(TicketNumber::FIRST + 3)?, session)
        .await?;
    Ok(())
}
