//! Forwarding to a third party (`POST /tickets/{id}/forwards`), over HTTP against
//! DynamoDB Local, the outbox, the mailer and moto's SES record: a ticket's
//! message or a new mail goes to a supplier with the ticket's signed Reply-To,
//! their answer threads back to the ticket and shows as theirs, and refusals
//! send nothing.

use desk_ingest::Outcome;
use desk_tests::{assert_problem, sent_mail_to, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn unique(who: &str) -> String {
    format!("{who}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The customer writes in; returns the new ticket.
async fn customer_writes(s: &Stack, from: &str, subject: &str, body: &str) -> u64 {
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\n\
         Message-ID: <{}@mail.example.com>\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4().simple()
    );
    match s.receive(&raw).await {
        Outcome::NewTicket(n) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

fn items(r: &desk_tests::Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn number(n: u64) -> desk_domain::TicketNumber {
    desk_domain::TicketNumber::new(n).unwrap()
}

#[tokio::test]
async fn a_forwarded_message_reaches_the_supplier_and_their_answer_threads_back_as_theirs() {
    let s = Stack::start().await;
    let customer = unique("cust");
    let supplier = unique("supplier");
    let n = customer_writes(&s, &customer, "Toner leaks", "Toner all over the desk.").await;
    let received = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let message_id = items(&received)[0]["id"].as_str().unwrap().to_string();

    let r = s
        .post(
            &format!("/tickets/{n}/forwards"),
            "alice",
            json!({"to": [supplier], "text": "Can you replace the **cartridge**?", "message": message_id, "status": "waiting"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["direction"], "outbound");
    assert_eq!(r.body["to"], json!([supplier]));
    assert_eq!(r.body["subject"], format!("Fwd: [#{n}] Toner leaks"));

    assert_eq!(s.drain_outbox().await, 1);
    assert!(
        sent_mail_to(&customer).await.is_empty(),
        "nothing goes to the customer"
    );
    let sent = sent_mail_to(&supplier).await;
    assert_eq!(sent.len(), 1, "one mail to the supplier");
    let mail = &sent[0];
    assert_eq!(mail.subject, format!("Fwd: [#{n}] Toner leaks"));
    assert!(
        mail.text.starts_with("Can you replace the **cartridge**?"),
        "{}",
        mail.text
    );
    for line in [
        "---------- Forwarded message ----------",
        &format!("From: Carol <{customer}>"),
        "Subject: Toner leaks",
        "Toner all over the desk.",
    ] {
        assert!(mail.text.contains(line), "{line:?} in {}", mail.text);
    }
    let reply_to = mail.header("Reply-To").unwrap();
    assert!(
        reply_to.contains(&format!("support+t{n}.")),
        "the ticket's signed token: {reply_to}"
    );
    assert_eq!(
        mail.header("In-Reply-To"),
        None,
        "a new conversation with them"
    );

    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["participants"], json!([supplier]));
    assert_eq!(t.body["status"], "waiting");

    // The supplier answers to the Reply-To: the ticket gets it, as theirs, and a
    // third party's answer does not move a ticket waiting for the customer.
    let answer = format!(
        "From: Sam Supplier <{supplier}>\r\nTo: {reply_to}\r\nSubject: Re: Fwd: [#{n}] Toner leaks\r\n\
         Message-ID: <{}@vendor.example>\r\n\r\nA new cartridge ships today.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    assert_eq!(s.receive(&answer).await, Outcome::Reply(number(n)));
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let last = items(&list).last().cloned().unwrap();
    assert_eq!(last["from"], supplier.as_str());
    assert_eq!(last["third_party"], true);
    assert!(items(&list)[0].get("third_party").is_none());
    assert_eq!(
        s.get(&format!("/tickets/{n}"), "admin").await.body["status"],
        "waiting"
    );

    let activity = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let forwarded = items(&activity)
        .into_iter()
        .find(|e| e["kind"] == "forwarded")
        .expect("the forward is logged");
    assert_eq!(forwarded["actor"]["id"], "alice");
    assert_eq!(forwarded["to"], json!([supplier]));
    assert_eq!(forwarded["forwarded"], message_id.as_str());
    let theirs = items(&activity)
        .into_iter()
        .rfind(|e| e["kind"] == "email_received")
        .unwrap();
    assert_eq!(theirs["third_party"], true);
    assert_eq!(theirs["from"], supplier.as_str());
}

#[tokio::test]
async fn a_participant_may_thread_by_the_subject_tag_a_stranger_may_not() {
    let s = Stack::start().await;
    let customer = unique("cust");
    let supplier = unique("supplier");
    let n = customer_writes(&s, &customer, "Scanner", "It is slow.").await;
    let r = s
        .post(
            &format!("/tickets/{n}/forwards"),
            "admin",
            json!({"to": [supplier], "text": "Known issue?"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["subject"],
        format!("Fwd: [#{n}] Scanner"),
        "a new mail: the ticket's name"
    );

    let by_subject = |from: &str| {
        format!(
            "From: {from}\r\nTo: support@desk.example\r\nSubject: [#{n}] Scanner\r\n\
             Message-ID: <{}@x.example>\r\n\r\nAbout that.\r\n",
            uuid::Uuid::new_v4().simple()
        )
    };
    assert_eq!(
        s.receive(&by_subject(&supplier.to_uppercase())).await,
        Outcome::Reply(number(n)),
        "the participant, whatever the case of the address"
    );
    assert!(
        matches!(
            s.receive(&by_subject(&unique("stranger"))).await,
            Outcome::NewTicket(_)
        ),
        "a copied subject tag alone threads nobody else"
    );
}

#[tokio::test]
async fn bad_forwards_are_refused_and_send_nothing() {
    let s = Stack::start().await;
    let customer = unique("cust");
    let supplier = unique("supplier");
    let n = customer_writes(&s, &customer, "Keyboard", "Keys stick.").await;
    let path = format!("/tickets/{n}/forwards");
    for (body, field) in [
        (json!({"text": "x"}), None),
        (json!({"to": [], "text": "x"}), Some("to")),
        (json!({"to": ["not an address"], "text": "x"}), None),
        (json!({"to": [supplier]}), Some("text")),
        (
            json!({"to": [supplier], "message": "0000000000000000-deadbeef"}),
            Some("message"),
        ),
        (
            json!({"to": [supplier], "text": "x", "text_module": "nope"}),
            Some("text_module"),
        ),
    ] {
        let r = s.post(&path, "admin", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        if let Some(f) = field {
            assert_eq!(r.body["field"], f, "{body}: {}", r.body);
        }
    }
    let too_many: Vec<String> = (0..11).map(|i| format!("p{i}@x.example")).collect();
    let r = s
        .post(&path, "admin", json!({"to": too_many, "text": "x"}))
        .await;
    assert_problem(&r, 400, "invalid_field", Some("to"));

    // bob (billing) cannot see alice's support ticket: not found, nothing sent.
    let support = s
        .ticket(Stack::ticket_body(
            "Support only",
            json!({"assignee": {"type": "group", "id": "support"}}),
        ))
        .await;
    let r = s
        .post(
            &format!("/tickets/{support}/forwards"),
            "bob",
            json!({"to": [supplier], "text": "psst"}),
        )
        .await;
    assert_problem(&r, 404, "ticket_not_found", None);

    assert_eq!(s.drain_outbox().await, 0, "nothing queued");
    assert!(sent_mail_to(&supplier).await.is_empty());
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["participants"], json!([]));
    assert_eq!(t.body["version"], 1);
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(items(&list).len(), 1, "only the customer's mail");
}

#[tokio::test]
async fn a_forward_retried_with_its_idempotency_key_is_sent_once() {
    let s = Stack::start().await;
    let customer = unique("cust");
    let supplier = unique("supplier");
    let n = customer_writes(&s, &customer, "Monitor", "Flickers.").await;
    let send = || async {
        let resp = s
            .http
            .post(format!("{}/tickets/{n}/forwards", s.base))
            .bearer_auth(s.token("admin"))
            .header("idempotency-key", "fwd-1")
            .json(&json!({"to": [supplier], "text": "Warranty?"}))
            .send()
            .await
            .expect("request");
        Stack::reply(resp).await
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = send().await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    s.drain_outbox().await;
    assert_eq!(sent_mail_to(&supplier).await.len(), 1);
}
