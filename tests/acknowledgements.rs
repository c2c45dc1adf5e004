//! Acknowledgements: a rule answers the customer whose email opens a ticket with
//! a text module — automatic mail, never to robots, lists or spam, within the
//! per-address limit on automatic mail, threaded so the customer's answer joins
//! the ticket. What is mailed is read back from moto's SES record.

use desk_ingest::{Outcome, AUTO_MAIL_PER_HOUR};
use desk_tests::{assert_problem, sent_mail_to, Stack};
use reqwest::StatusCode;
use serde_json::json;

fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A text module and a rule that acknowledges every email with it.
async fn acknowledging_rule(s: &Stack) -> String {
    let m = s
        .post(
            "/text-modules",
            "admin",
            json!({"name": "Received", "text": "Thanks {{customer.first_name}}, we got **#{{ticket.number}}** ({{ticket.name}})."}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let id = m.body["id"].as_str().unwrap().to_string();
    let r = s
        .post(
            "/rules",
            "admin",
            json!({"name": "Acknowledge", "actions": {"acknowledge": id}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["actions"]["acknowledge"], id.as_str());
    id
}

fn mail(from: &str, subject: &str, extra_headers: &str) -> (String, String) {
    let msgid = format!("{}@mail.example.com", uuid::Uuid::new_v4().simple());
    (
        format!(
            "From: Ann Lee <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\n\
             Message-ID: <{msgid}>\r\n{extra_headers}\r\nMy printer jams.\r\n"
        ),
        msgid,
    )
}

#[tokio::test]
async fn an_email_that_opens_a_ticket_is_acknowledged_marked_and_threaded() {
    let s = Stack::start().await;
    acknowledging_rule(&s).await;
    let from = customer();
    let (raw, msgid) = mail(&from, "Printer jams", "");
    let Outcome::NewTicket(n) = s.receive(&raw).await else {
        panic!("a new ticket")
    };
    let n = n.get();
    assert_eq!(s.drain_outbox().await, 1);
    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1, "one acknowledgement");
    let ack = &sent[0];
    assert_eq!(ack.subject, format!("Re: [#{n}] Printer jams"));
    assert!(
        ack.text
            .contains(&format!("Thanks Ann, we got **#{n}** (Printer jams).")),
        "{}",
        ack.text
    );
    assert!(
        ack.html
            .as_deref()
            .unwrap()
            .contains(&format!("<strong>#{n}</strong>")),
        "{:?}",
        ack.html
    );
    assert_eq!(
        ack.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert_eq!(ack.header("In-Reply-To"), Some(format!("<{msgid}>")));
    assert!(ack
        .header("Reply-To")
        .unwrap()
        .contains(&format!("support+t{n}.")));

    // Agents see what the customer was told: a reply by the system.
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", list.body);
    assert_eq!(items[1]["direction"], "outbound");
    assert_eq!(items[1]["author"], serde_json::Value::Null);
    assert_eq!(items[1]["automation"], "acknowledgement");
    let activity = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    assert!(
        activity.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reply_written" && e["actor"]["type"] == "system"),
        "{}",
        activity.body
    );

    // The customer answers the acknowledgement (a new subject, only the thread
    // headers to go by): it joins the ticket and is not acknowledged again.
    let ack_id = ack.header("Message-ID").unwrap();
    let (answer, _) = mail(
        &from,
        "one more thing",
        &format!("In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n"),
    );
    assert_eq!(
        s.receive(&answer).await,
        Outcome::Reply(desk_domain::TicketNumber::new(n).unwrap())
    );
    assert_eq!(s.drain_outbox().await, 0, "answers are not acknowledged");
}

#[tokio::test]
async fn robots_lists_and_spam_are_never_acknowledged() {
    let s = Stack::start().await;
    acknowledging_rule(&s).await;
    let from = customer();
    for (subject, headers) in [
        ("Out of office", "Auto-Submitted: auto-replied\r\n"),
        (
            "Newsletter",
            "List-Id: <news.example.com>\r\nList-Unsubscribe: <mailto:u@example.com>\r\n",
        ),
        ("Cheap pills", "X-SES-Spam-Verdict: FAIL\r\n"),
    ] {
        let (raw, _) = mail(&from, subject, headers);
        assert!(
            matches!(s.receive(&raw).await, Outcome::NewTicket(_)),
            "{subject}"
        );
    }
    assert_eq!(s.drain_outbox().await, 0, "nothing queued");
    assert!(sent_mail_to(&from).await.is_empty(), "nothing sent");
}

#[tokio::test]
async fn acknowledgements_stay_within_the_limit_on_automatic_mail() {
    let s = Stack::start().await;
    acknowledging_rule(&s).await;
    let from = customer();
    let sent_for = AUTO_MAIL_PER_HOUR as usize + 3;
    for i in 0..sent_for {
        let (raw, _) = mail(&from, &format!("Question {i}"), "");
        assert!(matches!(s.receive(&raw).await, Outcome::NewTicket(_)));
    }
    s.drain_outbox().await;
    assert_eq!(
        sent_mail_to(&from).await.len(),
        AUTO_MAIL_PER_HOUR as usize,
        "{sent_for} tickets, at most {AUTO_MAIL_PER_HOUR} automatic mails an hour"
    );
}

#[tokio::test]
async fn a_rule_acknowledging_with_a_missing_module_is_refused() {
    let s = Stack::start().await;
    let r = s
        .post(
            "/rules",
            "admin",
            json!({"name": "Ack", "actions": {"acknowledge": "mzzzzzzzzzzzz"}}),
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("actions.acknowledge"));
    assert_eq!(
        s.get("/rules", "admin").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "only the default rule"
    );
}
