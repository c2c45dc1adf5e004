//! The production path on the emulators: raw mail in S3, its S3 event on SQS,
//! the ingest handler draining the queue as Lambda's event source does. A poison
//! message is retried alone, dead-lettered with its raw kept, and replayed once
//! fixed; a storage outage loses nothing.

use desk_dynamo::DynamoStore;
use desk_local::provision::{deliver, s3_event};
use desk_local::workers::{drain_once, replay};
use desk_tests::Stack;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/mail/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

const PEOPLE: [&str; 9] = [
    "gmail-new-alternative.eml",
    "outlook-new-html.eml",
    "apple-mail-new-alternative.eml",
    "plain-text-no-mime.eml",
    "windows-1252-smart-quotes.eml",
    "iso-2022-jp-body.eml",
    "gmail-attachment-png-zip.eml",
    "html-only-hostile.eml",
    "thread-new-conversation.eml",
];

async fn ticket_count(s: &Stack) -> u64 {
    s.get("/tickets?limit=100", "admin").await.body["count"]
        .as_u64()
        .unwrap()
}

/// Drains the inbound queue until it is empty (waiting out retry delays).
async fn drain(s: &Stack, handler: &desk_jobs::inbound::Inbound) -> usize {
    let mut total = 0;
    let mut idle = 0;
    while idle < 3 {
        let n = drain_once(&s.sqs, &s.resources.inbound_url, handler, 1)
            .await
            .unwrap();
        total += n;
        idle = if n == 0 { idle + 1 } else { 0 };
    }
    total
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_alone_and_replayed_once_fixed() {
    let s = Stack::start().await;
    let raws: Vec<Vec<u8>> = PEOPLE.iter().map(|f| fixture(f)).collect();
    let keys = deliver(&s.aws, &s.resources, &raws).await.unwrap();
    // The poison: an event for an object that is not there (yet).
    let missing = "inbound/poison-message";
    s.sqs
        .send_message()
        .queue_url(&s.resources.inbound_url)
        .message_body(s3_event(&s.resources.inbound_bucket, missing, 10))
        .send()
        .await
        .unwrap();

    drain(&s, &s.inbound).await;
    assert_eq!(ticket_count(&s).await, 9, "the other nine are processed");
    let dlq = s
        .sqs
        .get_queue_attributes()
        .queue_url(&s.resources.inbound_dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let in_dlq = dlq.attributes.unwrap()
        [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages]
        .clone();
    assert_eq!(in_dlq, "1", "the poison is dead-lettered after its retries");

    // Every raw message is kept.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&s.aws)
            .force_path_style(true)
            .build(),
    );
    for k in &keys {
        s3.head_object()
            .bucket(&s.resources.inbound_bucket)
            .key(k)
            .send()
            .await
            .expect("raw kept");
    }

    // Fixed (the object arrives), then the replay command brings it back once.
    s3.put_object()
        .bucket(&s.resources.inbound_bucket)
        .key(missing)
        .body(aws_sdk_s3::primitives::ByteStream::from(fixture(
            "gmail-reply-quote.eml",
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay(
            &s.sqs,
            &s.resources.inbound_dlq_url,
            &s.resources.inbound_url
        )
        .await
        .unwrap(),
        1
    );
    drain(&s, &s.inbound).await;
    assert_eq!(ticket_count(&s).await, 10);
    // Replaying again changes nothing (exactly once).
    s.sqs
        .send_message()
        .queue_url(&s.resources.inbound_url)
        .message_body(s3_event(&s.resources.inbound_bucket, missing, 10))
        .send()
        .await
        .unwrap();
    drain(&s, &s.inbound).await;
    assert_eq!(ticket_count(&s).await, 10);
}

#[tokio::test]
async fn dynamodb_unavailable_mid_batch_then_back_every_email_becomes_a_ticket() {
    let s = Stack::start().await;
    deliver(
        &s.aws,
        &s.resources,
        &PEOPLE[..4].iter().map(|f| fixture(f)).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    // The same handler over a DynamoDB that does not answer (a closed port, no SDK retries).
    let dead = desk_tests::unreachable_dynamo_client();
    let config = desk_local::local_config(s.store.table(), Some(&s.resources)).unwrap();
    let down = ingest::compose(
        &config.ingest,
        DynamoStore::new(dead, s.store.table()),
        &s.aws,
    );
    let received = drain_once(&s.sqs, &s.resources.inbound_url, &down, 1)
        .await
        .unwrap();
    assert!(received > 0);
    assert_eq!(ticket_count(&s).await, 0);
    // Back: the retried records all become tickets.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    drain(&s, &s.inbound).await;
    assert_eq!(ticket_count(&s).await, 4);
}
