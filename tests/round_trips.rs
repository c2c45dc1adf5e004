//! DynamoDB round trips per operation, counted at the SDK: a list page is one
//! Query per partition it reads (one for administrators, one per visibility
//! partition for agents, issued in parallel), a tag page one Query of its links
//! and one BatchGetItem, and nothing ever Scans.

use desk_domain::listing::ListRequest;
use desk_dynamo::keys::{Gather, Plan};
use desk_tests::Stack;
use serde_json::json;

fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn every_list_page_reads_one_query_per_partition() {
    let s = Stack::start().await;
    for i in 0..12 {
        let assignee = match i % 3 {
            0 => json!({"type": "group", "id": "support"}),
            1 => json!({"type": "user", "id": "bob"}),
            _ => json!(null),
        };
        s.ticket(Stack::ticket_body(
            &format!("T{i} printer"),
            json!({"assignee": assignee, "tags": ["t"], "priority": "high"}),
        ))
        .await;
    }
    s.drain_stream().await;
    let blocks = s.store.posting_blocks(true).await.unwrap();
    assert!(
        (1002..=1012).contains(&blocks.tail_start()),
        "sealed blocks and an open tail: {blocks:?}"
    );
    let queries = [
        "",
        "status=open",
        "status=open,waiting",
        "priority=high,urgent",
        "assignee=me",
        "assignee=unassigned",
        "assignee=group:support",
        "tag=t",
        "customer=carol@example.com",
        "q=printer",
        "q=printer&status=open&priority=high&tag=t&sort=name&order=asc",
        "sort=created",
        "sort=priority",
        "sort=status",
        "sort=name",
        "sort=customer",
        "sort=assignee",
        "limit=1",
    ];
    for user in ["admin", "alice"] {
        let caller = s.desk.caller(user).await.unwrap();
        for q in queries {
            let req = ListRequest::parse(&pairs(q)).unwrap();
            let plan = desk_dynamo::keys::plan(&req.plan(&caller).unwrap().unwrap());
            // The list indexes project only what filters test: a page's
            // tickets are then read by key, one BatchGetItem (none for an empty page).
            let mut expected: Vec<&str> = match &plan {
                Plan::Partitions { partitions, .. } => vec!["Query"; partitions.len()],
                Plan::Gather {
                    source: Gather::Tag(_),
                    ..
                } => vec!["Query", "BatchGetItem"],
                // A search: the word list for the last word's prefix beside
                // where sealing stands and the newest number (one
                // BatchGetItem); then the open tail's term documents beside
                // the postings of each word it reads (here one: `printer`);
                // then the tickets. Here both the tail and sealed blocks hold
                // some (asserted below).
                Plan::Search { .. }
                | Plan::Gather {
                    source: Gather::Search,
                    ..
                } => vec![
                    "BatchGetItem",
                    "BatchGetItem",
                    "Query",
                    "Query",
                    "BatchGetItem",
                ],
                Plan::Gather { .. } => vec!["Query", "BatchGetItem"],
            };
            s.counter.take();
            let page = s.desk.list_tickets(&caller, &req).await.unwrap();
            if page.items.is_empty() {
                expected.retain(|c| *c != "BatchGetItem");
            } else if matches!(plan, Plan::Partitions { .. }) {
                expected.push("BatchGetItem");
            }
            let mut calls = s.counter.take();
            if q.contains("q=") {
                // Issued in parallel pairs: their order is not fixed.
                calls.sort_unstable();
                expected.sort_unstable();
            }
            assert_eq!(calls, expected, "{user}: {q}");
            // Follow the cursor once: at most as many calls, never a Scan.
            if let Some(c) = page.next_cursor {
                let mut next = req.clone();
                next.cursor = Some(c);
                s.desk.list_tickets(&caller, &next).await.unwrap();
                let calls = s.counter.take();
                assert!(
                    calls.len() <= expected.len() && calls.iter().all(|c| expected.contains(c)),
                    "{user}: {q} page 2: {calls:?}"
                );
            }
        }
    }
    // An agent in one group reads three partitions: their own, their group's, unassigned.
    let alice = s.desk.caller("alice").await.unwrap();
    let req = ListRequest::parse(&[]).unwrap();
    match desk_dynamo::keys::plan(&req.plan(&alice).unwrap().unwrap()) {
        Plan::Partitions { partitions, .. } => assert_eq!(partitions.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn hot_operations_have_a_known_number_of_round_trips() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Costs", json!({}))).await;
    s.counter.take();
    // Each HTTP request first resolves the caller: 1 GetItem.
    s.get(&format!("/tickets/{n}"), "alice").await;
    assert_eq!(s.counter.take(), ["GetItem", "GetItem"]);

    s.post("/tickets", "alice", Stack::ticket_body("New", json!({})))
        .await;
    assert_eq!(
        s.counter.take(),
        ["GetItem", "UpdateItem", "TransactWriteItems"]
    );

    s.patch(
        &format!("/tickets/{n}"),
        "alice",
        json!({"version": 1, "status": "waiting"}),
    )
    .await;
    assert_eq!(
        s.counter.take(),
        ["GetItem", "GetItem", "TransactWriteItems"]
    );

    // Assigning checks the assignee exists: one more GetItem.
    s.patch(
        &format!("/tickets/{n}"),
        "alice",
        json!({"version": 2, "assignee": {"type": "user", "id": "alice"}}),
    )
    .await;
    assert_eq!(
        s.counter.take(),
        ["GetItem", "GetItem", "GetItem", "TransactWriteItems"]
    );

    s.post(
        &format!("/tickets/{n}/notes"),
        "alice",
        json!({"body": "x"}),
    )
    .await;
    assert_eq!(
        s.counter.take(),
        ["GetItem", "GetItem", "TransactWriteItems"]
    );

    s.get(&format!("/tickets/{n}/activity"), "alice").await;
    assert_eq!(s.counter.take(), ["GetItem", "GetItem", "Query"]);

    // alice (one group): her three visibility partitions, queried in parallel,
    // then the page's tickets by key.
    let r = s.get("/tickets?status=open", "alice").await;
    assert!(!desk_tests::numbers(&r).is_empty());
    assert_eq!(
        s.counter.take(),
        ["GetItem", "Query", "Query", "Query", "BatchGetItem"]
    );
    s.get("/tickets?status=open", "admin").await;
    assert_eq!(s.counter.take(), ["GetItem", "Query", "BatchGetItem"]);
    // A search, whoever asks: the word list for the last word's prefix
    // beside where sealing stands (BatchGetItem); the open tail's term
    // documents (both tickets are in it: no block is sealed yet, so no
    // postings are read); the matching tickets.
    s.drain_stream().await;
    assert!(s.store.posting_blocks(true).await.unwrap().tail_start() <= n);
    s.counter.take();
    for user in ["alice", "admin"] {
        let r = s.get("/tickets?status=waiting&q=costs", user).await;
        assert_eq!(desk_tests::numbers(&r), [n], "{user}");
        let mut calls = s.counter.take();
        calls[1..3].sort_unstable();
        assert_eq!(
            calls,
            [
                "GetItem",
                "BatchGetItem",
                "Query",
                "BatchGetItem",
                "BatchGetItem"
            ],
            "{user}"
        );
    }
    // The quick-filter counts: one Query.
    s.get("/tickets/counts", "alice").await;
    assert_eq!(s.counter.take(), ["GetItem", "Query"]);

    // A stale edit costs one more read to report the current version.
    s.patch(
        &format!("/tickets/{n}"),
        "alice",
        json!({"version": 1, "status": "open"}),
    )
    .await;
    assert_eq!(s.counter.take(), ["GetItem", "GetItem"]);
}
