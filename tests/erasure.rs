//! Erasing a customer (issue 12 item 3) and retention of closed tickets (item
//! 4), against DynamoDB Local and moto: raw mail in a versioned bucket, the
//! ingest handler, the API over HTTP, the scheduled run that advances erasures
//! and applies retention, and the stream drained through the indexer.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use desk_domain::Source;
use desk_ingest::{Delivery, Outcome};
use desk_tests::{assert_problem, numbers, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn s3(s: &Stack) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&s.aws)
            .force_path_style(true)
            .build(),
    )
}

/// Puts `raw` in the inbound bucket as SES would, over an older version of the
/// same key (so there are two versions), and runs ingest on it. Returns the
/// outcome and the object key.
async fn deliver(s: &Stack, raw: &str) -> (Outcome, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("inbound/{id}");
    let client = s3(s);
    for body in ["partial upload", raw] {
        client
            .put_object()
            .bucket(&s.resources.inbound_bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from(
                body.as_bytes().to_vec(),
            ))
            .send()
            .await
            .expect("put raw mail");
    }
    let delivery = Delivery {
        id,
        raw_key: format!("s3://{}/{key}", s.resources.inbound_bucket),
        envelope: vec!["support@desk.example".into()],
        source: Source::Email,
    };
    let outcome = s
        .inbound
        .ingest
        .ingest(&delivery, raw.as_bytes())
        .await
        .expect("ingest");
    (outcome, key)
}

