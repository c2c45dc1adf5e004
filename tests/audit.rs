//! The administrators' audit trail over HTTP against DynamoDB Local: every admin
//! action leaves exactly one entry with its actor, action, target and changes
//! (fields from → to; a mailbox password only as redacted); `GET /audit` pages
//! newest first and completely; agents and strangers are refused; bad input is 4xx.

use desk_tests::{assert_problem, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every entry, newest first, read page by page with `query` (e.g. `limit=3`).
async fn trail(s: &Stack, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let mut path = format!("/audit?{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = s.get(&path, "admin").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        out.extend(r.body["items"].as_array().cloned().unwrap_or_default());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
    panic!("the trail did not end");
}

/// Reads the entries recorded since the last call (exactly one expected).
struct Watch {
    seen: usize,
}

impl Watch {
    async fn new(s: &Stack) -> Self {
        Self {
            seen: trail(s, "limit=200").await.len(),
        }
    }

    /// The one entry the last action recorded.
    async fn one(&mut self, s: &Stack) -> Value {
        let all = trail(s, "limit=200").await;
        let new = all.len() - self.seen;
        assert_eq!(
            new,
            1,
            "expected one new entry, got {new}: {:#}",
            json!(&all[..new])
        );
        self.seen = all.len();
        all[0].clone()
    }

    async fn none(&mut self, s: &Stack) {
        assert_eq!(trail(s, "limit=200").await.len(), self.seen);
    }
}

/// The change of `field` in `entry` (panics if absent).
fn change<'a>(entry: &'a Value, field: &str) -> &'a Value {
    entry["changes"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["field"] == field))
        .unwrap_or_else(|| panic!("no change of {field} in {entry:#}"))
}

fn fields(entry: &Value) -> Vec<String> {
    entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap().to_string())
        .collect()
}

fn assert_entry(entry: &Value, action: &str, target: &str) {
    assert_eq!(entry["action"], action, "{entry:#}");
    assert_eq!(entry["target"], target, "{entry:#}");
    assert_eq!(entry["actor"], json!({"type": "user", "id": "admin"}));
    assert!(entry["at"].as_str().is_some_and(|t| t.starts_with("20")));
}

fn ok(r: &desk_tests::Reply) -> &Value {
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    &r.body
}

