//! Email in, against DynamoDB Local: new tickets, threading by token / message id /
//! subject tag, exactly once under concurrent redelivery, robots, viruses, spam,
//! rules, and the DynamoDB round trips per email.

use std::sync::Arc;

use desk_domain::{Source, TicketNumber};
use desk_ingest::{Delivery, Ingest, Outcome};
use desk_mail::{KeyRing, ReplyKeys, ReplyToken};
use desk_tests::Stack;
use futures::future::join_all;
use serde_json::json;

const KEY: &[u8] = b"ingest-test-key-of-at-least-32-characters";

fn ingest(s: &Stack) -> Ingest {
    Ingest::new(
        s.desk.clone(),
        Arc::new(ReplyKeys::fixed(
            &KeyRing::first(String::from_utf8_lossy(KEY)).expect("a valid key"),
        )),
        vec!["desk.example".into()],
        vec!["support@desk.example".into()],
    )
}

fn delivery(id: &str) -> Delivery {
    Delivery {
        id: id.into(),
        raw_key: format!("inbound/{id}"),
        envelope: vec!["support@desk.example".into()],
        source: Source::Email,
    }
}

fn mail(from: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\n{extra_headers}Message-ID: <{}@mail.example.com>\r\n\r\n{body}\r\n", uuid::Uuid::new_v4())
        .into_bytes()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/mail/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn new_number(o: Outcome) -> u64 {
    match o {
        Outcome::NewTicket(n) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_email_becomes_a_ticket_with_its_message_and_activity() {
    let s = Stack::start().await;
    let i = ingest(&s);
    let n = new_number(
        i.ingest(&delivery("d1"), &fixture("gmail-new-alternative.eml"))
            .await
            .unwrap(),
    );
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["source"], "email");
    assert_eq!(t.body["status"], "open");
    assert!(!t.body["name"].as_str().unwrap().is_empty());
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let kinds: Vec<_> = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ticket_created", "email_received", "rule_applied"]);
    let messages = s.stored_messages(TicketNumber::new(n).unwrap()).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].delivery_id, "d1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_delivery_three_times_concurrently_makes_one_ticket_and_one_message() {
    let s = Stack::start().await;
    let i = Arc::new(ingest(&s));
    let raw = mail("carol@example.com", "Printer on fire", "", "It smokes.");
    let runs = (0..3).map(|_| {
        let i = i.clone();
        let raw = raw.clone();
        async move { i.ingest(&delivery("same-delivery"), &raw).await.unwrap() }
    });
    let outcomes = join_all(runs).await;
    let created: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::NewTicket(_)))
        .collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Duplicate)
            .count(),
        2
    );
    // And once more, later (a redelivery after success).
    assert_eq!(
        i.ingest(&delivery("same-delivery"), &raw).await.unwrap(),
        Outcome::Duplicate
    );
    s.drain_stream().await;
    let list = s.get("/tickets?q=printer", "admin").await;
    assert_eq!(list.body["count"], 1);
    let n = TicketNumber::new(list.body["items"][0]["number"].as_u64().unwrap()).unwrap();
    assert_eq!(s.stored_messages(n).await.len(), 1);
}

