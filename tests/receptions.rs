//! One message however often it is received (issue: mail, second pass): an SMTP
//! retry, one mail to two desk addresses, a mailbox read over IMAP as well —
//! receptions of the same message (same Message-ID and content fingerprint)
//! become one message on one ticket, each reception's raw kept and listed on
//! it. A different mail that reuses a Message-ID is its own mail; mail without
//! a Message-ID stays as before.

use desk_domain::{Source, TicketNumber};
use desk_ingest::{Delivery, Outcome};
use desk_local::provision::deliver;
use desk_local::workers::drain_once;
use desk_tests::{ses_delivery, Stack};
use futures::future::join_all;
use reqwest::StatusCode;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/mail/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// `raw` as another relay delivers it: its own transport headers in front.
fn relayed(raw: &[u8], hop: &str) -> Vec<u8> {
    let mut out = format!(
        "Return-Path: <bounce-{hop}@example.com>\r\nReceived: from {hop}.example.net by inbound-smtp.us-east-1.amazonaws.com; Tue, 01 Dec 2026 10:00:0{} +0000\r\nX-SES-Receipt: {hop}\r\nDelivered-To: {hop}@desk.example\r\n",
        hop.len() % 10
    )
    .into_bytes();
    out.extend_from_slice(raw);
    out
}

async fn ticket_count(s: &Stack) -> u64 {
    s.get("/tickets?limit=100", "admin").await.body["count"]
        .as_u64()
        .unwrap()
}

async fn drain(s: &Stack) {
    while drain_once(&s.sqs, &s.resources.inbound_url, &s.inbound, 10)
        .await
        .expect("inbound queue")
        > 0
    {}
}

async fn download(s: &Stack, path: &str) -> (StatusCode, Vec<u8>) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", s.base))
        .bearer_auth(s.token("admin"))
        .send()
        .await
        .expect("request");
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn three_receptions_of_one_message_are_one_ticket_one_message_three_raws() {
    let s = Stack::start().await;
    let original = fixture("gmail-attachment-png-zip.eml");
    let raws: Vec<Vec<u8>> = ["mx1", "mx2", "imap"]
        .iter()
        .map(|hop| relayed(&original, hop))
        .collect();
    // SES → S3 → SQS → ingest, three times, one after the other (an SMTP retry).
    for raw in &raws {
        deliver(&s.aws, &s.resources, std::slice::from_ref(raw))
            .await
            .unwrap();
        drain(&s).await;
    }
    assert_eq!(ticket_count(&s).await, 1, "one ticket");
    let list = s.get("/tickets?limit=1", "admin").await;
    let n = list.body["items"][0]["number"].as_u64().unwrap();
    let messages = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let items = messages.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one message: {}", messages.body);
    let message = &items[0];
    let receptions = message["receptions"].as_array().expect("receptions listed");
    assert_eq!(receptions.len(), 2, "{message}");
    assert!(message.get("fingerprint").is_none(), "internal, not shown");
    let mut keys: Vec<&str> = receptions
        .iter()
        .map(|r| r["raw_key"].as_str().unwrap())
        .collect();
    keys.push(message["raw_key"].as_str().unwrap());
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3, "three raws kept: {keys:?}");
    // Each reception's raw downloads byte for byte, in the order received.
    let id = message["id"].as_str().unwrap();
    for (i, raw) in raws.iter().enumerate() {
        let (status, body) =
            download(&s, &format!("/tickets/{n}/messages/{id}/raw?reception={i}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body, raw, "reception {i} byte for byte");
    }
    let (status, _) = download(&s, &format!("/tickets/{n}/messages/{id}/raw?reception=3")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = download(&s, &format!("/tickets/{n}/messages/{id}/raw?reception=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // One email_received in the activity, not three.
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let received = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "email_received")
        .count();
    assert_eq!(received, 1);
    // And a redelivery of one of those receptions is still nothing new.
    let again = s
        .inbound
        .ingest
        .ingest(
            &Delivery {
                id: receptions[0]["delivery_id"].as_str().unwrap().into(),
                raw_key: receptions[0]["raw_key"].as_str().unwrap().into(),
                envelope: vec!["support@desk.example".into()],
                source: Source::Email,
            },
            &raws[1],
        )
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Duplicate), "{again:?}");
    let stored = s.stored_messages(TicketNumber::new(n).unwrap()).await;
    assert_eq!(stored[0].receptions.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_racing_receptions_make_one_ticket_and_one_message() {
    let s = Stack::start().await;
    let original = fixture("gmail-new-alternative.eml");
    let ingest = &s.inbound.ingest;
    // All three in flight at once: each reads, threads and writes over the network.
    let outcomes = join_all(["a", "b", "c"].iter().map(|hop| {
        let raw = relayed(&original, hop);
        async move {
            ingest
                .ingest(&ses_delivery(&format!("race-{hop}")), &raw)
                .await
        }
    }))
    .await;
    let new: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Outcome::NewTicket(_))))
        .collect();
    let again: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Outcome::AnotherReception(_))))
        .collect();
    assert_eq!((new.len(), again.len()), (1, 2), "{outcomes:?}");
    assert_eq!(ticket_count(&s).await, 1);
    let Ok(Outcome::NewTicket(n)) = new[0] else {
        unreachable!()
    };
    let stored = s.stored_messages(*n).await;
    assert_eq!(stored.len(), 1);
    let mut deliveries: Vec<&str> = stored[0]
        .receptions
        .iter()
        .map(|r| r.delivery_id.as_str())
        .chain([stored[0].delivery_id.as_str()])
        .collect();
    deliveries.sort();
    assert_eq!(deliveries, ["race-a", "race-b", "race-c"]);
}

