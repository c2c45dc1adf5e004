//! Bad input on every route: malformed JSON, wrong types, unknown enum values,
//! oversized strings and unknown ids get a 4xx problem naming the field — never a
//! 5xx — and change nothing.

use desk_tests::{assert_problem, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every route that takes a JSON body, with a valid body to mutate.
fn body_routes(n: u64) -> Vec<(Method, String, Value)> {
    vec![
        (
            Method::POST,
            "/tickets".into(),
            json!({"name": "x", "customer": {"email": "c@example.com"}}),
        ),
        (
            Method::PATCH,
            format!("/tickets/{n}"),
            json!({"version": 1, "name": "y"}),
        ),
        (
            Method::POST,
            format!("/tickets/{n}/notes"),
            json!({"body": "hi"}),
        ),
        (
            Method::POST,
            "/users".into(),
            json!({"id": "zed", "name": "Zed", "email": "zed@desk.example", "role": "agent"}),
        ),
        (
            Method::PUT,
            "/users/alice".into(),
            json!({"name": "Alice", "email": "alice@desk.example", "role": "agent", "groups": ["support"]}),
        ),
        (
            Method::POST,
            "/groups".into(),
            json!({"id": "ops", "name": "Ops"}),
        ),
        (
            Method::PUT,
            "/groups/support".into(),
            json!({"name": "Support"}),
        ),
    ]
}

async fn raw(s: &Stack, method: Method, path: &str, body: &str) -> desk_tests::Reply {
    let resp = s
        .http
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(s.token("admin"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Stack::reply(resp).await
}

#[tokio::test]
async fn malformed_json_empty_bodies_and_non_objects_are_400() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Victim", json!({}))).await;
    for (method, path, _) in body_routes(n) {
        for body in [
            "{",
            "{\"name\": }",
            "nul",
            "",
            "   ",
            "[1,2]",
            "42",
            "\"text\"",
            "null",
        ] {
            let r = raw(&s, method.clone(), &path, body).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{method} {path} {body:?}: {}",
                r.body
            );
            assert!(
                ["invalid_json", "invalid_field"].contains(&r.body["code"].as_str().unwrap()),
                "{}",
                r.body
            );
            assert_eq!(r.body["field"], "body", "{method} {path} {body:?}");
        }
        let r = s
            .http
            .request(method.clone(), format!("{}{path}", s.base))
            .bearer_auth(s.token("admin"))
            .header("content-type", "text/plain")
            .body("name=x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 415, "{method} {path}");
    }
    assert_eq!(
        s.get(&format!("/tickets/{n}"), "admin").await.body["version"],
        1
    );
}

/// Replaces the value at a dotted path (creating it).
fn with(mut body: Value, path: &str, value: Value) -> Value {
    let mut cur = &mut body;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[parts[parts.len() - 1]] = value;
    body
}

#[tokio::test]
async fn wrong_types_unknown_enums_unknown_fields_and_oversized_strings_name_the_field() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Victim", json!({}))).await;
    let long = |k: usize| Value::String("x".repeat(k));
    let cases: Vec<(usize, &str, Value, &str)> = vec![
        // (route index, field path, value, expected code)
        (0, "name", json!(5), "invalid_field"),
        (0, "name", long(201), "invalid_field"),
        (0, "name", json!("   "), "invalid_field"),
        (0, "description", long(10_001), "invalid_field"),
        (0, "status", json!("done"), "invalid_field"),
        (0, "priority", json!("p1"), "invalid_field"),
        (0, "priority", json!(3), "invalid_field"),
        (
            0,
            "assignee",
            json!({"type": "robot", "id": "r2"}),
            "invalid_field",
        ),
        (
            0,
            "assignee",
            json!({"type": "user", "id": "ghost"}),
            "invalid_field",
        ),
        (0, "tags", json!("vip"), "invalid_field"),
        (0, "tags", json!([long(51)]), "invalid_field"),
        (0, "customer.email", json!("not-an-email"), "invalid_field"),
        (0, "customer.email", json!(null), "invalid_field"),
        (0, "customer.phone", json!("call me maybe"), "invalid_field"),
        (0, "customer.name", long(201), "invalid_field"),
        (0, "colour", json!("red"), "unknown_field"),
        (0, "customer.age", json!(3), "unknown_field"),
        (1, "version", json!("1"), "invalid_field"),
        (1, "version", json!(-1), "invalid_field"),
        (1, "status", json!("reopened"), "invalid_field"),
        (
            1,
            "assignee",
            json!({"type": "group", "id": "nobody"}),
            "invalid_field",
        ),
        (1, "add_tags", json!([""]), "invalid_field"),
        (1, "name", long(100_000), "invalid_field"),
        (1, "owner", json!("x"), "unknown_field"),
        (2, "body", long(20_001), "invalid_field"),
        (2, "body", json!(["a"]), "invalid_field"),
        (3, "id", json!("Has Spaces"), "invalid_field"),
        (3, "role", json!("root"), "invalid_field"),
        (3, "email", json!(7), "invalid_field"),
        (3, "groups", json!(["no-such-group"]), "invalid_field"),
        (4, "role", json!("superuser"), "invalid_field"),
        (4, "active", json!("yes"), "invalid_field"),
        (5, "id", json!(""), "invalid_field"),
        (5, "description", long(1_001), "invalid_field"),
        (6, "name", json!(null), "invalid_field"),
    ];
    let routes = body_routes(n);
    for (i, field, value, code) in cases {
        let (method, path, valid) = &routes[i];
        let body = with(valid.clone(), field, value.clone());
        let r = s
            .call(method.clone(), path, Some("admin"), Some(&body))
            .await;
        assert_problem(&r, 400, code, None);
        let named = r.body["field"].as_str().unwrap_or("");
        assert!(
            named == field
                || named.starts_with(&format!("{field}["))
                || named.starts_with(&format!("{field}.")),
            "{method} {path}: {field}={value}: problem names {named:?}: {}",
            r.body
        );
    }
    // Missing required fields.
    for (i, field) in [
        (0, "name"),
        (0, "customer"),
        (1, "version"),
        (2, "body"),
        (3, "role"),
        (5, "name"),
    ] {
        let (method, path, valid) = &routes[i];
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        let r = s
            .call(method.clone(), path, Some("admin"), Some(&body))
            .await;
        assert_problem(&r, 400, "missing_field", Some(field));
    }
    // Nothing was applied.
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    assert_eq!(t.body["version"], 1);
    assert_eq!(t.body["name"], "Victim");
    assert_eq!(
        s.get("/users", "admin").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let s = Stack::start().await;
    let big = json!({"name": "x", "description": "y".repeat(300_000), "customer": {"email": "c@example.com"}});
    let r = s.post("/tickets", "admin", big).await;
    assert_problem(&r, 413, "payload_too_large", None);
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Q", json!({}))).await;
    for (path, field) in [
        ("/tickets?status=done".to_string(), "status"),
        ("/tickets?limit=0".to_string(), "limit"),
        ("/tickets?limit=abc".to_string(), "limit"),
        ("/tickets?sort=colour".to_string(), "sort"),
        ("/tickets?order=sideways".to_string(), "order"),
        ("/tickets?assignee=someone".to_string(), "assignee"),
        ("/tickets?customer=nobody".to_string(), "customer"),
        (format!("/tickets?q={}", "x".repeat(201)), "q"),
        ("/tickets?frobnicate=1".to_string(), "frobnicate"),
        (format!("/tickets/{n}/activity?limit=501"), "limit"),
        (format!("/tickets/{n}/notes?page=2"), "page"),
        ("/users?limit=1".to_string(), "limit"),
    ] {
        let r = s.get(&path, "admin").await;
        assert_problem(&r, 400, "invalid_query", Some(field));
    }
    let r = s.get("/tickets?cursor=%00%01", "admin").await;
    assert_problem(&r, 400, "invalid_cursor", Some("cursor"));
}

#[tokio::test]
async fn unknown_ids_are_404_and_malformed_ticket_ids_are_400() {
    let s = Stack::start().await;
    for path in [
        "/tickets/999999",
        "/tickets/999999/activity",
        "/tickets/999999/notes",
        "/users/ghost",
        "/groups/ghost",
        "/users/NOT_VALID",
    ] {
        let r = s.get(path, "admin").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    assert_problem(
        &s.patch("/tickets/999999", "admin", json!({"version": 1}))
            .await,
        404,
        "ticket_not_found",
        None,
    );
    assert_problem(
        &s.post("/tickets/999999/notes", "admin", json!({"body": "x"}))
            .await,
        404,
        "ticket_not_found",
        None,
    );
    assert_problem(
        &s.delete("/users/ghost", "admin").await,
        404,
        "user_not_found",
        None,
    );
    assert_problem(
        &s.put("/groups/ghost", "admin", json!({"name": "G"})).await,
        404,
        "group_not_found",
        None,
    );
    for path in ["/tickets/abc", "/tickets/0", "/tickets/-5", "/tickets/1e3"] {
        assert_problem(
            &s.get(path, "admin").await,
            400,
            "invalid_field",
            Some("id"),
        );
    }
    assert_problem(&s.get("/nope", "admin").await, 404, "route_not_found", None);
    let r = s
        .call(Method::DELETE, "/tickets", Some("admin"), None)
        .await;
    assert_problem(&r, 405, "method_not_allowed", None);
    assert_eq!(r.headers["allow"], "GET, POST");
}

/// Re-encodes a cursor with one key value changed (cursors are unsigned base64 JSON).
fn tampered(cursor: &str, key: &str, value: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap();
    c["k"][key] = json!(value);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap())
}

/// A list cursor (one position per partition) with partition `i`'s key edited.
fn tampered_list(cursor: &str, i: usize, key: &str, value: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap();
    c["p"][i]["after"][key] = json!(value);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap())
}

#[tokio::test]
async fn edited_cursors_are_400_not_an_outage() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Cursor", json!({}))).await;
    for i in 0..3 {
        s.ticket(Stack::ticket_body(&format!("More {i}"), json!({})))
            .await;
        s.post(
            &format!("/tickets/{n}/notes"),
            "admin",
            json!({"body": format!("n{i}")}),
        )
        .await;
    }
    let page = s.get("/tickets?limit=1", "admin").await;
    let c = page.body["next_cursor"].as_str().unwrap().to_string();
    for (key, value) in [
        ("lpk", "X"),
        ("pk", "USERS"),
        ("sk", "USER#alice"),
        ("k_updated", ""),
    ] {
        let r = s
            .get(
                &format!(
                    "/tickets?limit=1&cursor={}",
                    tampered_list(&c, 0, key, value)
                ),
                "admin",
            )
            .await;
        assert_problem(&r, 400, "invalid_cursor", Some("cursor"));
    }
    // An agent's cursor holds a position per visibility partition: one moved into
    // a partition she may not see is refused.
    let page = s.get("/tickets?limit=1&sort=created", "alice").await;
    let c = page.body["next_cursor"].as_str().unwrap().to_string();
    let parts: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &c).unwrap(),
    )
    .unwrap();
    let i = parts["p"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p.get("after").is_some())
        .unwrap();
    let r = s
        .get(
            &format!(
                "/tickets?limit=1&sort=created&cursor={}",
                tampered_list(&c, i, "assignee_pk", "user:bob")
            ),
            "alice",
        )
        .await;
    assert_problem(&r, 400, "invalid_cursor", Some("cursor"));
    let notes = s.get(&format!("/tickets/{n}/notes?limit=1"), "admin").await;
    let c = notes.body["next_cursor"].as_str().unwrap().to_string();
    for (key, value) in [("pk", "TICKET#1"), ("sk", "ACT#x"), ("sk", "TICKET")] {
        let r = s
            .get(
                &format!(
                    "/tickets/{n}/notes?limit=1&cursor={}",
                    tampered(&c, key, value)
                ),
                "admin",
            )
            .await;
        assert_problem(&r, 400, "invalid_cursor", Some("cursor"));
    }
}

#[tokio::test]
async fn structs_written_as_arrays_are_refused_at_every_depth() {
    let s = Stack::start().await;
    let r = s
        .post(
            "/tickets",
            "admin",
            json!({"name": "t", "customer": ["Jo", "jo@x.example"]}),
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("customer"));
    let r = s
        .post(
            "/rules",
            "admin",
            json!({"name": "x", "actions": [null, null]}),
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("actions"));
    let r = s
        .post(
            "/rules",
            "admin",
            json!({"name": "x", "conditions": [["subject", null, "contains", "a"]]}),
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("conditions[0]"));
    let r = s
        .post(
            "/rules/dry-run",
            "admin",
            json!({"sender": "a@b.example", "headers": [["X", "1", "extra"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "invalid_field", "{}", r.body);
    assert!(
        r.body["field"].as_str().unwrap().starts_with("headers"),
        "{}",
        r.body
    );
    // Ids that cannot exist are simply not found (never a storage error).
    let long = "x".repeat(1020);
    assert_problem(
        &s.get(&format!("/rules/{long}"), "admin").await,
        404,
        "rule_not_found",
        None,
    );
    assert_eq!(s.get("/tickets", "admin").await.status, StatusCode::OK);
}
