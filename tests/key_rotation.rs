//! The reply-token key ring in Secrets Manager (moto), end to end: the functions
//! read it at first use, a rotation (`desk-local rotate-reply-key`'s code) reaches
//! warm functions within the refresh time, tokens mailed before it keep threading
//! for the grace period and no longer after it, and a forged token never threads.

use desk_domain::{Clock, TicketNumber};
use desk_ingest::Outcome;
use desk_mail::token::REFRESH_AFTER;
use desk_tests::{sent_mail_to, Stack};
use serde_json::json;

fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn customer_writes(s: &Stack, from: &str, subject: &str) -> u64 {
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{}@mail.example.com>\r\n\r\nMy printer is on fire.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    match s.receive(&raw).await {
        Outcome::NewTicket(n) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

/// An agent replies; returns the token address of the mail's Reply-To.
async fn reply_address(s: &Stack, n: u64, to: &str) -> String {
    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "Which model is it?"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    s.drain_outbox().await;
    let sent = sent_mail_to(to).await;
    let mail = sent.last().expect("the reply was sent");
    mail.header("Reply-To")
        .expect("a Reply-To")
        .trim_matches(|c| c == '<' || c == '>')
        .to_string()
}

/// The customer answers to `address` only: no thread headers, no subject tag, so
/// nothing but the token can thread it.
async fn answer(s: &Stack, from: &str, address: &str) -> Outcome {
    let raw = format!(
        "From: {from}\r\nTo: {address}\r\nSubject: AW: model\r\nMessage-ID: <{}@mail.example.com>\r\n\r\nIt is a P-100.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    s.receive(&raw).await
}

fn number(n: u64) -> TicketNumber {
    TicketNumber::new(n).unwrap()
}

#[tokio::test]
async fn tokens_of_a_rotated_key_thread_during_the_grace_period_and_not_after() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes(&s, &from, "Printer").await;

    // Before any rotation: the first key, in the format mailed before key ids existed.
    let old = reply_address(&s, n, &from).await;
    assert!(
        old.starts_with(&format!("support+t{n}.")) && old.matches('.').count() == 2,
        "no key id before the first rotation: {old}"
    );

    let secret = &s.resources.reply_token_secret;
    let ring = desk_local::reply_keys::rotate(&s.aws, secret, Some(30), s.clock.now())
        .await
        .expect("rotate in moto's Secrets Manager");
    assert_eq!(ring.ids(), vec!["k1", "k0"]);
    let stored = desk_local::reply_keys::read(&s.aws, secret).await.unwrap();
    assert_eq!(stored, ring, "the rotation is what the secret holds");

    // The API is warm (it signed `old`): it signs with the new key once its copy
    // of the ring is older than the refresh time.
    s.clock
        .advance(REFRESH_AFTER + chrono::Duration::seconds(1));
    let new = reply_address(&s, n, &from).await;
    assert!(
        new.starts_with(&format!("support+t{n}.k1.")),
        "a new reply uses the new key: {new}"
    );

    // Both thread: the old one during its grace period, the new one always.
    assert_eq!(answer(&s, &from, &old).await, Outcome::Reply(number(n)));
    assert_eq!(answer(&s, &from, &new).await, Outcome::Reply(number(n)));

    // Forged tokens never thread: another ticket's number under this signature,
    // a changed signature, a key id the ring lacks, a key id not the signer's.
    let other = customer_writes(&s, &customer(), "Someone else's").await;
    for forged in [
        new.replace(&format!("t{n}."), &format!("t{other}.")),
        old.replace(&format!("t{n}."), &format!("t{other}.")),
        {
            let (local, domain) = new.rsplit_once('@').unwrap();
            let flipped = if local.ends_with('0') { '1' } else { '0' };
            format!("{}{flipped}@{domain}", &local[..local.len() - 1])
        },
        new.replace(".k1.", ".k9."),
        new.replace(".k1.", ".k0."),
    ] {
        match answer(&s, &from, &forged).await {
            Outcome::NewTicket(t) => assert!(
                t.get() != n && t.get() != other,
                "{forged} made a new ticket"
            ),
            o => panic!("forged token {forged} threaded: {o:?}"),
        }
    }

    // Past the grace period (30 days after the rotation) the old key no longer
    // verifies: the answer, with nothing else to thread it, is a new ticket.
    s.clock.advance(chrono::Duration::days(30));
    match answer(&s, &from, &old).await {
        Outcome::NewTicket(t) => assert_ne!(t.get(), n),
        o => panic!("a token past its key's grace period threaded: {o:?}"),
    }
    assert_eq!(answer(&s, &from, &new).await, Outcome::Reply(number(n)));
}

#[tokio::test]
async fn a_warm_ingest_reads_the_ring_again_for_a_key_it_has_not_seen() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes(&s, &from, "Scanner").await;
    let old = reply_address(&s, n, &from).await;
    // The ingest reads the ring for this answer and keeps it.
    assert_eq!(answer(&s, &from, &old).await, Outcome::Reply(number(n)));

    let ring = desk_local::reply_keys::rotate(
        &s.aws,
        &s.resources.reply_token_secret,
        None,
        s.clock.now(),
    )
    .await
    .expect("rotate");
    // Another function already signs with the new key; the ingest's copy is young
    // (well within REFRESH_AFTER) but lacks k1: it reads the ring again.
    s.clock
        .advance(desk_mail::token::RELOAD_UNKNOWN_AFTER + chrono::Duration::seconds(1));
    let desk = desk_domain::EmailAddress::parse("support@desk.example").unwrap();
    let new = ring.token_at(s.clock.now()).reply_to(&desk, number(n));
    assert!(new.contains(".k1."), "{new}");
    assert_eq!(answer(&s, &from, &new).await, Outcome::Reply(number(n)));
    assert_eq!(answer(&s, &from, &old).await, Outcome::Reply(number(n)));
}
