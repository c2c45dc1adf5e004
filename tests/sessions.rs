//! Remote-support sessions end to end: the API over HTTP, DynamoDB Local, the
//! outbox → mailer → SES (moto's record) path, EventBridge events (moto, via a
//! rule to an SQS queue), the customer's public endpoints, and 24-hour expiry
//! with a movable clock.

use std::sync::Arc;

use chrono::Duration;
use desk_domain::ports::OffsetClock;
use desk_domain::Clock;
use desk_tests::{assert_problem, sent_mail_to, Stack};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create_module(s: &Stack, extra: Value) -> String {
    let mut body = json!({"name": "Website SOS", "kind": "sos", "assignee": "alice"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = s.post("/modules", "admin", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn public_event(
    s: &Stack,
    code: &str,
    secret: Option<&str>,
    kind: &str,
) -> desk_tests::Reply {
    let mut req = s
        .http
        .post(format!("{}/public/cases/{code}/events", s.base))
        .json(&json!({"type": kind}));
    if let Some(secret) = secret {
        req = req.header("x-case-secret", secret);
    }
    Stack::reply(req.send().await.unwrap()).await
}

fn secret_of(case: &Value) -> String {
    case["secret"].as_str().expect("secret").to_string()
}

#[tokio::test]
async fn create_session_on_a_ticket_logs_the_link_emails_the_customer_and_allows_one_live_case() {
    let s = Stack::start().await;
    let n = s
        .ticket(Stack::ticket_body(
            "Screen flickers",
            json!({"assignee": {"type": "group", "id": "support"}}),
        ))
        .await;
    let r = s
        .post(
            &format!("/tickets/{n}/sessions"),
            "alice",
            json!({"email_customer": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let code = r.body["code"].as_str().unwrap().to_string();
    assert!(regex_like_code(&code), "{code}");
    assert_eq!(r.body["status"], "new");
    assert_eq!(r.body["ticket"], n);
    assert_eq!(r.body["assignee"], "alice");
    let link = r.body["join_link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("https://quicksupport.example/join/{code}?secret=")),
        "{link}"
    );
    assert_eq!(
        r.headers["location"],
        format!("/service-cases/{code}").as_str()
    );
    let created =
        chrono::DateTime::parse_from_rfc3339(r.body["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(r.body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, Duration::hours(24));

    // One live case per ticket.
    let again = s
        .post(&format!("/tickets/{n}/sessions"), "alice", json!({}))
        .await;
    assert_problem(&again, 409, "live_session_exists", None);

    // The link is in the activity log, to be copied at any time.
    let act = s.get(&format!("/tickets/{n}/activity"), "alice").await;
    let entry = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "session_created")
        .unwrap()
        .clone();
    assert_eq!(entry["join_link"], link);
    assert_eq!(entry["actor"]["id"], "alice");

    // The outbox → mailer → SES path sends it once, however often it is drained.
    assert_eq!(s.drain_outbox().await, 1);
    assert_eq!(s.drain_outbox().await, 0);
    let mails = sent_mail_to("carol@example.com").await;
    let ours: Vec<_> = mails.iter().filter(|m| m.subject.contains(&code)).collect();
    assert_eq!(ours.len(), 1, "{mails:?}");
    assert!(
        ours[0].text.contains(link),
        "the mail carries the join link: {}",
        ours[0].text
    );
    assert!(ours[0].subject.starts_with(&format!("[#{n}]")));
    assert_eq!(
        ours[0].header("Auto-Submitted"),
        None,
        "sent on an agent's request, not automatic"
    );
    let act = s.get(&format!("/tickets/{n}/activity"), "alice").await;
    let sent: Vec<_> = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "email_sent")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["purpose"], "session_link");

    let events = s.events().await;
    assert!(
        events
            .iter()
            .any(|(t, d)| t == "ServiceCaseCreated" && d["code"] == code.as_str()),
        "{events:?}"
    );

    // Closed: a new session can be made on the same ticket.
    let closed = s
        .post(&format!("/service-cases/{code}/close"), "alice", json!({}))
        .await;
    assert_eq!(closed.body["status"], "closed", "{}", closed.body);
    let again = s
        .post(&format!("/tickets/{n}/sessions"), "alice", json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

fn regex_like_code(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 12
        && b[0] == b's'
        && b[4] == b'-'
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, x)| matches!(i, 0 | 4 | 8) || x.is_ascii_digit())
}

#[tokio::test]
async fn customer_waits_assignee_is_notified_expert_connects_and_only_assignee_or_creator_closes() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("VPN", json!({}))).await;
    let created = s
        .post(
            &format!("/tickets/{n}/sessions"),
            "admin",
            json!({"assignee": "alice"}),
        )
        .await;
    let code = created.body["code"].as_str().unwrap().to_string();
    let secret = secret_of(&created.body);
    s.events().await;

    let r = public_event(&s, &code, Some(&secret), "customer_connected").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    // The customer's side learns nothing about agents or tickets.
    let keys: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["code", "expires_at", "join_link", "status"]);

    let case = s.get(&format!("/service-cases/{code}"), "alice").await;
    assert!(
        case.body["customer_waiting_since"].is_string(),
        "the case shows it is live: {}",
        case.body
    );
    // The assignee is notified by email (automatic mail, marked) and by event.
    s.drain_outbox().await;
    let mails = sent_mail_to("alice@desk.example").await;
    let note: Vec<_> = mails.iter().filter(|m| m.subject.contains(&code)).collect();
    assert_eq!(note.len(), 1, "{mails:?}");
    assert_eq!(
        note[0].header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(
        note[0]
            .text
            .contains(&format!("https://quicksupport.example/connect/{code}")),
        "{}",
        note[0].text
    );
    let events = s.events().await;
    assert!(
        events
            .iter()
            .any(|(t, d)| t == "ServiceCaseCustomerWaiting" && d["code"] == code.as_str()),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|(t, d)| t == "ServiceCaseStatusChanged" && d["to"] == "pending"));
    // A repeated connection event is an illegal transition, and notifies nobody again.
    let dup = public_event(&s, &code, Some(&secret), "customer_connected").await;
    assert_problem(&dup, 409, "illegal_transition", None);
    assert_eq!(dup.body["current_status"], "pending");

    let r = s
        .post(
            &format!("/service-cases/{code}/connect"),
            "alice",
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["case"]["status"], "in_progress");
    assert_eq!(r.body["connect"]["customer_waiting"], true);
    assert_eq!(
        r.body["connect"]["connect_link"],
        format!("https://quicksupport.example/connect/{code}")
    );

    // bob is neither assignee nor creator and the case is assigned: invisible to him.
    assert_problem(
        &s.post(&format!("/service-cases/{code}/close"), "bob", json!({}))
            .await,
        404,
        "service_case_not_found",
        None,
    );
    let r = s
        .post(&format!("/service-cases/{code}/close"), "alice", json!({}))
        .await;
    assert_eq!(r.body["status"], "closed");
    let again = s
        .post(&format!("/service-cases/{code}/close"), "admin", json!({}))
        .await;
    assert_problem(&again, 409, "illegal_transition", None);
    assert_eq!(again.body["current_status"], "closed");
    let late = public_event(&s, &code, Some(&secret), "customer_disconnected").await;
    assert_problem(&late, 409, "illegal_transition", None);

    // Every transition is in the ticket's log, in order.
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let changes: Vec<(String, String)> = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "session_changed")
        .map(|e| {
            (
                e["from"].as_str().unwrap().into(),
                e["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("new".into(), "pending".into()),
            ("pending".into(), "in_progress".into()),
            ("in_progress".into(), "closed".into())
        ]
    );
}

#[tokio::test]
async fn a_case_expires_at_its_mark_reads_expired_before_the_run_and_is_logged_once() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Expiring", json!({}))).await;
    let created = s
        .post(&format!("/tickets/{n}/sessions"), "alice", json!({}))
        .await;
    let code = created.body["code"].as_str().unwrap().to_string();
    let expires =
        chrono::DateTime::parse_from_rfc3339(created.body["expires_at"].as_str().unwrap())
            .unwrap()
            .to_utc();

    // A millisecond before the mark: live, and the run expires nothing.
    s.clock.freeze(expires - Duration::milliseconds(1));
    assert_eq!(
        s.get(&format!("/service-cases/{code}"), "alice").await.body["status"],
        "new"
    );
    assert_eq!(s.expiry.expire_due(s.clock.now()).await.unwrap().expired, 0);

    // At the mark: reads show it expired even before the run stored it.
    s.clock.freeze(expires);
    let r = s.get(&format!("/service-cases/{code}"), "alice").await;
    assert_eq!(r.body["status"], "expired");
    let listed = s
        .get("/service-cases?status=new,pending,in_progress", "alice")
        .await;
    assert!(listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["code"] != code.as_str()));
    // Acting on it is refused with the current state.
    let r = s
        .post(&format!("/service-cases/{code}/close"), "alice", json!({}))
        .await;
    assert_problem(&r, 409, "illegal_transition", None);
    assert_eq!(r.body["current_status"], "expired");

    // The run finds it stored expired already (the refused close stored it) or expires it now.
    let report = s.expiry.expire_due(s.clock.now()).await.unwrap();
    assert!(report.expired <= 1);
    assert_eq!(
        s.expiry.expire_due(s.clock.now()).await.unwrap().due,
        0,
        "nothing is due twice"
    );
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    let expiries: Vec<_> = act.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "session_changed" && e["to"] == "expired")
        .collect();
    assert_eq!(expiries.len(), 1, "logged once");
    assert_eq!(expiries[0]["actor"]["type"], "system");
    // A new session can be created on the ticket.
    assert_eq!(
        s.post(&format!("/tickets/{n}/sessions"), "alice", json!({}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_expiry_run_reads_only_due_cases() {
    let s = Stack::start().await;
    let t0 = s.clock.now();
    // 30 cases now, 5 of them created 23 h 59 m earlier (due a minute from now).
    s.clock
        .set(t0 - Duration::hours(23) - Duration::minutes(59));
    for _ in 0..5 {
        s.post("/service-cases", "alice", json!({"customer_name": "Early"}))
            .await;
    }
    s.clock.set(t0);
    for _ in 0..25 {
        s.post("/service-cases", "alice", json!({"customer_name": "Later"}))
            .await;
    }
    s.counter.take();
    s.counter.take_read_capacity();
    let report = s.expiry.expire_due(t0).await.unwrap();
    assert_eq!(report.due, 0);
    assert_eq!(s.counter.take(), ["Query"]);

    let later = t0 + Duration::minutes(2);
    s.clock.set(later);
    let report = s.expiry.expire_due(later).await.unwrap();
    assert_eq!((report.due, report.expired), (5, 5));
    // One Query for the due cases, then one transaction per expired case; nothing else read.
    let calls = s.counter.take();
    assert_eq!(
        calls.iter().filter(|c| **c == "Query").count(),
        1,
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| **c == "TransactWriteItems").count(),
        5,
        "{calls:?}"
    );
    assert!(!calls.contains(&"Scan"));
    let live = s.get("/service-cases?status=new&limit=100", "alice").await;
    assert_eq!(live.body["count"], 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_close_and_an_expiry_racing_have_exactly_one_winner_logged_once() {
    let s = Stack::start().await;
    let mut cases = Vec::new();
    for i in 0..12 {
        let n = s
            .ticket(Stack::ticket_body(&format!("Race {i}"), json!({})))
            .await;
        let r = s
            .post(&format!("/tickets/{n}/sessions"), "alice", json!({}))
            .await;
        let expires = chrono::DateTime::parse_from_rfc3339(r.body["expires_at"].as_str().unwrap())
            .unwrap()
            .to_utc();
        cases.push((n, r.body["code"].as_str().unwrap().to_string(), expires));
    }
    // Two desks over the same storage: the closer's clock is just before the mark,
    // the expiry's just after: both transitions are legal, only one can be stored.
    let closer_clock = Arc::new(OffsetClock::default());
    let mut closer = s.desk.clone();
    closer.clock = closer_clock.clone();
    let alice = s.desk.caller("alice").await.unwrap();
    let mark = cases.iter().map(|c| c.2).max().unwrap();
    // Every case's mark lies within the creation window, before `mark`; the closer
    // stands just before the earliest mark, the expiry just after the latest.
    let earliest = cases.iter().map(|c| c.2).min().unwrap();
    closer_clock.freeze(earliest - Duration::milliseconds(1));
    s.clock.freeze(mark + Duration::seconds(1));
    let closes = cases.iter().map(|(_, code, _)| {
        let closer = closer.clone();
        let alice = alice.clone();
        let code = desk_domain::session::SessionCode::parse(code).unwrap();
        async move { closer.close_case(&alice, &code).await.is_ok() }
    });
    let expiry = s.expiry.expire_due(mark + Duration::seconds(1));
    let (closed, report) = futures::join!(join_all(closes), expiry);
    report.unwrap();

    for (i, (n, code, _)) in cases.iter().enumerate() {
        let case = s.get(&format!("/service-cases/{code}"), "admin").await;
        let status = case.body["status"].as_str().unwrap().to_string();
        // Closed exactly when the close call succeeded; otherwise expired.
        assert_eq!(status == "closed", closed[i], "{code}");
        assert!(
            status == "closed" || status == "expired",
            "{code}: {status}"
        );
        let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
        let finals = act.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["kind"] == "session_changed" && (e["to"] == "closed" || e["to"] == "expired")
            })
            .count();
        assert_eq!(finals, 1, "{code} logged once");
    }
}

#[tokio::test]
async fn service_queue_filters_visibility_and_bulk_delete() {
    let s = Stack::start().await;
    let a = s
        .post("/service-cases", "alice", json!({"customer_name": "A"}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let b = s
        .post("/service-cases", "bob", json!({"customer_name": "B"}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let module = create_module(&s, json!({"assignee": null})).await;
    let unassigned = Stack::reply(
        s.http
            .post(format!("{}/public/modules/{module}/cases", s.base))
            .json(&json!({"customer_name": "Web"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        unassigned.status,
        StatusCode::CREATED,
        "{}",
        unassigned.body
    );
    let u = unassigned.body["code"].as_str().unwrap().to_string();
    s.post(&format!("/service-cases/{a}/close"), "alice", json!({}))
        .await;

    let codes = |r: &desk_tests::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    let all = s.get("/service-cases", "admin").await;
    assert_eq!(codes(&all), [u.clone(), b.clone(), a.clone()]);
    assert_eq!(
        codes(&s.get("/service-cases", "alice").await),
        [u.clone(), a.clone()],
        "alice: own + unassigned"
    );
    assert_eq!(
        codes(&s.get("/service-cases?status=closed", "admin").await),
        [a.clone()]
    );
    assert_eq!(
        codes(&s.get("/service-cases?assignee=unassigned", "admin").await),
        [u.clone()]
    );
    assert_eq!(
        codes(&s.get("/service-cases?assignee=me", "bob").await),
        [b.clone()]
    );
    assert_problem(
        &s.get(&format!("/service-cases/{b}"), "alice").await,
        404,
        "service_case_not_found",
        None,
    );
    assert_problem(
        &s.get("/service-cases?status=done", "admin").await,
        400,
        "invalid_query",
        Some("status"),
    );

    // Paging.
    let p1 = s.get("/service-cases?limit=2", "admin").await;
    assert_eq!(codes(&p1).len(), 2);
    let c = p1.body["next_cursor"].as_str().unwrap();
    assert_eq!(
        codes(
            &s.get(&format!("/service-cases?limit=2&cursor={c}"), "admin")
                .await
        ),
        [a.clone()]
    );

    let r = s
        .call(
            Method::DELETE,
            "/service-cases",
            Some("alice"),
            Some(&json!({"codes": [a, b, "s000-000-000", "garbage"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["deleted"], json!([a]));
    let not: Vec<(String, String)> = r.body["not_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["code"].as_str().unwrap().into(),
                x["code_error"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        not,
        [
            (b.clone(), "service_case_not_found".into()),
            ("s000-000-000".into(), "service_case_not_found".into()),
            ("garbage".into(), "service_case_not_found".into())
        ]
    );
    assert_eq!(
        s.delete(&format!("/service-cases/{b}"), "admin")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(codes(&s.get("/service-cases", "admin").await), [u.clone()]);
    // An unassigned SOS case goes to the expert who connects, who can then close it.
    let r = s
        .post(&format!("/service-cases/{u}/connect"), "bob", json!({}))
        .await;
    assert_eq!(r.body["case"]["assignee"], "bob", "{}", r.body);
    assert_problem(
        &s.post(&format!("/service-cases/{u}/close"), "alice", json!({}))
            .await,
        404,
        "service_case_not_found",
        None,
    );
    assert_eq!(
        s.post(&format!("/service-cases/{u}/close"), "bob", json!({}))
            .await
            .body["status"],
        "closed"
    );
    // Status filters ignore case, and a cursor is bound to its filters.
    assert_eq!(
        s.get("/service-cases?status=CLOSED", "admin").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn public_endpoints_refuse_abuse() {
    let s = Stack::start().await;
    let module = create_module(&s, json!({"cases_per_minute": 3})).await;
    let post_case = |m: String| {
        let s = &s;
        async move {
            Stack::reply(
                s.http
                    .post(format!("{}/public/modules/{m}/cases", s.base))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    // Unknown, malformed and disabled modules are 404.
    assert_problem(
        &post_case("mzzzzzzzzzzzzzzzzzzzz".into()).await,
        404,
        "module_not_found",
        None,
    );
    assert_problem(
        &post_case("M-not-an-id".into()).await,
        404,
        "module_not_found",
        None,
    );
    let disabled = create_module(&s, json!({"enabled": false})).await;
    assert_problem(&post_case(disabled).await, 404, "module_not_found", None);

    // A flood is cut at the module's limit per minute.
    let first = post_case(module.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let keys: Vec<_> = first.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["code", "expires_at", "join_link", "secret", "status"],
        "no agent or ticket data"
    );
    let mut statuses = vec![];
    for _ in 0..6 {
        let r = post_case(module.clone()).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.body["code"], "rate_limited");
            assert!(r.headers.contains_key("retry-after"));
        }
        statuses.push(r.status.as_u16());
    }
    let created = 1 + statuses.iter().filter(|s| **s == 201).count();
    // At most 3 in one minute window (a window boundary may fall inside the loop).
    assert!(
        created <= 6 && statuses.iter().filter(|s| **s == 429).count() >= 1,
        "{statuses:?}"
    );

    let code = first.body["code"].as_str().unwrap().to_string();
    let secret = secret_of(&first.body);
    // Missing secret: 401; wrong secret and unknown code answer alike (codes cannot be probed).
    assert_problem(
        &public_event(&s, &code, None, "customer_connected").await,
        401,
        "missing_case_secret",
        None,
    );
    let wrong = public_event(&s, &code, Some("not-the-secret"), "customer_connected").await;
    assert_problem(&wrong, 404, "service_case_not_found", None);
    let unknown = public_event(&s, "s000-000-001", Some(&secret), "customer_connected").await;
    assert_problem(&unknown, 404, "service_case_not_found", None);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    let bad_event = public_event(&s, &code, Some(&secret), "expert_connected").await;
    assert_problem(&bad_event, 400, "invalid_field", Some("type"));
    // Nothing changed.
    assert_eq!(
        s.get(&format!("/service-cases/{code}"), "admin").await.body["status"],
        "new"
    );
    // Event floods on one case are limited too.
    let mut limited = false;
    for _ in 0..40 {
        let r = public_event(&s, &code, Some("wrong"), "customer_connected").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "40 events in a minute must hit the limit");
    // ...and did not use up the real customer's budget.
    let real = public_event(&s, &code, Some(&secret), "customer_connected").await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.body);
    assert_eq!(real.body["status"], "pending");
    // Agents manage modules only as admins.
    assert_problem(
        &s.post("/modules", "alice", json!({"name": "X", "kind": "custom"}))
            .await,
        403,
        "forbidden",
        None,
    );
}