#[tokio::test]
async fn a_reused_message_id_with_another_body_is_kept_as_its_own_mail() {
    let s = Stack::start().await;
    let first = b"From: Carol <carol@example.com>\r\nTo: support@desk.example\r\nSubject: Printer\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <reused@example.com>\r\n\r\nIt smokes.\r\n".to_vec();
    let second = String::from_utf8(first.clone())
        .unwrap()
        .replace("It smokes.", "The scanner jams too.")
        .into_bytes();
    let a = s
        .inbound
        .ingest
        .ingest(&ses_delivery("reuse-1"), &first)
        .await
        .unwrap();
    let b = s
        .inbound
        .ingest
        .ingest(&ses_delivery("reuse-2"), &second)
        .await
        .unwrap();
    let tickets: Vec<TicketNumber> = [&a, &b]
        .iter()
        .filter_map(|o| match o {
            Outcome::NewTicket(n) | Outcome::Reply(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(tickets.len(), 2, "both kept: {a:?} {b:?}");
    let mut texts = Vec::new();
    for n in tickets.iter().collect::<std::collections::BTreeSet<_>>() {
        texts.extend(s.stored_messages(*n).await.into_iter().map(|m| m.text));
    }
    texts.sort();
    assert_eq!(texts, ["It smokes.", "The scanner jams too."]);
}

#[tokio::test]
async fn mail_without_a_message_id_stays_one_ticket_per_reception() {
    let s = Stack::start().await;
    let raw = fixture("malformed-missing-message-id.eml");
    for id in ["no-id-1", "no-id-2"] {
        let o = s
            .inbound
            .ingest
            .ingest(&ses_delivery(id), &raw)
            .await
            .unwrap();
        assert!(matches!(o, Outcome::NewTicket(_)), "{o:?}");
    }
    assert_eq!(ticket_count(&s).await, 2);
}

#[tokio::test]
async fn a_customer_answer_received_twice_is_one_message_on_the_ticket() {
    let s = Stack::start().await;
    let first = s
        .inbound
        .ingest
        .ingest(
            &ses_delivery("thread-1"),
            &fixture("gmail-new-alternative.eml"),
        )
        .await
        .unwrap();
    let Outcome::NewTicket(n) = first else {
        panic!("{first:?}")
    };
    let sent = s.stored_messages(n).await;
    let id = sent[0].rfc_message_id.clone().unwrap();
    let answer = format!("From: {}\r\nTo: support@desk.example\r\nSubject: Re: it\r\nDate: Tue, 01 Dec 2026 11:00:00 +0000\r\nMessage-ID: <answer-1@example.com>\r\nIn-Reply-To: <{id}>\r\n\r\nStill broken.\r\n", sent[0].from).into_bytes();
    for (i, hop) in ["mx1", "mx2"].iter().enumerate() {
        let o = s
            .inbound
            .ingest
            .ingest(
                &ses_delivery(&format!("answer-{i}")),
                &relayed(&answer, hop),
            )
            .await
            .unwrap();
        match (i, &o) {
            (0, Outcome::Reply(t)) | (1, Outcome::AnotherReception(t)) => assert_eq!(*t, n),
            _ => panic!("reception {i}: {o:?}"),
        }
    }
    let stored = s.stored_messages(n).await;
    assert_eq!(stored.len(), 2, "the first mail and one answer");
    assert_eq!(stored[1].receptions.len(), 1);
}
