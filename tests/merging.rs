//! Merging a duplicate into another ticket (`POST /tickets/{id}/merge`), over
//! HTTP against DynamoDB Local: the target shows the whole conversation, the
//! merged ticket points at it and takes no more writes, mail that threads to the
//! merged ticket lands on the target, and permissions apply to both.

use desk_ingest::Outcome;
use desk_tests::{assert_problem, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The customer writes in; returns the new ticket and the mail's Message-ID.
async fn customer_writes(s: &Stack, from: &str, subject: &str, body: &str) -> (u64, String) {
    let msgid = format!("{}@mail.example.com", uuid::Uuid::new_v4().simple());
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n\r\n{body}\r\n"
    );
    match s.receive(&raw).await {
        Outcome::NewTicket(n) => (n.get(), msgid),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

/// The customer answers the mail `in_reply_to`, with `subject`.
async fn customer_answers(s: &Stack, from: &str, subject: &str, in_reply_to: &str) -> Outcome {
    let msgid = format!("{}@mail.example.com", uuid::Uuid::new_v4().simple());
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n\
         In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n\r\nAny news?\r\n"
    );
    s.receive(&raw).await
}

async fn merge(s: &Stack, source: u64, into: u64, user: &str) -> desk_tests::Reply {
    s.post(
        &format!("/tickets/{source}/merge"),
        user,
        json!({ "into": into }),
    )
    .await
}

fn items(r: &desk_tests::Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn kinds(r: &desk_tests::Reply) -> Vec<String> {
    items(r)
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn the_target_shows_the_whole_conversation_in_time_order() {
    let s = Stack::start().await;
    let from = customer();
    let (dup, _) = customer_writes(&s, &from, "Printer jams", "first mail").await;
    let (keep, _) = customer_writes(&s, &from, "Printer still jams", "second mail").await;
    let note = s
        .post(
            &format!("/tickets/{dup}/notes"),
            "admin",
            json!({"body": "called Carol"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);

    let r = merge(&s, dup, keep, "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["source"]["merged_into"], keep);
    assert_eq!(r.body["source"]["status"], "closed");
    assert_eq!(r.body["target"]["merged"], json!([dup]));
    assert_eq!(r.body["target"]["merged_into"], Value::Null);

    let messages = s.get(&format!("/tickets/{keep}/messages"), "admin").await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.body);
    let listed: Vec<(u64, String)> = items(&messages)
        .iter()
        .map(|m| {
            (
                m["ticket"].as_u64().unwrap(),
                m["text"].as_str().unwrap_or("").trim().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (dup, "first mail".to_string()),
            (keep, "second mail".to_string())
        ],
        "both tickets' mail, oldest first, each with its own ticket"
    );

    let notes = s.get(&format!("/tickets/{keep}/notes"), "admin").await;
    assert_eq!(items(&notes).len(), 1, "{}", notes.body);
    assert_eq!(items(&notes)[0]["ticket"], dup);

    let activity = s.get(&format!("/tickets/{keep}/activity"), "admin").await;
    let k = kinds(&activity);
    assert_eq!(k.first().map(String::as_str), Some("ticket_created"));
    assert_eq!(
        k.iter().filter(|k| *k == "ticket_created").count(),
        2,
        "{k:?}"
    );
    assert!(k.contains(&"note_added".to_string()), "{k:?}");
    let merged_from = items(&activity)
        .into_iter()
        .find(|e| e["kind"] == "merged_from")
        .expect("merged_from logged on the target");
    assert_eq!(merged_from["source"], dup);
    assert_eq!(merged_from["actor"]["id"], "admin");
    let on_source = s.get(&format!("/tickets/{dup}/activity"), "admin").await;
    assert_eq!(
        kinds(&on_source).last().map(String::as_str),
        Some("merged_into")
    );
}

#[tokio::test]
async fn pages_across_merged_tickets_are_complete_and_never_repeat() {
    let s = Stack::start().await;
    let from = customer();
    let (a, _) = customer_writes(&s, &from, "One", "mail 1").await;
    let (b, _) = customer_writes(&s, &from, "Two", "mail 2").await;
    let (c, _) = customer_writes(&s, &from, "Three", "mail 3").await;
    for (n, text) in [(a, "note a"), (c, "note c"), (b, "note b"), (a, "note a2")] {
        let r = s
            .post(
                &format!("/tickets/{n}/notes"),
                "admin",
                json!({"body": text}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    assert_eq!(merge(&s, a, c, "admin").await.status, StatusCode::OK);
    assert_eq!(merge(&s, b, c, "admin").await.status, StatusCode::OK);

    for (path, expected) in [
        ("messages", vec!["mail 1", "mail 2", "mail 3"]),
        ("notes", vec!["note a", "note c", "note b", "note a2"]),
    ] {
        let field = if path == "messages" { "text" } else { "body" };
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(cur) => format!("/tickets/{c}/{path}?limit=2&cursor={cur}"),
                None => format!("/tickets/{c}/{path}?limit=2"),
            };
            let r = s.get(&url, "admin").await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(items(&r).len() <= 2);
            seen.extend(
                items(&r)
                    .iter()
                    .map(|m| m[field].as_str().unwrap_or("").trim().to_string()),
            );
            pages += 1;
            cursor = r.body["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() || pages > 5 {
                break;
            }
        }
        assert_eq!(seen, expected, "{path} in time order across three tickets");
    }
}

#[tokio::test]
async fn a_merged_ticket_points_at_its_target_and_takes_no_more_writes() {
    let s = Stack::start().await;
    let from = customer();
    let (dup, _) = customer_writes(&s, &from, "Dup", "dup").await;
    let (keep, _) = customer_writes(&s, &from, "Keep", "keep").await;
    let (other, _) = customer_writes(&s, &from, "Other", "other").await;

    assert_problem(
        &merge(&s, dup, dup, "admin").await,
        400,
        "invalid_field",
        Some("into"),
    );
    assert_problem(
        &merge(&s, dup, 999_999, "admin").await,
        400,
        "invalid_field",
        Some("into"),
    );
    let bad = s
        .post(
            &format!("/tickets/{dup}/merge"),
            "admin",
            json!({"into": keep, "x": 1}),
        )
        .await;
    assert_problem(&bad, 400, "unknown_field", None);
    assert_problem(
        &merge(&s, 999_999, keep, "admin").await,
        404,
        "ticket_not_found",
        None,
    );

    assert_eq!(merge(&s, dup, keep, "admin").await.status, StatusCode::OK);
    let t = s.get(&format!("/tickets/{dup}"), "admin").await;
    assert_eq!(t.body["merged_into"], keep);
    let version = t.body["version"].as_u64().unwrap();

    let writes = [
        s.patch(
            &format!("/tickets/{dup}"),
            "admin",
            json!({"version": version, "status": "open"}),
        )
        .await,
        s.post(
            &format!("/tickets/{dup}/notes"),
            "admin",
            json!({"body": "x"}),
        )
        .await,
        s.post(
            &format!("/tickets/{dup}/replies"),
            "admin",
            json!({"text": "x"}),
        )
        .await,
        s.post(&format!("/tickets/{dup}/sessions"), "admin", json!({}))
            .await,
        merge(&s, dup, other, "admin").await,
    ];
    for w in &writes {
        assert_problem(w, 409, "ticket_merged", None);
        assert!(
            w.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains(&keep.to_string()),
            "the refusal names the target: {}",
            w.body
        );
    }
    // Nothing was written by the refused requests.
    let after = s.get(&format!("/tickets/{dup}"), "admin").await;
    assert_eq!(after.body["version"], version);
    assert_eq!(after.body["status"], "closed");
    let notes = s.get(&format!("/tickets/{dup}/notes"), "admin").await;
    assert!(items(&notes).is_empty(), "{}", notes.body);

    // Into a merged ticket: merge into its target instead.
    assert_problem(
        &merge(&s, other, dup, "admin").await,
        400,
        "invalid_field",
        Some("into"),
    );
}

#[tokio::test]
async fn mail_to_a_merged_ticket_lands_on_its_target_even_after_the_target_is_merged() {
    let s = Stack::start().await;
    let from = customer();
    let (a, a_msgid) = customer_writes(&s, &from, "Printer", "a").await;
    let (b, _) = customer_writes(&s, &from, "Printer again", "b").await;
    let (c, _) = customer_writes(&s, &from, "Printer once more", "c").await;
    assert_eq!(merge(&s, a, b, "admin").await.status, StatusCode::OK);

    assert_eq!(
        customer_answers(&s, &from, "Re: Printer", &a_msgid).await,
        Outcome::Reply(desk_domain::TicketNumber::new(b).unwrap()),
        "threads by Message-ID to the merged ticket, lands on its target"
    );
    // By the subject tag, too.
    let tagged = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: Re: [#{a}] Printer\r\n\
         Message-ID: <{}@mail.example.com>\r\n\r\nStill there?\r\n",
        uuid::Uuid::new_v4().simple()
    );
    assert_eq!(
        s.receive(&tagged).await,
        Outcome::Reply(desk_domain::TicketNumber::new(b).unwrap())
    );

    // b (holding a) merges into c: a now points at c, one hop.
    let r = merge(&s, b, c, "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["target"]["merged"], json!([b, a]));
    assert_eq!(
        s.get(&format!("/tickets/{a}"), "admin").await.body["merged_into"],
        c
    );
    assert_eq!(
        customer_answers(&s, &from, "Re: Printer", &a_msgid).await,
        Outcome::Reply(desk_domain::TicketNumber::new(c).unwrap())
    );
    let messages = s.get(&format!("/tickets/{c}/messages"), "admin").await;
    let on: Vec<u64> = items(&messages)
        .iter()
        .map(|m| m["ticket"].as_u64().unwrap())
        .collect();
    assert_eq!(
        on,
        [a, b, c, b, b, c],
        "every mail of all three, in time order"
    );
}

#[tokio::test]
async fn permissions_apply_to_both_tickets() {
    let s = Stack::start().await;
    let group = |g: &str| json!({"assignee": {"type": "group", "id": g}});
    let billing = s
        .ticket(Stack::ticket_body("Billing one", group("billing")))
        .await;
    let support = s
        .ticket(Stack::ticket_body("Support one", group("support")))
        .await;

    // alice (support) cannot see the billing ticket: neither side of a merge.
    assert_problem(
        &merge(&s, support, billing, "alice").await,
        400,
        "invalid_field",
        Some("into"),
    );
    assert_problem(
        &merge(&s, billing, support, "alice").await,
        404,
        "ticket_not_found",
        None,
    );
    let untouched = s.get(&format!("/tickets/{billing}"), "admin").await;
    assert_eq!(untouched.body["merged_into"], Value::Null);
    assert_eq!(untouched.body["version"], 1);

    // Merged by an administrator into the support ticket, alice reads it as
    // part of her ticket's conversation; bob still sees it as his group's.
    let r = merge(&s, billing, support, "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        s.get(&format!("/tickets/{billing}"), "alice").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/tickets/{billing}/activity"), "alice")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/tickets/{billing}"), "bob").await.status,
        StatusCode::OK
    );
    // The target stays its own group's.
    assert_problem(
        &s.get(&format!("/tickets/{support}"), "bob").await,
        404,
        "ticket_not_found",
        None,
    );
}

#[tokio::test]
async fn a_merge_costs_a_known_number_of_dynamodb_round_trips() {
    let s = Stack::start().await;
    let a = s.ticket(Stack::ticket_body("A", json!({}))).await;
    let b = s.ticket(Stack::ticket_body("B", json!({}))).await;
    s.counter.take();
    assert_eq!(merge(&s, a, b, "admin").await.status, StatusCode::OK);
    let calls = s.counter.take();
    // The caller; both tickets in parallel; one transaction.
    assert_eq!(
        calls,
        ["GetItem", "GetItem", "GetItem", "TransactWriteItems"],
        "{calls:?}"
    );
}
