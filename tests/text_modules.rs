//! Formatted replies and the standard texts they are written with, over HTTP:
//! text modules (administrators write, agents read and use them, placeholders
//! filled for the ticket and the agent), the agent's and the desk's signatures,
//! Markdown rendered into an HTML part beside the text, and the answered message
//! quoted. What is mailed is read back from moto's SES record.

use desk_ingest::Outcome;
use desk_tests::{assert_problem, sent_mail_to, ses_delivery, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Ann Lee writes in; returns the new ticket's number.
async fn customer_writes(s: &Stack, from: &str) -> u64 {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let raw = format!(
        "From: Ann Lee <{from}>\r\nTo: support@desk.example\r\nSubject: Printer jams\r\n\
         Message-ID: <{id}@mail.example.com>\r\nDate: Tue, 01 Dec 2026 09:30:00 +0000\r\n\r\n\
         My printer jams on every page.\r\n\r\nSince Monday.\r\n"
    );
    match s
        .inbound
        .ingest
        .ingest(&ses_delivery(&id), raw.as_bytes())
        .await
    {
        Ok(Outcome::NewTicket(n)) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

async fn create_module(s: &Stack, name: &str, text: &str) -> Value {
    let r = s
        .post(
            "/text-modules",
            "admin",
            json!({"name": name, "text": text}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

#[tokio::test]
async fn administrators_write_text_modules_and_agents_read_them() {
    let s = Stack::start().await;
    let m = create_module(
        &s,
        "Restart",
        "Hello {{customer.first_name}}, please restart.",
    )
    .await;
    let id = m["id"].as_str().unwrap();
    assert!(id.starts_with('m') && id.len() == 13, "{id}");
    assert_eq!(m["version"], 1);

    // Agents read the list and each module…
    let list = s.get("/text-modules", "alice").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["items"][0]["id"], id);
    assert_eq!(
        s.get(&format!("/text-modules/{id}"), "bob").await.status,
        StatusCode::OK
    );
    // …and write nothing.
    let refused = s
        .post("/text-modules", "alice", json!({"name": "x", "text": "y"}))
        .await;
    assert_problem(&refused, 403, "forbidden", None);
    let refused = s
        .put(
            &format!("/text-modules/{id}"),
            "alice",
            json!({"version": 1, "name": "x", "text": "y"}),
        )
        .await;
    assert_problem(&refused, 403, "forbidden", None);
    assert_problem(
        &s.delete(&format!("/text-modules/{id}"), "bob").await,
        403,
        "forbidden",
        None,
    );

    // Edits carry the version read.
    let edited = s
        .put(
            &format!("/text-modules/{id}"),
            "admin",
            json!({"version": 1, "name": "Restart it", "text": "Restart, {{customer.name}}."}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["version"], 2);
    let stale = s
        .put(
            &format!("/text-modules/{id}"),
            "admin",
            json!({"version": 1, "name": "Old", "text": "Old"}),
        )
        .await;
    assert_problem(&stale, 409, "version_conflict", Some("version"));
    assert_eq!(stale.body["current_version"], 2);

    // An unknown placeholder is refused when saved, and named.
    let bad = s
        .post(
            "/text-modules",
            "admin",
            json!({"name": "Typo", "text": "Hi {{customer.nmae}}"}),
        )
        .await;
    assert_problem(&bad, 400, "invalid_field", Some("text"));
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap()
            .contains("{{customer.nmae}}"),
        "{}",
        bad.body
    );

    assert_eq!(
        s.delete(&format!("/text-modules/{id}"), "admin")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &s.get(&format!("/text-modules/{id}"), "admin").await,
        404,
        "text_module_not_found",
        None,
    );
    assert_problem(
        &s.get("/text-modules/not-an-id", "admin").await,
        404,
        "text_module_not_found",
        None,
    );
}

#[tokio::test]
async fn a_module_is_filled_for_the_ticket_and_the_agent_who_uses_it() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes(&s, &from).await;
    let m = create_module(
        &s,
        "Greeting",
        "Hello {{customer.first_name}},\nabout #{{ticket.number}} ({{ticket.name}}).\n{{agent.name}} <{{agent.email}}>",
    )
    .await;
    let id = m["id"].as_str().unwrap();
    let filled = s
        .get(&format!("/tickets/{n}/text-modules/{id}"), "admin")
        .await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.body);
    assert_eq!(
        filled.body["text"],
        format!("Hello Ann,\nabout #{n} (Printer jams).\nAdministrator <admin@desk.example>")
    );
    // Filling needs a ticket the caller may see.
    let other = s
        .ticket(Stack::ticket_body(
            "Billing only",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    assert_problem(
        &s.get(&format!("/tickets/{other}/text-modules/{id}"), "alice")
            .await,
        404,
        "ticket_not_found",
        None,
    );
}

#[tokio::test]
async fn a_markdown_reply_with_a_module_signatures_and_the_quote_is_mailed_in_both_parts() {
    let s = Stack::start().await;
    let from = customer();
    // Received at a known time, for the quote's attribution.
    s.clock.freeze("2026-12-01T09:30:00Z".parse().unwrap());
    let n = customer_writes(&s, &from).await;
    s.clock.unfreeze();
    let m = create_module(
        &s,
        "Steps",
        "Please try:\n\n1. **unplug** it\n2. wait a minute\n\nThanks, {{customer.first_name}}!",
    )
    .await;

    let sig = s
        .put(
            "/me/signature",
            "admin",
            json!({"text": "{{agent.name}}, *second level*"}),
        )
        .await;
    assert_eq!(sig.status, StatusCode::OK, "{}", sig.body);
    assert_eq!(sig.body["signature"], "{{agent.name}}, *second level*");
    let desk = s.get("/settings/signature", "alice").await;
    assert_eq!(desk.body, json!({"text": "", "version": 0}));
    let set = s
        .put(
            "/settings/signature",
            "admin",
            json!({"version": 0, "text": "Example Support · [help](https://help.example)"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_problem(
        &s.put(
            "/settings/signature",
            "alice",
            json!({"version": 1, "text": "mine"}),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.put(
            "/settings/signature",
            "admin",
            json!({"version": 0, "text": "again"}),
        )
        .await,
        409,
        "version_conflict",
        Some("version"),
    );

    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "Hi Ann,\n<b>not bold</b> but `code`.", "text_module": m["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(s.drain_outbox().await, 1);
    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];

    // The text part: as written, the module filled after a blank line, the
    // signatures after "-- ", the customer's message quoted.
    let text = mail.text.replace("\r\n", "\n");
    let expected_start = "Hi Ann,\n<b>not bold</b> but `code`.\n\nPlease try:\n\n1. **unplug** it\n2. wait a minute\n\nThanks, Ann!\n\n-- \nAdministrator, *second level*\n\nExample Support · [help](https://help.example)\n\nOn Tue, 1 Dec 2026 at 09:30 UTC, Ann Lee wrote:\n> My printer jams on every page.\n>\n> Since Monday.";
    assert!(text.starts_with(expected_start), "text part:\n{text}");

    // The HTML part: rendered and sanitised, the raw HTML shown as text.
    let html = mail.html.as_deref().expect("an HTML part beside the text");
    assert!(html.contains("<strong>unplug</strong>"), "{html}");
    assert!(html.contains("<ol>"), "{html}");
    assert!(html.contains("<code>code</code>"), "{html}");
    assert!(html.contains("&lt;b&gt;not bold&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(html.contains("<em>second level</em>"), "{html}");
    assert!(
        html.contains(r#"<a href="https://help.example" rel="noopener noreferrer">help</a>"#),
        "{html}"
    );
    assert!(
        html.contains(
            "<blockquote>My printer jams on every page.<br><br>Since Monday.</blockquote>"
        ),
        "{html}"
    );

    // The stored reply is the mail as sent.
    assert_eq!(r.body["text"].as_str().unwrap().trim_end(), text.trim_end());
    assert!(r.body["html"]
        .as_str()
        .unwrap()
        .contains("<strong>unplug</strong>"));
}

#[tokio::test]
async fn a_reply_naming_a_missing_module_or_saying_nothing_is_refused_and_sends_nothing() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes(&s, &from).await;
    let missing = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "x", "text_module": "mzzzzzzzzzzzz"}),
        )
        .await;
    assert_problem(&missing, 400, "invalid_field", Some("text_module"));
    let empty = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "  "}),
        )
        .await;
    assert_problem(&empty, 400, "invalid_field", Some("text"));
    let bad_sig = s
        .put(
            "/me/signature",
            "alice",
            json!({"text": "{{agent.nickname}}"}),
        )
        .await;
    assert_problem(&bad_sig, 400, "invalid_field", Some("text"));

    assert_eq!(s.drain_outbox().await, 0, "nothing queued");
    assert!(sent_mail_to(&from).await.is_empty(), "nothing sent");
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "only the customer's mail"
    );
}

#[tokio::test]
async fn an_administrator_sets_a_users_signature_and_a_put_without_it_keeps_it() {
    let s = Stack::start().await;
    let put = |sig: Option<&str>| {
        let mut body = json!({"name": "alice", "email": "alice@desk.example", "role": "agent", "groups": ["support"]});
        if let Some(sig) = sig {
            body["signature"] = json!(sig);
        }
        body
    };
    let r = s
        .put("/users/alice", "admin", put(Some("Alice from support")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["signature"], "Alice from support");
    let r = s.put("/users/alice", "admin", put(None)).await;
    assert_eq!(r.body["signature"], "Alice from support", "absent keeps it");
    let me = s.get("/me", "alice").await;
    assert_eq!(me.body["user"]["signature"], "Alice from support");
}