fn mail(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Carol Customer <{from}>\r\nTo: support@desk.example\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn new_ticket(o: &Outcome) -> u64 {
    match o {
        Outcome::NewTicket(n) => n.get(),
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

/// Every object version and delete marker under `prefix`.
async fn versions(s: &Stack, prefix: &str) -> usize {
    let out = s3(s)
        .list_object_versions()
        .bucket(&s.resources.inbound_bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("ListObjectVersions");
    out.versions().len() + out.delete_markers().len()
}

/// Whether the table holds an item at `pk` / `sk`.
async fn item_exists(s: &Stack, pk: &str, sk: &str) -> bool {
    s.store
        .client()
        .get_item()
        .table_name(s.store.table())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .is_some()
}

/// How many items are in partition `pk`.
async fn partition_len(s: &Stack, pk: &str) -> usize {
    s.store
        .client()
        .query()
        .table_name(s.store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("Query")
        .count as usize
}

async fn search(s: &Stack, q: &str) -> Vec<u64> {
    let r = s
        .get(&format!("/tickets?q={q}&sort=created"), "admin")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    numbers(&r)
}

async fn total(s: &Stack) -> i64 {
    let r = s.get("/tickets/counts", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["total"].as_i64().expect("total")
}

async fn run_schedule(s: &Stack) -> Value {
    serde_json::to_value(
        desk_jobs::expire::run(&s.expiry)
            .await
            .expect("scheduled run"),
    )
    .unwrap()
}

fn erasure_path(email: &str) -> String {
    format!("/customers/{}/erasure", email.replace('@', "%40"))
}

#[tokio::test]
async fn an_erased_customer_leaves_nothing_findable_and_mail_afterwards_starts_fresh() {
    let s = Stack::start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let carol = format!("carol-{tag}@example.com");
    let word = "quokkafrost";
    // Carol writes twice (two tickets); Dave, another customer, uses the same word.
    let first_raw = mail(
        &carol,
        &format!("first-{tag}@example.com"),
        "Printer on fire",
        &format!("The {word} printer is smoking."),
    );
    let (o1, key1) = deliver(&s, &first_raw).await;
    let t1 = new_ticket(&o1);
    let (o2, key2) = deliver(
        &s,
        &mail(
            &carol,
            &format!("second-{tag}@example.com"),
            "Scanner jammed",
            &format!("My {word} scanner jams."),
        ),
    )
    .await;
    let t2 = new_ticket(&o2);
    let dave = format!("dave-{tag}@example.com");
    let (o3, key3) = deliver(
        &s,
        &mail(
            &dave,
            &format!("dave-{tag}@example.com"),
            "Keyboard",
            &format!("The {word} keyboard."),
        ),
    )
    .await;
    let t3 = new_ticket(&o3);
    // On Carol's first ticket: a reply (sent: its ids indexed), a note, a tag,
    // and a download copy of an attachment.
    let r = s
        .post(
            &format!("/tickets/{t1}/replies"),
            "admin",
            json!({"text": "We are on it."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(s.drain_outbox().await >= 1);
    let r = s
        .post(
            &format!("/tickets/{t1}/notes"),
            "admin",
            json!({"body": format!("{word} noted")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = s.get(&format!("/tickets/{t1}"), "admin").await.body["version"].clone();
    let r = s
        .patch(
            &format!("/tickets/{t1}"),
            "admin",
            json!({"version": v, "tags": ["vip"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s3(&s)
        .put_object()
        .bucket(&s.resources.inbound_bucket)
        .key(format!("downloads/{t1}/m1/0"))
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"copy"))
        .send()
        .await
        .unwrap();
    let sent_ids: Vec<String> = s
        .stored_messages(desk_domain::TicketNumber::new(t1).unwrap())
        .await
        .iter()
        .filter_map(|m| m.provider_message_id.clone())
        .collect();
    assert_eq!(sent_ids.len(), 1, "the reply was sent");
    let ses_key = format!("MSGID#ses:{}", sent_ids[0].to_lowercase());
    assert!(item_exists(&s, &ses_key, "MSGID").await);
    s.drain_stream().await;
    let mut found = search(&s, word).await;
    found.sort();
    assert_eq!(found, vec![t1, t2, t3]);
    let before = total(&s).await;
    assert_eq!(versions(&s, &key1).await, 2, "two versions of the raw mail");
    // What the erasure must remove is there to begin with.
    let first_ids = format!("MSGID#first-{tag}@example.com");
    assert_eq!(
        partition_len(&s, &first_ids).await,
        2,
        "id and reception key"
    );
    let delivery1 = key1.trim_start_matches("inbound/");
    assert!(item_exists(&s, &format!("DELIVERY#{delivery1}"), "DELIVERY").await);
    assert!(item_exists(&s, "TAG#vip", &format!("TICKET#{t1}")).await);
    assert!(item_exists(&s, &format!("TERMS#{t1}"), "TERMS").await);
    assert!(item_exists(&s, &format!("COUNTED#{t1}"), "COUNTED").await);
    assert_eq!(versions(&s, &format!("downloads/{t1}/")).await, 1);

    // Refusals change nothing.
    let r = s.post(&erasure_path(&carol), "alice", json!({})).await;
    assert_problem(&r, 403, "forbidden", None);
    let r = s.get(&erasure_path(&carol), "alice").await;
    assert_problem(&r, 403, "forbidden", None);
    let r = s.get(&erasure_path(&carol), "admin").await;
    assert_problem(&r, 404, "erasure_not_found", None);
    let r = s
        .post(&erasure_path("nobody@example.com"), "admin", json!({}))
        .await;
    assert_problem(&r, 404, "customer_not_found", None);
    let r = s
        .post("/customers/not-an-address/erasure", "admin", json!({}))
        .await;
    assert_problem(&r, 400, "invalid_field", Some("email"));
    run_schedule(&s).await;
    assert_eq!(s.get(&format!("/tickets/{t1}"), "admin").await.status, 200);

    // The erasure: started by the API, carried out by the scheduled run.
    let r = s.post(&erasure_path(&carol), "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["status"], "running");
    assert_eq!(r.body["tickets_total"], 2);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(!r.body.to_string().contains("Printer"), "{}", r.body);
    let again = s.post(&erasure_path(&carol), "admin", json!({})).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a running erasure is returned as is"
    );
    assert_eq!(again.body["id"], id.as_str());
    let report = run_schedule(&s).await;
    assert_eq!(report["purge"]["erasures_finished"], 1, "{report}");
    let r = s.get(&erasure_path(&carol), "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "done");
    assert_eq!(r.body["tickets"], 2);
    assert!(r.body["objects"].as_u64().unwrap() >= 5, "{}", r.body);
    assert!(
        r.body.get("customer").is_none(),
        "no address once done: {}",
        r.body
    );
    assert!(!r.body.to_string().contains(&carol));
    assert!(r.body["finished_at"].is_string());
    // The audit trail: who erased whom (the hash) and when, counts only.
    let r = s.get("/audit?action=customer.erased", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let entries = r.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 2, "requested and finished: {}", r.body);
    assert!(entries.iter().all(|e| e["target"] == id.as_str()));
    assert!(
        entries.iter().any(|e| e["actor"]["id"] == "admin"),
        "{}",
        r.body
    );
    let text = r.body.to_string();
    assert!(!text.contains(&carol) && !text.contains("carol") && !text.contains(word));
    s.drain_stream().await;

    // Nothing findable through any route…
    for t in [t1, t2] {
        assert_problem(
            &s.get(&format!("/tickets/{t}"), "admin").await,
            404,
            "ticket_not_found",
            None,
        );
        assert_problem(
            &s.get(&format!("/tickets/{t}/messages"), "admin").await,
            404,
            "ticket_not_found",
            None,
        );
    }
    let r = s
        .get(
            &format!("/tickets?customer={}", carol.replace('@', "%40")),
            "admin",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(numbers(&r).is_empty(), "{}", r.body);
    assert_eq!(search(&s, word).await, vec![t3], "Dave's ticket stays");
    assert!(search(&s, "noted").await.is_empty());
    assert_eq!(total(&s).await, before - 2);
    // … nor in S3 (versions included) …
    assert_eq!(versions(&s, &key1).await, 0);
    assert_eq!(versions(&s, &key2).await, 0);
    assert_eq!(versions(&s, &format!("downloads/{t1}/")).await, 0);
    assert_eq!(versions(&s, &key3).await, 2, "Dave's raw mail stays");
    // … nor in the table, read by key.
    for t in [t1, t2] {
        assert_eq!(partition_len(&s, &format!("TICKET#{t}")).await, 0);
        assert!(!item_exists(&s, &format!("TERMS#{t}"), "TERMS").await);
        assert!(!item_exists(&s, &format!("COUNTED#{t}"), "COUNTED").await);
    }
    for k in [&key1, &key2] {
        let delivery = k.trim_start_matches("inbound/");
        assert!(!item_exists(&s, &format!("DELIVERY#{delivery}"), "DELIVERY").await);
    }
    for m in [format!("first-{tag}"), format!("second-{tag}")] {
        let pk = format!("MSGID#{m}@example.com");
        assert_eq!(
            partition_len(&s, &pk).await,
            0,
            "{pk}: id and reception keys"
        );
    }
    assert!(!item_exists(&s, &ses_key, "MSGID").await);
    assert!(!item_exists(&s, "TAG#vip", &format!("TICKET#{t1}")).await);
    assert!(item_exists(&s, &format!("TICKET#{t3}"), "TICKET").await);

    // Repeated: the finished erasure, unchanged.
    let r = s.post(&erasure_path(&carol), "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "done");
    assert_eq!(r.body["id"], id.as_str());

    // The same mail again, and a new one: fresh tickets, nothing threads into erased data.
    let (again, _) = deliver(&s, &first_raw).await;
    let t4 = new_ticket(&again);
    assert!(t4 > t3);
    let (newer, _) = deliver(
        &s,
        &mail(
            &carol,
            &format!("third-{tag}@example.com"),
            &format!("Re: [#{t1}] Printer on fire"),
            "Still smoking.",
        ),
    )
    .await;
    let t5 = new_ticket(&newer);
    let r = s.get(&format!("/tickets/{t5}/messages"), "admin").await;
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));
    // Erasing again takes those too.
    let r = s.post(&erasure_path(&carol), "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["tickets_total"], 2);
    run_schedule(&s).await;
    let r = s.get(&erasure_path(&carol), "admin").await;
    assert_eq!(r.body["status"], "done", "{}", r.body);
    for t in [t4, t5] {
        assert_eq!(s.get(&format!("/tickets/{t}"), "admin").await.status, 404);
    }
}

#[tokio::test]
async fn an_interrupted_erasure_resumes_where_it_stopped() {
    let s = Stack::start().await;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let erin = format!("erin-{tag}@example.com");
    let mut keys = Vec::new();
    let mut tickets = Vec::new();
    for i in 0..3 {
        let (o, k) = deliver(
            &s,
            &mail(
                &erin,
                &format!("m{i}-{tag}@example.com"),
                &format!("Question {i}"),
                "Wombatquill here.",
            ),
        )
        .await;
        tickets.push(new_ticket(&o));
        keys.push(k);
    }
    s.drain_stream().await;
    let r = s.post(&erasure_path(&erin), "admin", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    // One bounded step (one ticket), as a run cut short would leave it.
    let report = s.expiry.purge_run(1).await.expect("one step");
    assert_eq!(report.erased.tickets, 1);
    let r = s.get(&erasure_path(&erin), "admin").await;
    assert_eq!(r.body["status"], "running", "{}", r.body);
    assert_eq!(r.body["tickets"], 1);
    assert_eq!(r.body["tickets_total"], 3);
    // A purge interrupted after its S3 step: the raw mail of a remaining ticket is
    // gone, its items are not.
    let mut left = Vec::new();
    for (i, t) in tickets.iter().enumerate() {
        if item_exists(&s, &format!("TICKET#{t}"), "TICKET").await {
            left.push(i);
        }
    }
    assert_eq!(left.len(), 2);
    let half = left[0];
    s.expiry
        .raw_mail
        .purge(
            &format!("s3://{}/{}", s.resources.inbound_bucket, keys[half]),
            false,
        )
        .await
        .expect("S3 step");
    assert_eq!(versions(&s, &keys[half]).await, 0);
    assert!(item_exists(&s, &format!("TICKET#{}", tickets[half]), "TICKET").await);
    // Half-erased data is not exported: the export would find mail gone under it.
    let export = s.post("/exports", "admin", json!({"customer": erin})).await;
    assert_problem(&export, 409, "erasure_running", None);
    // The next scheduled run finishes it.
    run_schedule(&s).await;
    let r = s.get(&erasure_path(&erin), "admin").await;
    assert_eq!(r.body["status"], "done", "{}", r.body);
    assert_eq!(r.body["tickets"], 3);
    s.drain_stream().await;
    for (t, k) in tickets.iter().zip(&keys) {
        assert_eq!(partition_len(&s, &format!("TICKET#{t}")).await, 0);
        assert_eq!(versions(&s, k).await, 0);
    }
    assert!(search(&s, "wombatquill").await.is_empty());
    assert_eq!(total(&s).await, 0);
    let export = s.post("/exports", "admin", json!({"customer": erin})).await;
    assert_problem(&export, 404, "customer_not_found", None);
}

async fn close(s: &Stack, n: u64) {
    let v = s.get(&format!("/tickets/{n}"), "admin").await.body["version"].clone();
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "admin",
            json!({"version": v, "status": "closed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn retention_is_off_by_default_and_deletes_only_due_closed_tickets() {
    let s = Stack::start().await;
    let r = s.get("/settings/retention", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"retention_days": null}));
    assert_problem(
        &s.get("/settings/retention", "alice").await,
        403,
        "forbidden",
        None,
    );
    for bad in [
        json!({"retention_days": 0}),
        json!({"retention_days": "x"}),
        json!({"retention_days": -1}),
    ] {
        let r = s.put("/settings/retention", "admin", bad.clone()).await;
        assert_problem(&r, 400, "invalid_field", Some("retention_days"));
    }
    let r = s
        .put("/settings/retention", "alice", json!({"retention_days": 1}))
        .await;
    assert_problem(&r, 403, "forbidden", None);

    let now = Utc::now();
    s.clock.set(now - Duration::days(40));
    let old_closed = s.ticket(Stack::ticket_body("old closed", json!({}))).await;
    close(&s, old_closed).await;
    let old_open = s.ticket(Stack::ticket_body("old open", json!({}))).await;
    s.clock.set(now - Duration::days(10));
    let recent_closed = s
        .ticket(Stack::ticket_body("recent closed", json!({})))
        .await;
    close(&s, recent_closed).await;
    s.clock.set(now);
    s.drain_stream().await;

    // Off: a run deletes nothing; a dry run with days says what they would delete.
    run_schedule(&s).await;
    assert_eq!(
        s.get(&format!("/tickets/{old_closed}"), "admin")
            .await
            .status,
        200
    );
    let r = s
        .post("/settings/retention/dry-run", "admin", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["due"], 0);
    assert_eq!(r.body["retention_days"], Value::Null);
    let r = s
        .post(
            "/settings/retention/dry-run",
            "admin",
            json!({"retention_days": 30}),
        )
        .await;
    assert_eq!(r.body["due"], 1, "{}", r.body);
    assert_eq!(r.body["tickets"], json!([old_closed]));
    assert_problem(
        &s.post("/settings/retention/dry-run", "alice", json!({}))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_eq!(
        s.get(&format!("/tickets/{old_closed}"), "admin")
            .await
            .status,
        200
    );

    // On at 30 days: the run deletes exactly the due ticket.
    let r = s
        .put(
            "/settings/retention",
            "admin",
            json!({"retention_days": 30}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        s.get("/settings/retention", "admin").await.body["retention_days"],
        30
    );
    let r = s.get("/audit?action=retention.changed", "admin").await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    assert_eq!(r.body["items"][0]["changes"][0]["to"], 30, "{}", r.body);
    let r = s
        .post("/settings/retention/dry-run", "admin", json!({}))
        .await;
    assert_eq!(r.body["tickets"], json!([old_closed]), "{}", r.body);
    let report = run_schedule(&s).await;
    assert_eq!(
        report["purge"]["retained_deleted"]["tickets"], 1,
        "{report}"
    );
    s.drain_stream().await;
    assert_eq!(
        s.get(&format!("/tickets/{old_closed}"), "admin")
            .await
            .status,
        404
    );
    assert_eq!(partition_len(&s, &format!("TICKET#{old_closed}")).await, 0);
    for n in [old_open, recent_closed] {
        assert_eq!(s.get(&format!("/tickets/{n}"), "admin").await.status, 200);
    }
    assert_eq!(total(&s).await, 2);
    let r = s
        .post("/settings/retention/dry-run", "admin", json!({}))
        .await;
    assert_eq!(r.body["due"], 0, "{}", r.body);

    // 25 days on, the other closed ticket is due; the open one never is.
    s.clock.set(now + Duration::days(25));
    let r = s
        .post("/settings/retention/dry-run", "admin", json!({}))
        .await;
    assert_eq!(r.body["tickets"], json!([recent_closed]), "{}", r.body);
    run_schedule(&s).await;
    assert_eq!(
        s.get(&format!("/tickets/{recent_closed}"), "admin")
            .await
            .status,
        404
    );
    assert_eq!(
        s.get(&format!("/tickets/{old_open}"), "admin").await.status,
        200
    );
    // Off again: nothing more is due.
    let r = s
        .put(
            "/settings/retention",
            "admin",
            json!({"retention_days": null}),
        )
        .await;
    assert_eq!(r.body, json!({"retention_days": null}));
}
