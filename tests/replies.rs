//! Agents answer by email: `POST /tickets/{id}/replies` over HTTP, through the
//! outbox and the mailer to SES (moto's record), threaded so the customer's
//! answer — by token, by our Message-ID or by the id SES gave the mail — comes
//! back to the same ticket. Reading the conversation through the API.

use desk_ingest::Outcome;
use desk_tests::{assert_problem, sent_mail_to, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A unique customer, so moto's global SES record holds only this test's mail.
fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The customer writes in; returns the new ticket's number and the mail's Message-ID.
async fn customer_writes(s: &Stack, from: &str, subject: &str) -> (u64, String) {
    let msgid = format!("{}@mail.example.com", uuid::Uuid::new_v4().simple());
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n\r\nMy printer is on fire.\r\n"
    );
    match s.receive(&raw).await {
        Outcome::NewTicket(n) => (n.get(), msgid),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

async fn post_reply(
    s: &Stack,
    n: u64,
    user: &str,
    body: Value,
    key: Option<&str>,
) -> desk_tests::Reply {
    let mut req = s
        .http
        .post(format!("{}/tickets/{n}/replies", s.base))
        .bearer_auth(s.token(user))
        .json(&body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    Stack::reply(req.send().await.expect("request")).await
}

fn messages(r: &desk_tests::Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_reply_is_sent_from_the_desk_threaded_and_its_ids_recorded() {
    let s = Stack::start().await;
    let from = customer();
    let (n, customer_msgid) = customer_writes(&s, &from, "Printer on fire").await;

    let r = post_reply(
        &s,
        n,
        "admin",
        json!({"text": "Please unplug it.\nThanks"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["direction"], "outbound");
    assert_eq!(r.body["send_state"], "queued");
    assert_eq!(r.body["author"], "admin");
    assert_eq!(r.body["in_reply_to"], customer_msgid.as_str());
    let our_id = r.body["rfc_message_id"].as_str().unwrap().to_string();
    assert!(our_id.ends_with("@desk.example"), "{our_id}");

    assert_eq!(s.drain_outbox().await, 1);
    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1, "exactly one mail to the customer");
    let mail = &sent[0];
    assert_eq!(mail.subject, format!("Re: [#{n}] Printer on fire"));
    assert!(mail.text.contains("Please unplug it."), "{}", mail.text);
    assert!(mail
        .header("From")
        .unwrap()
        .contains("support@desk.example"));
    let reply_to = mail.header("Reply-To").unwrap();
    assert!(
        reply_to.contains(&format!("support+t{n}.")) && reply_to.contains("@desk.example"),
        "Reply-To carries the signed token: {reply_to}"
    );
    assert_eq!(
        mail.header("In-Reply-To").unwrap(),
        format!("<{customer_msgid}>")
    );
    assert!(mail.header("References").unwrap().contains(&customer_msgid));
    assert_eq!(mail.header("Message-ID").unwrap(), format!("<{our_id}>"));
    assert_eq!(mail.header("Auto-Submitted"), None, "a person wrote it");

    // The conversation, both ways, oldest first; the reply now carries SES's id.
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = messages(&list);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["direction"], "inbound");
    assert_eq!(items[0]["from"], from.as_str());
    assert_eq!(items[1]["direction"], "outbound");
    assert_eq!(items[1]["send_state"], "sent");
    let ses_id = items[1]["provider_message_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!ses_id.is_empty());
    let one = s
        .get(
            &format!("/tickets/{n}/messages/{}", items[1]["id"].as_str().unwrap()),
            "admin",
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    // The text as sent: as written, then the customer's message quoted.
    let text = one.body["text"].as_str().unwrap();
    assert!(
        text.starts_with("Please unplug it.\nThanks\n\nOn "),
        "{text}"
    );
    assert!(
        text.ends_with(" Carol wrote:\n> My printer is on fire.\n"),
        "{text}"
    );

    // The activity log has the reply (by the agent) and the sending (by the system).
    let activity = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let kinds: Vec<&str> = activity.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"reply_written"), "{kinds:?}");
    assert!(kinds.contains(&"email_sent"), "{kinds:?}");

    // Answers come back to the ticket by each id alone: no token, another subject.
    for (i, parent) in [
        our_id.clone(),
        format!("{ses_id}@email.amazonses.com"),
        format!("{ses_id}@eu-west-1.amazonses.com"),
    ]
    .iter()
    .enumerate()
    {
        let raw = format!(
            "From: {from}\r\nTo: support@desk.example\r\nSubject: something else {i}\r\nIn-Reply-To: <{parent}>\r\nMessage-ID: <answer-{i}-{n}@mail.example.com>\r\n\r\nIt is out.\r\n"
        );
        assert_eq!(
            s.receive(&raw).await,
            Outcome::Reply(desk_domain::TicketNumber::new(n).unwrap()),
            "threaded by {parent}"
        );
    }
}

#[tokio::test]
async fn the_customers_answer_to_the_reply_address_threads_and_reopens() {
    let s = Stack::start().await;
    let from = customer();
    let (n, _) = customer_writes(&s, &from, "VPN down").await;
    // Reply and set the ticket waiting for the customer, in one call.
    let r = post_reply(
        &s,
        n,
        "admin",
        json!({"text": "Which client version?", "status": "waiting"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["status"], "waiting");
    s.drain_outbox().await;
    let mail = &sent_mail_to(&from).await[0];
    let reply_to = mail.header("Reply-To").unwrap();
    let token_address = reply_to.trim_matches(|c| c == '<' || c == '>');

    // The answer goes to the Reply-To, with a mangled subject and no thread headers.
    let raw = format!(
        "From: {from}\r\nTo: {token_address}\r\nSubject: AW: client\r\nMessage-ID: <a-{n}@mail.example.com>\r\n\r\nVersion 5.1\r\n"
    );
    assert_eq!(
        s.receive(&raw).await,
        Outcome::Reply(desk_domain::TicketNumber::new(n).unwrap())
    );
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(
        t.body["status"], "open",
        "the customer's answer moves waiting to open"
    );
}

#[tokio::test]
async fn a_retried_reply_with_the_same_idempotency_key_is_stored_and_sent_once() {
    let s = Stack::start().await;
    let from = customer();
    let (n, _) = customer_writes(&s, &from, "Invoice").await;
    let body = json!({"text": "Attached is the invoice.", "cc": ["accounting@example.com"]});
    let first = post_reply(&s, n, "admin", body.clone(), Some("retry-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = post_reply(&s, n, "admin", body.clone(), Some("retry-1")).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a replay answers 200: {}",
        again.body
    );
    assert_eq!(again.body["id"], first.body["id"]);
    s.drain_outbox().await;
    // Retried after it was sent: still the same reply, nothing queued again.
    let late = post_reply(&s, n, "admin", body.clone(), Some("retry-1")).await;
    assert_eq!(late.status, StatusCode::OK);
    assert_eq!(late.body["send_state"], "sent");
    assert_eq!(s.drain_outbox().await, 0);

    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1, "sent once");
    assert!(sent[0]
        .header("Cc")
        .unwrap()
        .contains("accounting@example.com"));
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(messages(&list).len(), 2, "one inbound, one reply");

    // Another key is another reply.
    let other = post_reply(&s, n, "admin", body, Some("retry-2")).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.body["id"], first.body["id"]);
}

#[tokio::test]
async fn replies_and_messages_are_refused_to_whoever_may_not_see_the_ticket_and_bad_input_is_named()
{
    let s = Stack::start().await;
    let n = s
        .ticket(Stack::ticket_body(
            "Billing question",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    // alice (support) may not see a billing ticket: not found, nothing sent.
    let r = post_reply(&s, n, "alice", json!({"text": "hi"}), None).await;
    assert_problem(&r, 404, "ticket_not_found", None);
    assert_problem(
        &s.get(&format!("/tickets/{n}/messages"), "alice").await,
        404,
        "ticket_not_found",
        None,
    );
    let r = s
        .call(
            reqwest::Method::POST,
            &format!("/tickets/{n}/replies"),
            None,
            Some(&json!({"text": "hi"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.drain_outbox().await,
        0,
        "no refused reply reached the outbox"
    );

    // bob (billing) may: a manual ticket has no inbound mail, so the subject is not a "Re:".
    let ok = post_reply(&s, n, "bob", json!({"text": "hi"}), None).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.body["subject"], format!("[#{n}] Billing question"));
    assert_eq!(ok.body["in_reply_to"], Value::Null);

    assert_problem(
        &post_reply(&s, n, "bob", json!({"text": "  "}), None).await,
        400,
        "invalid_field",
        Some("text"),
    );
    assert_problem(
        &post_reply(
            &s,
            n,
            "bob",
            json!({"text": "x", "cc": ["not-an-address"]}),
            None,
        )
        .await,
        400,
        "invalid_field",
        Some("cc[0]"),
    );
    let many: Vec<String> = (0..11).map(|i| format!("c{i}@example.com")).collect();
    assert_problem(
        &post_reply(&s, n, "bob", json!({"text": "x", "cc": many}), None).await,
        400,
        "invalid_field",
        Some("cc"),
    );
    assert_problem(
        &post_reply(&s, n, "bob", json!({"text": "x", "status": "gone"}), None).await,
        400,
        "invalid_field",
        Some("status"),
    );
    assert_problem(
        &post_reply(&s, n, "bob", json!({"text": "x"}), Some("has space")).await,
        400,
        "invalid_field",
        Some("Idempotency-Key"),
    );
    assert_problem(
        &post_reply(&s, n, "bob", json!({"body": "x"}), None).await,
        400,
        "unknown_field",
        Some("body"),
    );
    assert_problem(
        &s.get(&format!("/tickets/{n}/messages/nope!"), "bob").await,
        404,
        "message_not_found",
        None,
    );
    assert_problem(
        &s.get(
            &format!("/tickets/{n}/messages/20260101000000000000-aaaaaaaaaaaa"),
            "bob",
        )
        .await,
        404,
        "message_not_found",
        None,
    );
}

#[tokio::test]
async fn a_reply_costs_a_known_number_of_dynamodb_round_trips() {
    let s = Stack::start().await;
    let from = customer();
    let (n, _) = customer_writes(&s, &from, "Count me").await;
    s.counter.take();
    let r = post_reply(&s, n, "admin", json!({"text": "counted"}), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let calls = s.counter.take();
    // The caller, the ticket; the thread's ids and the desk's signature in
    // parallel; the answered message (quoted); then one transaction.
    assert_eq!(calls.len(), 6, "{calls:?}");
    assert_eq!(calls[..2], ["GetItem", "GetItem"], "{calls:?}");
    let mut parallel = calls[2..4].to_vec();
    parallel.sort();
    assert_eq!(parallel, ["GetItem", "Query"], "{calls:?}");
    assert_eq!(calls[4..], ["GetItem", "TransactWriteItems"], "{calls:?}");
}

fn bounce_of(message_id: &str, recipient: &str, subject: &str) -> String {
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("mail-templates/dsn-bounce-of-reply.eml"),
    )
    .expect("bounce template");
    template
        .replace("{{REPORT_ID}}", &uuid::Uuid::new_v4().simple().to_string())
        .replace("{{MESSAGE_ID}}", message_id)
        .replace("{{RECIPIENT}}", recipient)
        .replace("{{SUBJECT}}", subject)
        .replace('\n', "\r\n")
}

#[tokio::test]
async fn a_bounce_of_our_reply_attaches_to_its_ticket_and_flags_the_recipient() {
    let s = Stack::start().await;
    let from = customer();
    let (n, _) = customer_writes(&s, &from, "Password reset").await;
    let r = post_reply(&s, n, "admin", json!({"text": "Done, try again."}), None).await;
    let our_id = r.body["rfc_message_id"].as_str().unwrap().to_string();
    s.drain_outbox().await;
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let ses_id = messages(&list)[1]["provider_message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tickets_before = s.get("/tickets?limit=100", "admin").await.body["count"].clone();

    // The report returns the headers of our mail as SES sent it (SES's Message-ID).
    let raw = bounce_of(
        &format!("{ses_id}@email.amazonses.com"),
        &from,
        "Re: Password reset",
    );
    let number = desk_domain::TicketNumber::new(n).unwrap();
    assert_eq!(s.receive(&raw).await, Outcome::Reply(number));
    // And one quoting the Message-ID the desk gave it.
    let raw = bounce_of(&our_id, &from, "Re: Password reset");
    assert_eq!(s.receive(&raw).await, Outcome::Reply(number));

    let after = s.get("/tickets?limit=100", "admin").await;
    assert_eq!(
        after.body["count"], tickets_before,
        "no new ticket for a bounce"
    );
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["status"], "open", "a bounce changes no status");
    assert_eq!(t.body["tags"], json!(["bounced"]));
    let activity = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let failed: Vec<&Value> = activity.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "delivery_failed")
        .collect();
    assert_eq!(failed.len(), 2, "{}", activity.body);
    assert_eq!(failed[0]["recipients"], json!([from]));
    assert_eq!(
        failed[0]["original_message_id"],
        format!("{ses_id}@email.amazonses.com")
    );
    // The report itself is kept as a message of the ticket.
    let report = s
        .get(
            &format!(
                "/tickets/{n}/messages/{}",
                failed[0]["report_message_id"].as_str().unwrap()
            ),
            "admin",
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["automation"], "Bounce");
    assert_eq!(
        s.drain_outbox().await,
        0,
        "no automatic mail answers a bounce"
    );
}
