//! Concurrency against DynamoDB Local: optimistic locking and unique numbers.

use std::collections::HashSet;

use desk_tests::Stack;
use futures::future::join_all;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_edits_each_apply_or_conflict_and_the_log_holds_exactly_the_applied() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Contended", json!({}))).await;
    let path = format!("/tickets/{n}");
    // Everyone read version 1; each writes a distinct name.
    let edits = (0..50).map(|i| {
        let s = &s;
        let path = path.clone();
        async move {
            let r = s
                .patch(
                    &path,
                    "admin",
                    json!({"version": 1, "name": format!("edit {i}")}),
                )
                .await;
            (i, r)
        }
    });
    let results = join_all(edits).await;
    let mut applied = vec![];
    for (i, r) in &results {
        match r.status.as_u16() {
            200 => applied.push(*i),
            409 => {
                assert_eq!(r.body["code"], "version_conflict");
                assert!(r.body["current_version"].as_u64().unwrap() >= 2);
            }
            other => panic!("edit {i}: unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(
        applied.len(),
        1,
        "all read version 1, so exactly one can win"
    );

    // Now chains of retries: each worker retries on conflict until applied.
    let workers = (0..10).map(|w| {
        let s = &s;
        let path = path.clone();
        async move {
            let mut conflicts = 0;
            loop {
                let v = s.get(&path, "admin").await.body["version"]
                    .as_u64()
                    .unwrap();
                let r = s
                    .patch(
                        &path,
                        "admin",
                        json!({"version": v, "description": format!("worker {w}")}),
                    )
                    .await;
                match r.status.as_u16() {
                    200 => return conflicts,
                    409 => conflicts += 1,
                    other => panic!("worker {w}: {other}: {}", r.body),
                }
            }
        }
    });
    join_all(workers).await;

    let ticket = s.get(&path, "admin").await;
    let act = s.get(&format!("{path}/activity?limit=500"), "admin").await;
    let edits: Vec<_> = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "fields_changed")
        .collect();
    // 1 winner of the race + 10 workers (a worker whose description equals the
    // current one would be a no-op, but every worker writes its own text).
    assert_eq!(edits.len(), 11);
    assert_eq!(
        ticket.body["version"].as_u64().unwrap(),
        1 + edits.len() as u64
    );
    let winner = applied[0];
    assert_eq!(edits[0]["changes"][0]["to"], format!("edit {winner}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_creates_get_two_hundred_distinct_numbers() {
    let s = Stack::start().await;
    let creates = (0..200).map(|i| {
        let s = &s;
        async move {
            let r = s
                .post(
                    "/tickets",
                    "alice",
                    Stack::ticket_body(&format!("Burst {i}"), json!({})),
                )
                .await;
            assert_eq!(r.status.as_u16(), 201, "{}", r.body);
            r.body["number"].as_u64().unwrap()
        }
    });
    let numbers: Vec<u64> = join_all(creates).await;
    let distinct: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), 200);
    // Numbers are the consecutive run after 1000: none lost, none reused.
    assert_eq!(*distinct.iter().min().unwrap(), 1001);
    assert_eq!(*distinct.iter().max().unwrap(), 1200);
}
