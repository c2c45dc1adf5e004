//! Search, counts and ticket events, kept from the table's stream by the indexer
//! (played from DynamoDB Local's stream exactly as Lambda's event source mapping
//! delivers it): every part of a ticket is searchable — its fields, notes, mail
//! in and out without quoted history — within the caller's visibility; counts
//! follow every move; a record delivered twice changes nothing; a poison record
//! is set aside without blocking its shard.

use desk_domain::Source;
use desk_ingest::{Delivery, Outcome};
use desk_tests::{numbers, Stack};
use serde_json::{json, Value};

async fn receive(s: &Stack, raw: String) -> u64 {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let delivery = Delivery {
        id: id.clone(),
        raw_key: format!("s3://local-inbound/inbound/{id}"),
        envelope: vec!["support@desk.example".into()],
        source: Source::Email,
    };
    match s.inbound.ingest.ingest(&delivery, raw.as_bytes()).await {
        Ok(Outcome::NewTicket(n)) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

async fn search(s: &Stack, q: &str, user: &str) -> Vec<u64> {
    let r = s.get(&format!("/tickets?q={q}&sort=created"), user).await;
    assert_eq!(r.status, 200, "{q}: {:?}", r.body);
    numbers(&r)
}

async fn counts(s: &Stack, user: &str) -> Value {
    let r = s.get("/tickets/counts", user).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn notes_and_mail_in_and_out_are_searchable_without_quoted_history() {
    let s = Stack::start().await;
    let from = format!("cust-{}@example.com", uuid::Uuid::new_v4().simple());
    let n = receive(
        &s,
        format!(
            "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: Plotter trouble\r\n\
             Message-ID: <{}@mail.example.com>\r\n\r\nThe wombat plotter smears ink.\r\n\r\n\
             On Mon, 1 Dec 2026, Desk <support@desk.example> wrote:\r\n> Try the narwhal cartridge\r\n\
             -- \r\nCarol, Facilities\r\n",
            uuid::Uuid::new_v4().simple()
        ),
    )
    .await;
    let other = s.ticket(Stack::ticket_body("Unrelated", json!({}))).await;
    let r = s
        .post(
            &format!("/tickets/{n}/notes"),
            "admin",
            json!({"body": "Vendor says the axolotl firmware fixes it"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "We ordered a quetzal roller for you."}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    s.drain_outbox().await;
    s.drain_stream().await;

    for q in [
        "wombat",         // the customer's mail
        "smears%20ink",   // two words of it
        "axolotl",        // a note
        "firmware%20fix", // a note, stemmed, the last word as a prefix
        "quetzal",        // the agent's reply
        "plotter",        // the subject
    ] {
        assert_eq!(search(&s, q, "admin").await, [n], "{q}");
    }
    // Quoted history and the signature are not the customer's words.
    assert_eq!(search(&s, "narwhal", "admin").await, Vec::<u64>::new());
    assert_eq!(search(&s, "facilities", "admin").await, Vec::<u64>::new());
    // Every word must match somewhere on the ticket (here: mail and note).
    assert_eq!(search(&s, "wombat%20axolotl", "admin").await, [n]);
    assert_eq!(
        search(&s, "wombat%20unrelated", "admin").await,
        Vec::<u64>::new()
    );
    assert_eq!(search(&s, "unrelated", "admin").await, [other]);

    // An edited name leaves the index; the new one enters it.
    let r = s
        .patch(
            &format!("/tickets/{other}"),
            "admin",
            json!({"version": 1, "name": "Renamed capybara"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    s.drain_stream().await;
    assert_eq!(search(&s, "unrelated", "admin").await, Vec::<u64>::new());
    assert_eq!(search(&s, "capybara", "admin").await, [other]);
    // Sorted by another key, the same matches (gathered, sorted in memory).
    let r = s.get("/tickets?q=capybara&sort=updated", "admin").await;
    assert_eq!(numbers(&r), [other]);
}

#[tokio::test]
async fn search_and_counts_show_only_what_the_caller_may_see_and_follow_moves() {
    let s = Stack::start().await;
    let support = |name: &str| {
        Stack::ticket_body(
            name,
            json!({"assignee": {"type": "group", "id": "support"}, "priority": "high"}),
        )
    };
    let a = s.ticket(support("Okapi scanner offline")).await;
    let b = s.ticket(support("Okapi badge reader")).await;
    let c = s
        .ticket(Stack::ticket_body(
            "Billing okapi",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    s.drain_stream().await;

    assert_eq!(
        search(&s, "okapi", "admin").await,
        [c, b, a],
        "newest first"
    );
    assert_eq!(search(&s, "okapi", "alice").await, [b, a]);
    assert_eq!(
        search(&s, "okapi%20scanner", "bob").await,
        Vec::<u64>::new()
    );
    assert_eq!(search(&s, "okapi", "bob").await, [c]);

    let admin = counts(&s, "admin").await;
    assert_eq!(admin["total"], 3);
    assert_eq!(admin["status"]["open"], 3);
    assert_eq!(admin["priority"]["high"], 2);
    let alice = counts(&s, "alice").await;
    assert_eq!(alice["total"], 2);
    assert_eq!(alice["priority"]["high"], 2);
    assert_eq!(alice["status"]["closed"], 0);
    assert_eq!(counts(&s, "bob").await["total"], 1);

    // Moved to billing and closed: it leaves alice's results and counts, joins bob's.
    let r = s
        .patch(
            &format!("/tickets/{a}"),
            "admin",
            json!({"version": 1, "assignee": {"type": "group", "id": "billing"}, "status": "closed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    s.drain_stream().await;
    assert_eq!(search(&s, "okapi", "alice").await, [b]);
    assert_eq!(search(&s, "okapi", "bob").await, [c, a]);
    let alice = counts(&s, "alice").await;
    assert_eq!(
        (alice["total"].as_i64(), alice["priority"]["high"].as_i64()),
        (Some(1), Some(1))
    );
    let bob = counts(&s, "bob").await;
    assert_eq!(bob["total"], 2);
    assert_eq!(bob["status"]["closed"], 1);
    assert_eq!(counts(&s, "admin").await["total"], 3);

    // Paging a search: complete pages, newest first, an opaque cursor.
    let r = s
        .get("/tickets?q=okapi&sort=created&limit=2", "admin")
        .await;
    assert_eq!(numbers(&r), [c, b]);
    let cursor = r.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let r = s
        .get(
            &format!("/tickets?q=okapi&sort=created&limit=2&cursor={cursor}"),
            "admin",
        )
        .await;
    assert_eq!(numbers(&r), [a]);
    assert!(r.body["next_cursor"].is_null());
    // A cursor belongs to its query.
    let r = s
        .get(
            &format!("/tickets?q=badge&sort=created&limit=2&cursor={cursor}"),
            "admin",
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
}

#[tokio::test]
async fn ticket_events_come_from_the_stream() {
    let s = Stack::start().await;
    s.events().await; // whatever the directory set-up published
    let from = format!("cust-{}@example.com", uuid::Uuid::new_v4().simple());
    let n = receive(
        &s,
        format!(
            "From: Dana <{from}>\r\nTo: support@desk.example\r\nSubject: Door code\r\n\
             Message-ID: <{}@mail.example.com>\r\n\r\nThe door code stopped working.\r\n",
            uuid::Uuid::new_v4().simple()
        ),
    )
    .await;
    s.post(
        &format!("/tickets/{n}/notes"),
        "admin",
        json!({"body": "Called facilities"}),
    )
    .await;
    s.patch(
        &format!("/tickets/{n}"),
        "admin",
        json!({"version": 1, "priority": "urgent"}),
    )
    .await;
    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": "A new code is on its way."}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    s.drain_outbox().await;
    assert!(
        s.events()
            .await
            .iter()
            .all(|(t, _)| !t.starts_with("Ticket")),
        "nothing is published from the request paths"
    );
    s.drain_stream().await;
    let events = s.events().await;
    let of = |kind: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|(t, d)| t == kind && d["ticket"] == n)
            .map(|(_, d)| d.clone())
            .collect()
    };
    let created = of("TicketCreated");
    assert_eq!(created.len(), 1, "{events:?}");
    assert_eq!(created[0]["customer"], from.as_str());
    assert_eq!(created[0]["source"], "email");
    let received = of("EmailReceived");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["subject"], "Door code");
    let noted = of("NoteAdded");
    assert_eq!(
        (noted.len(), noted[0]["author"].as_str()),
        (1, Some("admin"))
    );
    let updated = of("TicketUpdated");
    assert!(
        updated
            .iter()
            .any(|u| u["changes"]["priority"] == json!({"from": "medium", "to": "urgent"})),
        "{updated:?}"
    );
    assert!(updated
        .iter()
        .all(|u| !u["changes"].as_object().unwrap().is_empty()));
    let sent = of("ReplySent");
    assert_eq!(sent.len(), 1, "{events:?}");
    assert_eq!(sent[0]["to"], json!([from]));
    assert!(sent[0]["provider_message_id"].is_string());
    for (_, d) in &events {
        assert!(d["change_id"].is_string(), "{d}");
        assert!(
            d.get("text").is_none() && d.get("body").is_none(),
            "no bodies: {d}"
        );
    }
}

/// The index items of the table (postings, word lists, counts), for comparing.
async fn index_items(s: &Stack) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        // A test's own view of the whole table (not a request path).
        let page = s
            .store
            .client()
            .scan()
            .table_name(s.store.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let pk = item["pk"].as_s().unwrap();
            if ["W#", "WD#", "COUNTS", "COUNTED#", "TERMS#"]
                .iter()
                .any(|p| pk.starts_with(p))
            {
                // A count back at zero stays as a zero: the same as none. And
                // `v` is the term document's concurrency token: how many
                // writes it took, not what it holds.
                let zero = |v: &aws_sdk_dynamodb::types::AttributeValue| {
                    pk == "COUNTS" && v.as_n().is_ok_and(|n| n == "0")
                };
                if pk == "COUNTS" && item.iter().all(|(k, v)| k == "pk" || k == "sk" || zero(v)) {
                    continue;
                }
                let mut attrs: Vec<String> = item
                    .iter()
                    .filter(|(k, v)| k.as_str() != "v" && !zero(v))
                    .map(|(k, v)| match v {
                        aws_sdk_dynamodb::types::AttributeValue::M(m) => {
                            let mut m: Vec<String> =
                                m.iter().map(|(a, b)| format!("{a}:{b:?}")).collect();
                            m.sort();
                            format!("{k}={m:?}")
                        }
                        other => format!("{k}={other:?}"),
                    })
                    .collect();
                attrs.sort();
                out.push(attrs.join(" "));
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            out.sort();
            return out;
        }
    }
}

#[tokio::test]
async fn a_stream_delivered_twice_leaves_index_and_counts_exact() {
    let s = Stack::start().await;
    let a = s
        .ticket(Stack::ticket_body("Gecko router", json!({})))
        .await;
    let b = s
        .ticket(Stack::ticket_body(
            "Gecko switch",
            json!({"priority": "low"}),
        ))
        .await;
    for (version, change) in [
        (1, json!({"assignee": {"type": "group", "id": "support"}})),
        (2, json!({"status": "closed", "name": "Gecko firewall"})),
        (3, json!({"status": "open", "assignee": null})),
    ] {
        let mut body = change;
        body["version"] = json!(version);
        let r = s.patch(&format!("/tickets/{a}"), "admin", body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    s.post(
        &format!("/tickets/{b}/notes"),
        "admin",
        json!({"body": "gecko note"}),
    )
    .await;
    assert!(s.drain_stream().await > 0);
    let once = index_items(&s).await;
    let counted = counts(&s, "admin").await;
    assert_eq!(counted["total"], 2);
    assert_eq!(counted["status"]["open"], 2);

    // The whole stream again from its start, as after a lost checkpoint.
    let mut again = desk_local::stream::StreamSource::open(
        &s.aws,
        &desk_tests::dynamo_endpoint(),
        s.store.table(),
    )
    .await
    .unwrap();
    assert!(again.drain(&s.indexer).await.unwrap() > 0);
    assert_eq!(index_items(&s).await, once);
    assert_eq!(counts(&s, "admin").await, counted);
    assert_eq!(search(&s, "firewall", "admin").await, [a]);
    assert_eq!(search(&s, "router", "admin").await, Vec::<u64>::new());
}

#[tokio::test]
async fn a_poison_record_is_set_aside_and_its_shard_goes_on() {
    let s = Stack::start().await;
    // A ticket item that no longer decodes (an unknown status), written behind the API's back.
    s.store
        .client()
        .put_item()
        .table_name(s.store.table())
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("TICKET#999999".into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("TICKET".into()),
        )
        .item(
            "status",
            aws_sdk_dynamodb::types::AttributeValue::S("exploded".into()),
        )
        .send()
        .await
        .unwrap();
    let after = s
        .ticket(Stack::ticket_body("Tapir projector", json!({})))
        .await;
    let mut stream = s.stream.lock().await;
    stream.drain(&s.indexer).await.unwrap();
    assert_eq!(stream.set_aside.len(), 1, "{:?}", stream.set_aside);
    drop(stream);
    assert_eq!(search(&s, "tapir", "admin").await, [after]);
    assert_eq!(counts(&s, "admin").await["total"], 1);
}

#[tokio::test]
async fn a_rebuild_from_the_table_equals_what_the_stream_built_and_resumes() {
    let s = Stack::start().await;
    for i in 0..12 {
        let priority = ["low", "high"][i % 2];
        let assignee = [json!({"type": "group", "id": "support"}), json!(null)][i % 2].clone();
        let n = s
            .ticket(Stack::ticket_body(
                &format!("Ibis {i} monitor"),
                json!({"priority": priority, "assignee": assignee}),
            ))
            .await;
        if i % 3 == 0 {
            s.post(
                &format!("/tickets/{n}/notes"),
                "admin",
                json!({"body": format!("ibis note {i}")}),
            )
            .await;
        }
    }
    s.drain_stream().await;
    let streamed = index_items(&s).await;
    let counted = counts(&s, "alice").await;
    // A process of its own, as `desk-local reindex --fresh` runs: its own store.
    let store = desk_dynamo::DynamoStore::new(s.store.client().clone(), s.store.table());
    let config = desk_local::local_config(s.store.table(), Some(&s.resources)).unwrap();
    let indexer = indexer::compose(&config.indexer, store.clone(), &s.aws);
    // Interrupted after two pages of 10 items, then resumed.
    let first = desk_local::reindex::run(
        &store,
        &indexer,
        &desk_local::reindex::Options {
            fresh: true,
            max_pages: Some(2),
            page: Some(10),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!first.finished && first.items < 16, "{first:?}");
    assert_ne!(index_items(&s).await, streamed, "half done");
    let rest = desk_local::reindex::run(
        &store,
        &indexer,
        &desk_local::reindex::Options {
            resume: true,
            page: Some(10),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(rest.finished, "{first:?} then {rest:?}");
    assert_eq!(
        rest.items,
        12 + 4,
        "12 tickets, 4 notes: {first:?} then {rest:?}"
    );
    assert_eq!(index_items(&s).await, streamed);
    assert_eq!(counts(&s, "alice").await, counted);
    // And again: idempotent.
    desk_local::reindex::run(&store, &indexer, &desk_local::reindex::Options::default())
        .await
        .unwrap();
    assert_eq!(index_items(&s).await, streamed);

    // Another block size: only over a fresh index, and searches find the same.
    let found = search(&s, "ibis", "admin").await;
    assert_eq!(found.len(), 12);
    let resize = |fresh| desk_local::reindex::Options {
        fresh,
        block_size: Some(8),
        ..Default::default()
    };
    assert!(desk_local::reindex::run(&store, &indexer, &resize(false))
        .await
        .is_err());
    desk_local::reindex::run(&store, &indexer, &resize(true))
        .await
        .unwrap();
    assert_eq!(s.store.posting_blocks(true).await.unwrap().size, 8);
    assert_eq!(search(&s, "ibis", "admin").await, found);
}

#[tokio::test]
async fn a_bulk_import_of_the_index_equals_what_the_stream_built() {
    use desk_domain::ports::TicketStore;
    let s = Stack::start().await;
    let mut numbers = Vec::new();
    for i in 0..8 {
        numbers.push(
            s.ticket(Stack::ticket_body(
                &format!("Heron {i} projector café"),
                json!({"tags": [format!("t{}", i % 3)]}),
            ))
            .await,
        );
    }
    s.drain_stream().await;
    // Postings, word list and term documents (the import leaves counts alone).
    let searchable = |items: Vec<String>| -> Vec<String> {
        items
            .into_iter()
            .filter(|i| !i.contains("\"COUNT"))
            .collect()
    };
    let streamed = searchable(index_items(&s).await);
    assert!(
        streamed.iter().any(|i| i.contains("W#heron")),
        "{streamed:?}"
    );
    // Cleared (the test's own view of the table), then imported in one call by
    // a process of its own, as a benchmark's loader does.
    let client = s.store.client();
    let items = client
        .scan()
        .table_name(s.store.table())
        .send()
        .await
        .unwrap();
    for item in items.items() {
        let pk = item["pk"].as_s().unwrap();
        if ["W#", "WD#", "TERMS#"].iter().any(|p| pk.starts_with(p)) {
            client
                .delete_item()
                .table_name(s.store.table())
                .key("pk", item["pk"].clone())
                .key("sk", item["sk"].clone())
                .send()
                .await
                .unwrap();
        }
    }
    assert!(searchable(index_items(&s).await).is_empty());
    let store = desk_dynamo::DynamoStore::new(client.clone(), s.store.table());
    let mut changes = Vec::new();
    for n in &numbers {
        let ticket = store
            .get_ticket(desk_domain::TicketNumber::new(*n).unwrap())
            .await
            .unwrap()
            .unwrap();
        changes.extend(
            desk_domain::stream::Record::Ticket {
                old: None,
                new: Some(Box::new(ticket)),
            }
            .posting_change(),
        );
    }
    let newest = *numbers.iter().max().unwrap();
    store.import_postings(&changes, newest).await.unwrap();
    assert_eq!(searchable(index_items(&s).await), streamed);
    assert_eq!(search(&s, "projector%20cafe", "admin").await.len(), 8);
    // A part that is not new is refused: an import never overwrites a live index.
    let mut stale = changes[0].clone();
    stale.before = "0123456789abcdef".into();
    assert!(store.import_postings(&[stale], newest).await.is_err());
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Create(usize),
    Rename(usize, usize),
    Reassign(usize, usize),
    Status(usize, usize),
    Note(usize, usize),
    /// The stream read again from its start (a lost checkpoint).
    Redeliver,
}

const POOL: [&str; 6] = [
    "heron printer",
    "otter invoice",
    "heron login",
    "lynx vpn",
    "otter laptop",
    "lynx refund",
];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        (0..POOL.len()).prop_map(Step::Create),
        (0..4usize, 0..POOL.len()).prop_map(|(t, w)| Step::Rename(t, w)),
        (0..4usize, 0..3usize).prop_map(|(t, a)| Step::Reassign(t, a)),
        (0..4usize, 0..4usize).prop_map(|(t, s)| Step::Status(t, s)),
        (0..4usize, 0..POOL.len()).prop_map(|(t, w)| Step::Note(t, w)),
        Just(Step::Redeliver),
    ]
}

async fn replay(s: &Stack, steps: &[Step]) {
    let mut tickets: Vec<u64> = Vec::new();
    let assignees = [
        json!({"type": "group", "id": "support"}),
        json!({"type": "user", "id": "bob"}),
        json!(null),
    ];
    for st in steps {
        let pick = |i: &usize| tickets.get(i % tickets.len().max(1)).copied();
        match st {
            Step::Create(w) => {
                tickets.push(s.ticket(Stack::ticket_body(POOL[*w], json!({}))).await)
            }
            Step::Rename(t, w) | Step::Reassign(t, w) | Step::Status(t, w) => {
                let Some(n) = pick(t) else { continue };
                let current = s.get(&format!("/tickets/{n}"), "admin").await.body;
                let mut body = match st {
                    Step::Rename(..) => {
                        let name = POOL[*w];
                        json!({ "name": name })
                    }
                    Step::Reassign(..) => {
                        let assignee = assignees[*w % 3].clone();
                        json!({ "assignee": assignee })
                    }
                    _ => {
                        let status = ["open", "processing", "waiting", "closed"][*w % 4];
                        json!({ "status": status })
                    }
                };
                body["version"] = current["version"].clone();
                s.patch(&format!("/tickets/{n}"), "admin", body).await;
            }
            Step::Note(t, w) => {
                let Some(n) = pick(t) else { continue };
                let body = POOL[*w];
                s.post(
                    &format!("/tickets/{n}/notes"),
                    "admin",
                    json!({ "body": body }),
                )
                .await;
            }
            Step::Redeliver => {
                s.drain_stream().await;
                let mut again = desk_local::stream::StreamSource::open(
                    &s.aws,
                    &desk_tests::dynamo_endpoint(),
                    s.store.table(),
                )
                .await
                .unwrap();
                again.drain(&s.indexer).await.unwrap();
            }
        }
    }
    s.drain_stream().await;
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..Default::default()
    })]

    /// Whatever the history and however often the stream is delivered, the
    /// incremental index and counts equal a rebuild from scratch.
    #[test]
    fn random_histories_index_as_a_rebuild_does(steps in proptest::collection::vec(step(), 1..10)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let s = Stack::start().await;
            replay(&s, &steps).await;
            let incremental = index_items(&s).await;
            let counted = counts(&s, "admin").await;
            let store = desk_dynamo::DynamoStore::new(s.store.client().clone(), s.store.table());
            let config = desk_local::local_config(s.store.table(), Some(&s.resources)).unwrap();
            let indexer = indexer::compose(&config.indexer, store.clone(), &s.aws);
            desk_local::reindex::run(
                &store,
                &indexer,
                &desk_local::reindex::Options { fresh: true, ..Default::default() },
            )
            .await
            .unwrap();
            let rebuilt: Vec<String> = index_items(&s).await;
            // The word list only grows (a word that left every ticket stays, and
            // leads a prefix to a stem without postings): the rebuild's is a part of it.
            let (words, index): (Vec<String>, Vec<String>) =
                incremental.into_iter().partition(|i| i.contains("pk=S(\"WD#"));
            let (rebuilt_words, rebuilt_index): (Vec<String>, Vec<String>) =
                rebuilt.into_iter().partition(|i| i.contains("pk=S(\"WD#"));
            assert_eq!(index, rebuilt_index, "{steps:?}");
            assert!(rebuilt_words.iter().all(|w| words.contains(w)), "{steps:?}");
            assert_eq!(counts(&s, "admin").await, counted, "{steps:?}");
        });
    }
}

/// Every page of a search, following the cursor.
async fn search_pages(s: &Stack, query: &str, user: &str) -> Vec<u64> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/tickets?{query}&cursor={c}"),
            None => format!("/tickets?{query}"),
        };
        let r = s.get(&url, user).await;
        assert_eq!(r.status, 200, "{url}: {:?}", r.body);
        all.extend(numbers(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

/// A posting item's ticket numbers (`None`: there is no item).
async fn posting(s: &Stack, stem: &str, block_start: u64) -> Option<Vec<u64>> {
    let out = s
        .store
        .client()
        .get_item()
        .table_name(s.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("W#{stem}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("{block_start:012}")),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let item = out.item?;
    let mut n: Vec<u64> = item
        .get("t")
        .and_then(|v| v.as_ns().ok())
        .map(|ns| {
            ns.iter()
                .map(|o| block_start + o.parse::<u64>().unwrap())
                .collect()
        })
        .unwrap_or_default();
    n.sort_unstable();
    Some(n)
}

#[tokio::test]
async fn postings_are_written_per_block_when_it_seals_and_searches_read_the_open_tail() {
    const ANIMALS: [&str; 14] = [
        "aardvark", "bison", "caracal", "dingo", "eland", "fossa", "gibbon", "hyrax", "ibex",
        "jackal", "kudu", "lemur", "margay", "numbat",
    ];
    let s = Stack::start().await;
    let size = desk_tests::TEST_BLOCK_SIZE;
    let mut made = Vec::new();
    for animal in ANIMALS {
        made.push(
            s.ticket(Stack::ticket_body(&format!("Gecko {animal}"), json!({})))
                .await,
        );
    }
    s.drain_stream().await;
    let newest = *made.last().unwrap();
    let blocks = s.store.posting_blocks(true).await.unwrap();
    assert_eq!(
        blocks,
        desk_dynamo::blocks::Blocks::settled(size, newest),
        "every due block sealed, no more"
    );
    let tail_start = blocks.tail_start();
    assert!(made.iter().any(|n| *n < tail_start) && made.iter().any(|n| *n >= tail_start));
    // A sealed block's postings are one item per stem, holding its tickets.
    let first = made[0] / size * size;
    let in_first: Vec<u64> = made
        .iter()
        .copied()
        .filter(|n| n / size * size == first)
        .collect();
    assert_eq!(posting(&s, "gecko", first).await, Some(in_first));
    // The open tail has none yet.
    assert_eq!(posting(&s, "gecko", tail_start).await, None);

    // Complete, in order, across sealed blocks and the tail, page by page.
    let mut newest_first = made.clone();
    newest_first.reverse();
    assert_eq!(
        search_pages(&s, "q=gecko&sort=created&limit=3", "admin").await,
        newest_first
    );
    assert_eq!(
        search_pages(&s, "q=gecko&sort=created&order=asc&limit=3", "admin").await,
        made
    );
    for (n, animal) in made.iter().zip(ANIMALS) {
        assert_eq!(search(&s, animal, "admin").await, [*n], "{animal}");
        assert_eq!(
            search(&s, &format!("gecko%20{animal}"), "admin").await,
            [*n]
        );
    }

    // A sealed ticket's changes are written to its block directly: a note's
    // word enters, a renamed-away word leaves, and its emptied item goes.
    let (old, renamed) = (made[1], made[5]);
    assert!(renamed < tail_start);
    let r = s
        .post(
            &format!("/tickets/{old}/notes"),
            "admin",
            json!({"body": "salamander sighted"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = s
        .patch(
            &format!("/tickets/{renamed}"),
            "admin",
            json!({"version": 1, "name": "Gecko"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    s.drain_stream().await;
    assert_eq!(search(&s, "salamander", "admin").await, [old]);
    assert_eq!(search(&s, ANIMALS[5], "admin").await, Vec::<u64>::new());
    assert_eq!(posting(&s, ANIMALS[5], renamed / size * size).await, None);

    // A block claimed for sealing (`closing`) by an indexer that then stopped:
    // a change to its tickets is written directly (the sealer may have read
    // its term document before), and the next indexer finishes the sealing.
    let closing = blocks.sealed;
    s.store
        .client()
        .update_item()
        .table_name(s.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("POSTINGS".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("BLOCKS".into()),
        )
        .update_expression("SET closing = :c")
        .expression_attribute_values(
            ":c",
            aws_sdk_dynamodb::types::AttributeValue::N(closing.to_string()),
        )
        .send()
        .await
        .unwrap();
    let r = s
        .post(
            &format!("/tickets/{newest}/notes"),
            "admin",
            json!({"body": "iguana basking"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    s.drain_stream().await;
    assert_eq!(
        posting(&s, "iguana", tail_start).await,
        Some(vec![newest]),
        "written directly"
    );
    // Tickets into the next block: the indexer finishes the closing block first.
    let mut later = Vec::new();
    for _ in 0..size {
        later.push(s.ticket(Stack::ticket_body("Gecko later", json!({}))).await);
    }
    s.drain_stream().await;
    let after = s.store.posting_blocks(true).await.unwrap();
    assert_eq!(after.closing, None);
    assert!(after.sealed > closing, "{after:?}");
    assert_eq!(search(&s, "iguana", "admin").await, [newest]);
    let block: Vec<u64> = made
        .iter()
        .chain(&later)
        .copied()
        .filter(|n| (tail_start..tail_start + size).contains(n))
        .collect();
    assert_eq!(posting(&s, "gecko", tail_start).await, Some(block));
    assert_eq!(search(&s, "later", "admin").await.len(), later.len());
}

#[tokio::test]
async fn a_stem_removed_while_its_block_sealed_is_taken_back_and_one_still_held_is_kept() {
    let s = Stack::start().await;
    let size = desk_tests::TEST_BLOCK_SIZE;
    let mut made = Vec::new();
    for i in 0..2 * size {
        made.push(
            s.ticket(Stack::ticket_body(&format!("Toucan {i}"), json!({})))
                .await,
        );
    }
    s.drain_stream().await;
    let a = made[0];
    let start = a / size * size;
    assert!(s.store.posting_blocks(true).await.unwrap().tail_start() > a);
    let stem = |w: &str| {
        desk_domain::stream::search::terms(w)
            .into_iter()
            .next()
            .unwrap()
    };
    let (zebu, toucan) = (stem("zebu"), stem("toucan"));
    // A sealer read ticket a's term document while it held "zebu"; a change
    // then removed it and deleted it from the posting — before the sealer's
    // ADD landed. That ADD, as it leaves the posting:
    s.store
        .client()
        .update_item()
        .table_name(s.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("W#{zebu}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("{start:012}")),
        )
        .update_expression("ADD t :o")
        .expression_attribute_values(
            ":o",
            aws_sdk_dynamodb::types::AttributeValue::Ns(vec![(a - start).to_string()]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(search(&s, "zebu", "admin").await, [a], "the stale posting");
    // The sealer's check after its ADDs takes back what the documents no
    // longer hold, and keeps what they do.
    let added = std::collections::BTreeMap::from([
        (zebu.clone(), vec![a - start]),
        (toucan.clone(), vec![a - start]),
    ]);
    assert_eq!(s.store.take_back_removed(start, &added).await.unwrap(), 1);
    assert_eq!(
        posting(&s, &zebu, start).await,
        None,
        "emptied item deleted"
    );
    assert!(posting(&s, &toucan, start).await.unwrap().contains(&a));
    assert_eq!(search(&s, "zebu", "admin").await, Vec::<u64>::new());
    // Nothing left to take back: a second check changes nothing.
    assert_eq!(s.store.take_back_removed(start, &added).await.unwrap(), 0);
}