#[tokio::test]
async fn replies_thread_by_token_message_id_and_customer_subject_tag() {
    let s = Stack::start().await;
    let i = ingest(&s);
    let first = mail("carol@example.com", "VPN drops", "", "Every 10 minutes.");
    let n = new_number(i.ingest(&delivery("a"), &first).await.unwrap());
    let first_id = String::from_utf8_lossy(&first)
        .lines()
        .find(|l| l.starts_with("Message-ID"))
        .unwrap()
        .split_once(": ")
        .unwrap()
        .1
        .trim()
        .to_string();

    // 1. The signed token in the address we sent from.
    let token = ReplyToken::new(KEY.to_vec()).token(TicketNumber::new(n).unwrap());
    let by_token = format!("From: carol@example.com\r\nTo: support+{token}@desk.example\r\nSubject: still\r\n\r\nhello\r\n");
    assert_eq!(
        i.ingest(&delivery("b"), by_token.as_bytes()).await.unwrap(),
        Outcome::Reply(TicketNumber::new(n).unwrap())
    );
    // A forged token does not: new ticket.
    let forged = by_token.replace(&token, &format!("t{n}.0000000000000000"));
    assert!(matches!(
        i.ingest(&delivery("c"), forged.as_bytes()).await.unwrap(),
        Outcome::NewTicket(_)
    ));

    // 2. In-Reply-To a message of the ticket (here: the customer's first mail).
    let by_id = mail(
        "carol@example.com",
        "Re: VPN drops",
        &format!("In-Reply-To: {first_id}\r\n"),
        "more",
    );
    assert_eq!(
        i.ingest(&delivery("d"), &by_id).await.unwrap(),
        Outcome::Reply(TicketNumber::new(n).unwrap())
    );

    // 3. The subject tag counts only from the ticket's customer.
    let tagged = mail(
        "Carol@Example.com",
        &format!("[#{n}] one more thing"),
        "",
        "x",
    );
    assert_eq!(
        i.ingest(&delivery("e"), &tagged).await.unwrap(),
        Outcome::Reply(TicketNumber::new(n).unwrap())
    );
    let stranger = mail(
        "mallory@evil.example",
        &format!("[#{n}] give me the data"),
        "",
        "x",
    );
    assert!(matches!(
        i.ingest(&delivery("f"), &stranger).await.unwrap(),
        Outcome::NewTicket(_)
    ));

    let messages = s.stored_messages(TicketNumber::new(n).unwrap()).await;
    assert_eq!(messages.len(), 4);
}

#[tokio::test]
async fn customer_answers_reopen_robots_change_nothing_viruses_are_quarantined_spam_is_tagged() {
    let s = Stack::start().await;
    let i = ingest(&s);
    let n = new_number(
        i.ingest(
            &delivery("n1"),
            &mail("carol@example.com", "Laptop", "", "broken"),
        )
        .await
        .unwrap(),
    );
    let token = ReplyToken::new(KEY.to_vec()).token(TicketNumber::new(n).unwrap());
    let path = format!("/tickets/{n}");
    s.patch(&path, "admin", json!({"version": 1, "status": "waiting"}))
        .await;

    // An out-of-office reply is recorded, the status stays.
    let ooo = format!("From: carol@example.com\r\nTo: support+{token}@desk.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway\r\n");
    assert!(matches!(
        i.ingest(&delivery("n2"), ooo.as_bytes()).await.unwrap(),
        Outcome::Reply(_)
    ));
    assert_eq!(s.get(&path, "admin").await.body["status"], "waiting");
    // The customer's answer moves it back to open.
    let answer = format!("From: carol@example.com\r\nTo: support+{token}@desk.example\r\nSubject: Re: Laptop\r\n\r\nHere you go\r\n");
    i.ingest(&delivery("n3"), answer.as_bytes()).await.unwrap();
    let t = s.get(&path, "admin").await;
    assert_eq!(t.body["status"], "open");
    // ...and reopens it when closed.
    s.patch(
        &path,
        "admin",
        json!({"version": t.body["version"], "status": "closed"}),
    )
    .await;
    i.ingest(&delivery("n4"), answer.as_bytes()).await.unwrap();
    assert_eq!(s.get(&path, "admin").await.body["status"], "open");

    assert_eq!(
        i.ingest(&delivery("v1"), &fixture("ses-virus-positive.eml"))
            .await
            .unwrap(),
        Outcome::Quarantined
    );
    assert_eq!(
        i.ingest(&delivery("v1"), &fixture("ses-virus-positive.eml"))
            .await
            .unwrap(),
        Outcome::Duplicate
    );
    let spam = new_number(
        i.ingest(&delivery("s1"), &fixture("ses-spam-positive.eml"))
            .await
            .unwrap(),
    );
    let tags = s.get(&format!("/tickets/{spam}"), "admin").await.body["tags"].clone();
    assert!(tags.as_array().unwrap().contains(&json!("spam")), "{tags}");
}

