//! Tickets over HTTP: create, overview, edits with optimistic concurrency, notes,
//! the activity log, and the list view's filters, search, sort and paging.

use desk_tests::{assert_problem, numbers, Stack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_then_overview_returns_the_stored_ticket_with_defaults() {
    let s = Stack::start().await;
    let r = s
        .post(
            "/tickets",
            "alice",
            json!({"name": "  Printer on fire ", "tags": [" Hardware", "hardware", "URGENT "],
                   "customer": {"email": "Carol@Example.COM", "name": "Carol", "phone": "+1 555 0100"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let n = r.body["number"].as_u64().unwrap();
    assert_eq!(r.headers["location"], format!("/tickets/{n}").as_str());
    assert_eq!(r.body["name"], "Printer on fire");
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["priority"], "medium");
    assert_eq!(r.body["source"], "manual");
    assert_eq!(r.body["tags"], json!(["hardware", "urgent"]));
    assert_eq!(r.body["customer"]["email"], "Carol@example.com");
    assert_eq!(r.body["version"], 1);
    assert!(n >= 1001);

    let got = s.get(&format!("/tickets/{n}"), "alice").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, r.body);

    let act = s.get(&format!("/tickets/{n}/activity"), "alice").await;
    let items = act.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "ticket_created");
    assert_eq!(items[0]["actor"], json!({"type": "user", "id": "alice"}));
}

#[tokio::test]
async fn every_edit_is_logged_with_actor_and_stale_versions_conflict() {
    let s = Stack::start().await;
    let n = s
        .ticket(Stack::ticket_body("Login broken", json!({})))
        .await;
    let path = format!("/tickets/{n}");

    let r = s
        .patch(
            &path,
            "alice",
            json!({"version": 1, "status": "processing", "priority": "urgent",
                   "assignee": {"type": "group", "id": "support"}, "add_tags": ["VIP"],
                   "customer": {"phone": "+44 20 7946 0000"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(
        r.body["assignee"],
        json!({"type": "group", "id": "support"})
    );
    assert_eq!(r.body["customer"]["phone"], "+44 20 7946 0000");

    let stale = s
        .patch(&path, "alice", json!({"version": 1, "name": "Other"}))
        .await;
    assert_problem(&stale, 409, "version_conflict", Some("version"));
    assert_eq!(stale.body["current_version"], 2);

    let r = s
        .patch(&path, "bob", json!({"version": 2, "status": "closed"}))
        .await;
    // bob is not in support: the ticket is invisible to him.
    assert_problem(&r, 404, "ticket_not_found", None);
    let r = s
        .patch(
            &path,
            "admin",
            json!({"version": 2, "status": "closed", "name": "Login fixed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["closed_at"].is_string());

    let act = s.get(&format!("{path}/activity"), "admin").await;
    let items = act.body["items"].as_array().unwrap();
    let kinds: Vec<_> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["ticket_created", "fields_changed", "fields_changed"]
    );
    let first: Vec<_> = items[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        ["status", "priority", "assignee", "tags", "customer"]
    );
    assert_eq!(items[1]["actor"]["id"], "alice");
    assert_eq!(items[2]["actor"]["id"], "admin");
    assert_eq!(
        items[2]["changes"][0],
        json!({"field": "name", "from": "Login broken", "to": "Login fixed"})
    );
    // Times are in order.
    assert!(items[1]["at"].as_str() <= items[2]["at"].as_str());
}

#[tokio::test]
async fn a_no_op_edit_changes_nothing_and_logs_nothing() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Same", json!({}))).await;
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "admin",
            json!({"version": 1, "status": "open"}),
        )
        .await;
    assert_eq!(r.body["version"], 1);
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    assert_eq!(act.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn notes_are_listed_and_logged() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Refund", json!({}))).await;
    let r = s
        .post(
            &format!("/tickets/{n}/notes"),
            "alice",
            json!({"body": "Called the customer.\nWill retry."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["author"], "alice");
    s.post(
        &format!("/tickets/{n}/notes"),
        "admin",
        json!({"body": "Second"}),
    )
    .await;
    let notes = s.get(&format!("/tickets/{n}/notes"), "alice").await;
    let bodies: Vec<_> = notes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        [json!("Called the customer.\nWill retry."), json!("Second")]
    );
    let act = s.get(&format!("/tickets/{n}/activity"), "alice").await;
    let last = &act.body["items"][1];
    assert_eq!(last["kind"], "note_added");
    assert_eq!(last["excerpt"], "Called the customer.…");
    // A note touches the ticket's update time (lists sort by it) but not its version.
    let t = s.get(&format!("/tickets/{n}"), "alice").await;
    assert_eq!(t.body["version"], 1);
    assert_ne!(t.body["updated_at"], t.body["created_at"]);
}

#[tokio::test]
async fn activity_and_notes_page_with_cursors() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Chatty", json!({}))).await;
    for i in 0..5 {
        s.post(
            &format!("/tickets/{n}/notes"),
            "admin",
            json!({"body": format!("note {i}")}),
        )
        .await;
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let r = s
            .get(&format!("/tickets/{n}/notes?limit=2{q}"), "admin")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["body"].as_str().unwrap().to_string()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("note {i}")).collect::<Vec<_>>()
    );
}

async fn list(s: &Stack, query: &str, user: &str) -> Vec<u64> {
    let r = s.get(&format!("/tickets?{query}"), user).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    assert_eq!(
        r.body["count"].as_u64().unwrap() as usize,
        numbers(&r).len()
    );
    numbers(&r)
}

#[tokio::test]
async fn list_filters_search_and_sorts() {
    let s = Stack::start().await;
    let a = s
        .ticket(Stack::ticket_body(
            "Alpha printer jam",
            json!({"priority": "low", "tags": ["hardware"], "assignee": {"type": "user", "id": "alice"}}),
        ))
        .await;
    let b = s
        .ticket(Stack::ticket_body(
            "Bravo invoice",
            json!({"priority": "urgent", "status": "waiting", "tags": ["billing", "vip"],
                   "assignee": {"type": "group", "id": "billing"},
                   "customer": {"email": "dan@example.org", "name": "Dan"}}),
        ))
        .await;
    let c = s
        .ticket(Stack::ticket_body(
            "Charlie VPN",
            json!({"priority": "high", "assignee": {"type": "group", "id": "support"}}),
        ))
        .await;
    let d = s
        .ticket(Stack::ticket_body(
            "Delta export",
            json!({"status": "closed", "tags": ["vip"]}),
        ))
        .await;

    // Default: updated desc.
    assert_eq!(list(&s, "", "admin").await, [d, c, b, a]);
    assert_eq!(list(&s, "order=asc", "admin").await, [a, b, c, d]);
    assert_eq!(
        list(&s, "sort=created&order=asc", "admin").await,
        [a, b, c, d]
    );
    assert_eq!(list(&s, "sort=priority", "admin").await, [b, c, d, a]);
    assert_eq!(
        list(&s, "sort=status&order=asc", "admin").await,
        [a, c, b, d]
    );
    assert_eq!(list(&s, "sort=name&order=asc", "admin").await, [a, b, c, d]);
    assert_eq!(
        list(&s, "sort=customer&order=asc", "admin").await,
        [a, c, d, b]
    );
    assert_eq!(
        list(&s, "sort=assignee&order=asc", "admin").await,
        [b, c, d, a]
    );

    assert_eq!(list(&s, "status=waiting", "admin").await, [b]);
    assert_eq!(
        list(&s, "status=open,closed&order=asc", "admin").await,
        [a, c, d]
    );
    assert_eq!(list(&s, "priority=urgent,high", "admin").await, [c, b]);
    assert_eq!(list(&s, "assignee=unassigned", "admin").await, [d]);
    assert_eq!(list(&s, "assignee=user:alice", "admin").await, [a]);
    assert_eq!(list(&s, "assignee=group:support", "admin").await, [c]);
    assert_eq!(list(&s, "assignee=me", "alice").await, [a]);
    assert_eq!(list(&s, "tag=VIP", "admin").await, [d, b]);
    assert_eq!(list(&s, "tag=vip&tag=billing", "admin").await, [b]);
    assert_eq!(list(&s, "customer=DAN@example.org", "admin").await, [b]);
    s.drain_stream().await;
    assert_eq!(list(&s, "q=printer", "admin").await, [a]);
    assert_eq!(list(&s, "q=CHARLIE+vpn", "admin").await, [c]);
    assert_eq!(
        list(&s, "q=carol&sort=created&order=asc", "admin").await,
        [a, c, d]
    );
    assert_eq!(list(&s, &format!("q=%23{b}"), "admin").await, [b]);
    assert_eq!(list(&s, "status=open&sort=priority", "admin").await, [c, a]);
}

#[tokio::test]
async fn paging_visits_every_ticket_exactly_once_and_cursors_are_bound_to_their_query() {
    let s = Stack::start().await;
    let mut made = vec![];
    for i in 0..23 {
        let status = if i % 3 == 0 { "waiting" } else { "open" };
        made.push(
            s.ticket(Stack::ticket_body(
                &format!("T{i}"),
                json!({"status": status}),
            ))
            .await,
        );
    }
    for (query, expect) in [
        ("sort=created&order=asc", made.clone()),
        (
            "status=waiting&sort=created&order=asc",
            made.iter().copied().step_by(3).collect::<Vec<_>>(),
        ),
    ] {
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let c = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let r = s
                .get(&format!("/tickets?{query}&limit=5{c}"), "admin")
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let page = numbers(&r);
            assert!(page.len() <= 5);
            seen.extend(page);
            pages += 1;
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 20, "paging does not end");
        }
        assert_eq!(seen, expect, "{query}");
    }
    // A cursor from one query is refused by another.
    let r = s.get("/tickets?limit=2", "admin").await;
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let other = s
        .get(
            &format!("/tickets?limit=2&status=open&cursor={cursor}"),
            "admin",
        )
        .await;
    assert_problem(&other, 400, "invalid_cursor", Some("cursor"));
    let garbage = s.get("/tickets?cursor=abc", "admin").await;
    assert_problem(&garbage, 400, "invalid_cursor", Some("cursor"));
}

#[tokio::test]
async fn a_ticket_keeps_an_assignee_deleted_since_and_other_edits_still_work() {
    let s = Stack::start().await;
    let r = s
        .post(
            "/users",
            "admin",
            json!({"id": "temp", "name": "Temp", "email": "temp@desk.example", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let n = s
        .ticket(Stack::ticket_body(
            "Orphan",
            json!({"assignee": {"type": "user", "id": "temp"}}),
        ))
        .await;
    assert_eq!(
        s.delete("/users/temp", "admin").await.status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "admin",
            json!({"version": 1, "assignee": {"type": "user", "id": "temp"}, "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Assigning anew to someone who does not exist is still refused.
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "admin",
            json!({"version": 2, "assignee": {"type": "user", "id": "ghost"}}),
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("assignee"));
}
