//! Mail loops: two auto-responders answering each other through the desk. The
//! worst case is a robot that does not mark its answers as automatic: every
//! answer then looks like a new email, opens a ticket, and the rule notifies the
//! assignee — whose mailbox is the other robot. The per-address limit on
//! automatic mail is what stops it; robots that do mark their mail stop it at once.

use desk_domain::Source;
use desk_ingest::{Delivery, AUTO_MAIL_PER_HOUR};
use desk_tests::{sent_mail_to, SentMail, Stack};
use serde_json::json;

fn delivery() -> Delivery {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Delivery {
        id: id.clone(),
        raw_key: format!("s3://local-inbound/inbound/{id}"),
        envelope: vec!["support@desk.example".into()],
        source: Source::Email,
    }
}

/// How an auto-responder answers.
#[derive(Clone, Copy)]
enum Robot {
    /// Worst case: a fixed subject, no thread headers, no RFC 3834 marking —
    /// every answer looks like a new email from a person.
    Naive,
    /// Outlook-style: "Automatic reply: <subject>" with `In-Reply-To`, unmarked.
    Threading,
    /// Marks its answers `Auto-Submitted: auto-replied` (RFC 3834).
    Marked,
}

/// The auto-responder at `robot` answers `mail`.
fn auto_answer(robot: &str, mail: &SentMail, kind: Robot) -> String {
    let parent = mail.header("Message-ID").unwrap_or_default();
    let (subject, extra) = match kind {
        Robot::Naive => ("Out of office".to_string(), String::new()),
        Robot::Threading => (
            format!("Automatic reply: {}", mail.subject),
            format!("In-Reply-To: {parent}\r\n"),
        ),
        Robot::Marked => (
            format!("Automatic reply: {}", mail.subject),
            format!("In-Reply-To: {parent}\r\nAuto-Submitted: auto-replied\r\n"),
        ),
    };
    format!(
        "From: {robot}\r\nTo: support@desk.example\r\nSubject: {subject}\r\n{extra}Message-ID: <{}@example.net>\r\n\r\nI am out of the office until Monday.\r\n",
        uuid::Uuid::new_v4().simple()
    )
}

/// Sets up an agent whose mailbox is an auto-responder and a rule that assigns
/// every email from the shop's domains to them with a notification. Returns their address.
async fn robot_agent(s: &Stack) -> String {
    let robot = format!("ooo-{}@example.net", uuid::Uuid::new_v4().simple());
    let r = s
        .post(
            "/users",
            "admin",
            json!({"id": "robo", "name": "Robo", "email": robot, "role": "agent", "groups": ["support"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let r = s
        .post(
            "/rules",
            "admin",
            json!({"name": "Shop mail", "match_mode": "any",
                   "conditions": [{"field": "sender_domain", "operator": "equals", "value": "example.com"},
                                  {"field": "sender_domain", "operator": "equals", "value": "example.net"}],
                   "actions": {"assignee": {"type": "user", "id": "robo"}, "notify": true}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    robot
}

/// Runs the conversation until no new mail goes out (or `rounds` run out):
/// every mail the desk sent to a robot is answered by that robot. Returns how
/// many mails each robot received.
async fn run(s: &Stack, robots: &[&str], kind: Robot, rounds: usize) -> Vec<usize> {
    let mut answered = vec![0usize; robots.len()];
    for _ in 0..rounds {
        s.drain_outbox().await;
        let mut new = 0;
        for (i, robot) in robots.iter().enumerate() {
            let inbox = sent_mail_to(robot).await;
            for mail in &inbox[answered[i]..] {
                let raw = auto_answer(robot, mail, kind);
                s.inbound
                    .ingest
                    .ingest(&delivery(), raw.as_bytes())
                    .await
                    .expect("ingest");
                new += 1;
            }
            answered[i] = inbox.len();
        }
        if new == 0 {
            return answered;
        }
    }
    panic!("the loop was still going after {rounds} rounds: {answered:?}");
}

#[tokio::test]
async fn two_auto_responders_answering_each_other_stay_within_the_automatic_mail_limit() {
    let s = Stack::start().await;
    s.clock.freeze(chrono::Utc::now());
    let assignee_robot = robot_agent(&s).await;
    let customer_robot = format!("shop-{}@example.com", uuid::Uuid::new_v4().simple());
    // The customer's robot starts it, unmarked: "Your order 123 has shipped".
    let first = format!(
        "From: {customer_robot}\r\nTo: support@desk.example\r\nSubject: Your order 123 has shipped\r\nMessage-ID: <{}@example.com>\r\n\r\nTracking: 42\r\n",
        uuid::Uuid::new_v4().simple()
    );
    s.inbound
        .ingest
        .ingest(&delivery(), first.as_bytes())
        .await
        .expect("ingest");

    let received = run(
        &s,
        &[assignee_robot.as_str(), customer_robot.as_str()],
        Robot::Naive,
        50,
    )
    .await;
    assert_eq!(
        received[0], AUTO_MAIL_PER_HOUR as usize,
        "the assignee's robot gets exactly the hourly limit, then the loop stops"
    );
    assert_eq!(
        received[1], 0,
        "the desk never mails a customer automatically"
    );
    // Nothing was lost: every robot answer is on a ticket (the first mail + one per notification).
    let tickets = s.get("/tickets?limit=100", "admin").await;
    assert_eq!(tickets.body["count"], AUTO_MAIL_PER_HOUR as u64 + 1);

    // An hour later the limit allows mail again — but robots that mark their
    // answers as automatic get none: one notification, one answer, then silence.
    s.clock.advance(chrono::Duration::minutes(61));
    let before = sent_mail_to(&assignee_robot).await.len();
    let human = format!(
        "From: dana@example.com\r\nTo: support@desk.example\r\nSubject: Where is my order?\r\nMessage-ID: <{}@example.com>\r\n\r\nStill waiting.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    s.inbound
        .ingest
        .ingest(&delivery(), human.as_bytes())
        .await
        .expect("ingest");
    let received = run(&s, &[assignee_robot.as_str()], Robot::Marked, 10).await;
    assert_eq!(
        received[0] - before,
        1,
        "one notification; the marked answer triggers nothing"
    );

    // Unmarked answers that keep `In-Reply-To` join the ticket the notification
    // was about (the desk indexes the ids of everything it sends), so they open
    // nothing that could notify again.
    s.clock.advance(chrono::Duration::minutes(61));
    let before = sent_mail_to(&assignee_robot).await.len();
    let tickets_before = s.get("/tickets?limit=100", "admin").await.body["count"].clone();
    s.inbound
        .ingest
        .ingest(
            &delivery(),
            human.replace("Message-ID: <", "Message-ID: <2").as_bytes(),
        )
        .await
        .expect("ingest");
    let received = run(&s, &[assignee_robot.as_str()], Robot::Threading, 10).await;
    assert_eq!(received[0] - before, 1, "one notification, answered once");
    let tickets = s.get("/tickets?limit=100", "admin").await.body["count"].clone();
    assert_eq!(
        tickets.as_u64().unwrap(),
        tickets_before.as_u64().unwrap() + 1,
        "the robot's answer joined the ticket instead of opening one"
    );
}