#[tokio::test]
async fn rules_decide_new_tickets_and_notify_the_assignee() {
    let s = Stack::start().await;
    let r = s
        .post("/rules", "admin", json!({"name": "Billing", "conditions": [{"field": "subject", "operator": "contains", "value": "invoice"}],
                                        "actions": {"priority": "high", "assignee": {"type": "user", "id": "bob"}, "add_tags": ["billing"], "notify": true}}))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let i = ingest(&s);
    let subject = format!("Invoice {} wrong", uuid::Uuid::new_v4().simple());
    let n = new_number(
        i.ingest(
            &delivery("r1"),
            &mail("dan@example.org", &subject, "", "double charge"),
        )
        .await
        .unwrap(),
    );
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["priority"], "high");
    assert_eq!(t.body["assignee"], json!({"type": "user", "id": "bob"}));
    assert_eq!(t.body["tags"], json!(["billing"]));
    s.drain_outbox().await;
    let mails = desk_tests::sent_mail_to("bob@desk.example").await;
    let ours: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains(&subject))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        ours[0].header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    // Robots trigger no notification.
    let robot_subject = format!("Invoice {} robot", uuid::Uuid::new_v4().simple());
    let robot = mail(
        "billing-robot@example.org",
        &robot_subject,
        "Auto-Submitted: auto-generated\r\n",
        "x",
    );
    new_number(i.ingest(&delivery("r2"), &robot).await.unwrap());
    s.drain_outbox().await;
    assert!(desk_tests::sent_mail_to("bob@desk.example")
        .await
        .iter()
        .all(|x| !x.subject.contains(&robot_subject)));
}

#[tokio::test]
async fn at_most_three_dynamodb_round_trips_per_email() {
    let s = Stack::start().await;
    let i = ingest(&s);
    // Warm the rules cache (it is reused for 30 s).
    i.ingest(&delivery("w"), &mail("x@example.com", "warm", "", "x"))
        .await
        .unwrap();
    s.counter.take();
    let first = mail("carol@example.com", "Round trips", "", "x");
    let n = new_number(i.ingest(&delivery("rt1"), &first).await.unwrap());
    let calls = s.counter.take();
    assert!(calls.len() <= 3, "new ticket: {calls:?}");
    let token = ReplyToken::new(KEY.to_vec()).token(TicketNumber::new(n).unwrap());
    let reply = format!("From: carol@example.com\r\nTo: support+{token}@desk.example\r\nSubject: Re\r\nIn-Reply-To: <x@y>\r\n\r\nok\r\n");
    i.ingest(&delivery("rt2"), reply.as_bytes()).await.unwrap();
    let calls = s.counter.take();
    assert!(calls.len() <= 3, "reply: {calls:?}");
    let first_id = String::from_utf8_lossy(&first)
        .lines()
        .find(|l| l.starts_with("Message-ID"))
        .unwrap()
        .split_once(": ")
        .unwrap()
        .1
        .trim()
        .to_string();
    let by_id = mail(
        "carol@example.com",
        "Re",
        &format!("In-Reply-To: {first_id}\r\n"),
        "ok",
    );
    i.ingest(&delivery("rt3"), &by_id).await.unwrap();
    let calls = s.counter.take();
    assert!(calls.len() <= 3, "reply by message id: {calls:?}");
    assert!(!calls.contains(&"Scan"));
}

#[tokio::test]
async fn every_fixture_is_ingested_without_error() {
    let s = Stack::start().await;
    let i = ingest(&s);
    let dir = format!("{}/mail", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40);
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let outcome = i
            .ingest(&delivery(&name), &raw)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!matches!(outcome, Outcome::Duplicate), "{name}");
    }
}