#[tokio::test]
async fn directory_and_rule_changes_leave_one_entry_each() {
    let s = Stack::start().await;
    let mut w = Watch::new(&s).await;

    ok(&s
        .post(
            "/groups",
            "admin",
            json!({"id": "ops", "name": "Operations", "description": "Night shift"}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "group.created", "ops");
    assert_eq!(
        change(&e, "name"),
        &json!({"field": "name", "from": null, "to": "Operations", "redacted": false})
    );

    ok(&s
        .put(
            "/groups/ops",
            "admin",
            json!({"name": "Ops", "description": "Night shift"}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "group.updated", "ops");
    assert_eq!(fields(&e), ["name"], "only what changed: {e:#}");
    assert_eq!(
        (&change(&e, "name")["from"], &change(&e, "name")["to"]),
        (&json!("Operations"), &json!("Ops"))
    );

    ok(&s
        .post(
            "/users",
            "admin",
            json!({"id": "carl", "name": "Carl", "email": "carl@desk.example", "role": "agent", "groups": ["ops"]}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "user.created", "carl");
    assert_eq!(change(&e, "role")["to"], "agent");
    assert_eq!(change(&e, "groups")["to"], json!(["ops"]));

    ok(&s
        .put(
            "/users/carl",
            "admin",
            json!({"name": "Carl", "email": "carl@desk.example", "role": "admin", "groups": []}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "user.updated", "carl");
    assert_eq!(fields(&e), ["groups", "role"]);
    assert_eq!(
        (&change(&e, "role")["from"], &change(&e, "role")["to"]),
        (&json!("agent"), &json!("admin"))
    );

    // Refused actions record nothing.
    assert_eq!(
        s.post("/groups", "alice", json!({"id": "x", "name": "X"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.post("/groups", "admin", json!({"id": "ops", "name": "Again"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    w.none(&s).await;

    assert_eq!(
        s.delete("/users/carl", "admin").await.status,
        StatusCode::NO_CONTENT
    );
    let e = w.one(&s).await;
    assert_entry(&e, "user.deleted", "carl");
    assert_eq!(change(&e, "name")["from"], "Carl");
    assert_eq!(change(&e, "name")["to"], Value::Null);

    assert_eq!(
        s.delete("/groups/ops", "admin").await.status,
        StatusCode::NO_CONTENT
    );
    assert_entry(&w.one(&s).await, "group.deleted", "ops");

    // Rules, a reorder included: the console moves a rule by its position.
    let rule = ok(&s
        .post(
            "/rules",
            "admin",
            json!({"name": "Billing", "conditions": [{"field": "subject", "operator": "contains", "value": "invoice"}],
                   "actions": {"assignee": {"type": "group", "id": "billing"}}}),
        )
        .await)
    .clone();
    let id = rule["id"].as_str().unwrap();
    let e = w.one(&s).await;
    assert_entry(&e, "rule.created", id);
    assert_eq!(change(&e, "name")["to"], "Billing");
    assert_eq!(
        change(&e, "conditions")["to"][0]["value"],
        "invoice",
        "{e:#}"
    );

    let from = rule["position"].as_u64().unwrap();
    ok(&s
        .put(
            &format!("/rules/{id}"),
            "admin",
            json!({"version": rule["version"], "name": "Billing", "position": from + 5,
                   "conditions": rule["conditions"], "actions": rule["actions"]}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "rule.updated", id);
    assert_eq!(fields(&e), ["position"]);
    assert_eq!(
        (
            &change(&e, "position")["from"],
            &change(&e, "position")["to"]
        ),
        (&json!(from), &json!(from + 5))
    );

    assert_eq!(
        s.delete(&format!("/rules/{id}"), "admin").await.status,
        StatusCode::NO_CONTENT
    );
    assert_entry(&w.one(&s).await, "rule.deleted", id);
}

#[tokio::test]
async fn mailboxes_modules_and_texts_are_recorded_without_the_password() {
    let s = Stack::start().await;
    let mut w = Watch::new(&s).await;
    let first = "first-secret-pw-4711";
    let second = "second-secret-pw-0815";

    let mb = ok(&s
        .post(
            "/mailboxes",
            "admin",
            json!({"name": "Support", "host": "imap.example.com", "user": "support@example.com", "password": first}),
        )
        .await)
    .clone();
    let mb_id = mb["id"].as_str().unwrap();
    let e = w.one(&s).await;
    assert_entry(&e, "mailbox.created", mb_id);
    assert_eq!(change(&e, "host")["to"], "imap.example.com");
    assert_eq!(
        change(&e, "password"),
        &json!({"field": "password", "from": null, "to": null, "redacted": true})
    );

    // An edit without a password: no password change.
    ok(&s
        .put(
            &format!("/mailboxes/{mb_id}"),
            "admin",
            json!({"name": "Sales", "host": "imap.example.com", "user": "support@example.com"}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "mailbox.updated", mb_id);
    assert_eq!(fields(&e), ["name"]);
    // With one: only that it changed.
    ok(&s
        .put(
            &format!("/mailboxes/{mb_id}"),
            "admin",
            json!({"name": "Sales", "host": "imap.example.com", "user": "support@example.com", "password": second}),
        )
        .await);
    let e = w.one(&s).await;
    assert_eq!(fields(&e), ["password"]);
    assert_eq!(change(&e, "password")["redacted"], true);
    assert_eq!(
        s.delete(&format!("/mailboxes/{mb_id}"), "admin")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_entry(&w.one(&s).await, "mailbox.deleted", mb_id);

    // QuickSupport modules.
    let m = ok(&s
        .post(
            "/modules",
            "admin",
            json!({"name": "Website SOS", "kind": "sos"}),
        )
        .await)
    .clone();
    let m_id = m["id"].as_str().unwrap();
    assert_entry(&w.one(&s).await, "module.created", m_id);
    ok(&s
        .put(
            &format!("/modules/{m_id}"),
            "admin",
            json!({"name": "Website SOS", "kind": "sos", "enabled": false}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "module.updated", m_id);
    assert_eq!(fields(&e), ["enabled"]);
    assert_eq!(
        (&change(&e, "enabled")["from"], &change(&e, "enabled")["to"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        s.delete(&format!("/modules/{m_id}"), "admin").await.status,
        StatusCode::NO_CONTENT
    );
    assert_entry(&w.one(&s).await, "module.deleted", m_id);

    // Text modules and the desk signature.
    let t = ok(&s
        .post(
            "/text-modules",
            "admin",
            json!({"name": "Restart", "text": "Please restart."}),
        )
        .await)
    .clone();
    let t_id = t["id"].as_str().unwrap();
    assert_entry(&w.one(&s).await, "text_module.created", t_id);
    ok(&s
        .put(
            &format!("/text-modules/{t_id}"),
            "admin",
            json!({"version": 1, "name": "Restart", "text": "Please restart it."}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "text_module.updated", t_id);
    assert_eq!(
        change(&e, "text"),
        &json!({"field": "text", "from": "Please restart.", "to": "Please restart it.", "redacted": false})
    );
    assert_eq!(
        s.delete(&format!("/text-modules/{t_id}"), "admin")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_entry(&w.one(&s).await, "text_module.deleted", t_id);
    assert_eq!(
        s.delete(&format!("/text-modules/{t_id}"), "admin")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    w.none(&s).await;

    ok(&s
        .put(
            "/settings/signature",
            "admin",
            json!({"version": 0, "text": "Example Support"}),
        )
        .await);
    let e = w.one(&s).await;
    assert_entry(&e, "signature.updated", "desk");
    assert_eq!(
        (&change(&e, "text")["from"], &change(&e, "text")["to"]),
        (&json!(""), &json!("Example Support"))
    );

    // An agent's own signature is not an administrator's action.
    ok(&s
        .put("/me/signature", "alice", json!({"text": "Alice"}))
        .await);
    w.none(&s).await;

    // No password anywhere in the trail, nor in the stored items.
    let everything = json!(trail(&s, "limit=200").await).to_string();
    assert!(!everything.contains(first) && !everything.contains(second));
    let stored = s
        .store
        .client()
        .query()
        .table_name(s.store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S("AUDIT".into()),
        )
        .send()
        .await
        .unwrap();
    let raw = format!("{:?}", stored.items());
    assert!(stored.count() > 10, "{}", stored.count());
    assert!(!raw.contains(first) && !raw.contains(second));
}

#[tokio::test]
async fn pages_are_newest_first_complete_and_filterable() {
    let s = Stack::start().await;
    // The seeded directory (2 groups, 2 users) is in the trail already.
    let before = trail(&s, "limit=200").await;
    assert_eq!(before.len(), 4, "{before:#?}");
    for i in 0..7 {
        ok(&s
            .post(
                "/groups",
                "admin",
                json!({"id": format!("g{i}"), "name": format!("G {i}")}),
            )
            .await);
    }
    let all = trail(&s, "limit=200").await;
    assert_eq!(all.len(), 11);
    for limit in [1, 3, 4, 11, 12] {
        let paged = trail(&s, &format!("limit={limit}")).await;
        assert_eq!(paged, all, "limit {limit}");
    }
    // Newest first: ids and times descend; the last group created is first.
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let times: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(all[0]["target"], "g6");
    assert_eq!(all[6]["target"], "g0");

    // A first page of 3 says there is more.
    let r = s.get("/audit?limit=3", "admin").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    assert!(r.body["next_cursor"].is_string());
    let r = s.get("/audit", "admin").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 11);
    assert_eq!(r.body["next_cursor"], Value::Null);

    // Filters, paged.
    let groups = trail(&s, "limit=2&action=group.created").await;
    assert_eq!(groups.len(), 9);
    assert!(groups.iter().all(|e| e["action"] == "group.created"));
    let users = trail(&s, "limit=1&action=user.created").await;
    let targets: Vec<&str> = users
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["bob", "alice"]);
    assert_eq!(trail(&s, "limit=5&actor=admin").await, all);
    assert!(trail(&s, "actor=alice").await.is_empty());
    let since = all[2]["at"].as_str().unwrap();
    let recent = trail(&s, &format!("limit=2&since={}", urlencode(since))).await;
    assert_eq!(recent, all[..3].to_vec());
}

fn urlencode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[tokio::test]
async fn only_administrators_read_the_trail_and_bad_input_is_refused() {
    let s = Stack::start().await;
    assert_problem(&s.get("/audit", "alice").await, 403, "forbidden", None);
    // Refused before the query is read.
    assert_problem(
        &s.get("/audit?limit=0", "bob").await,
        403,
        "forbidden",
        None,
    );
    let r = s.call(Method::GET, "/audit", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let r = s
        .call(Method::POST, "/audit", Some("admin"), Some(&json!({})))
        .await;
    assert_problem(&r, 405, "method_not_allowed", None);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("action=user.promoted", "action"),
        ("since=yesterday", "since"),
        ("actor=Not%20an%20id", "actor"),
        ("order=asc", "order"),
        ("limit=1&limit=2", "limit"),
        ("cursor=", "cursor"),
    ] {
        assert_problem(
            &s.get(&format!("/audit?{query}"), "admin").await,
            400,
            "invalid_query",
            Some(field),
        );
    }
    assert_problem(
        &s.get("/audit?cursor=not-a-cursor", "admin").await,
        400,
        "invalid_cursor",
        Some("cursor"),
    );
    // A cursor is bound to its query's filters.
    let r = s.get("/audit?limit=1", "admin").await;
    let c = r.body["next_cursor"].as_str().unwrap();
    assert_problem(
        &s.get(
            &format!("/audit?limit=1&action=user.created&cursor={c}"),
            "admin",
        )
        .await,
        400,
        "invalid_cursor",
        Some("cursor"),
    );
    // An edited cursor pointing outside the trail is refused, not queried.
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&json!({"f": "x", "k": {"pk": "USERS", "sk": "USER#admin"}})).unwrap(),
    );
    assert_problem(
        &s.get(&format!("/audit?cursor={forged}"), "admin").await,
        400,
        "invalid_cursor",
        Some("cursor"),
    );
}
