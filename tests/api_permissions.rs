//! The permission matrix: role × ticket ownership × action, with refusals holding
//! in search results and counts too; and authentication failures.

use desk_api::DevIssuer;
use desk_tests::{assert_problem, numbers, Stack};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Ownership of a ticket relative to the agent `alice` (group `support`).
const OWNERSHIPS: [(&str, Option<(&str, &str)>); 5] = [
    ("own", Some(("user", "alice"))),
    ("own_group", Some(("group", "support"))),
    ("unassigned", None),
    ("other_group", Some(("group", "billing"))),
    ("other_user", Some(("user", "bob"))),
];

fn visible_to_alice(ownership: &str) -> bool {
    matches!(ownership, "own" | "own_group" | "unassigned")
}

#[tokio::test]
async fn permission_matrix_for_read_list_search_edit_note() {
    let s = Stack::start().await;
    let mut tickets = vec![];
    for (label, assignee) in OWNERSHIPS {
        let assignee = assignee
            .map(|(t, id)| json!({"type": t, "id": id}))
            .unwrap_or(json!(null));
        // Every ticket carries the same search word, so a search must filter by permission.
        let n = s
            .ticket(Stack::ticket_body(
                &format!("zebra {label}"),
                json!({"assignee": assignee, "tags": ["matrix"]}),
            ))
            .await;
        tickets.push((label, n));
    }

    s.drain_stream().await;
    for role_user in ["admin", "alice"] {
        let listed = numbers(&s.get("/tickets?limit=100", role_user).await);
        let searched_resp = s.get("/tickets?q=zebra&limit=100", role_user).await;
        let searched = numbers(&searched_resp);
        let tagged = numbers(&s.get("/tickets?tag=matrix", role_user).await);
        let expected_visible: Vec<u64> = tickets
            .iter()
            .filter(|(label, _)| role_user == "admin" || visible_to_alice(label))
            .map(|(_, n)| *n)
            .collect();
        // Counts reveal nothing either.
        assert_eq!(
            searched_resp.body["count"].as_u64().unwrap() as usize,
            expected_visible.len(),
            "{role_user}"
        );

        for (label, n) in &tickets {
            let may = role_user == "admin" || visible_to_alice(label);
            let case = format!("{role_user} × {label}");
            assert_eq!(listed.contains(n), may, "list: {case}");
            assert_eq!(searched.contains(n), may, "search: {case}");
            assert_eq!(tagged.contains(n), may, "tag filter: {case}");

            let read = s.get(&format!("/tickets/{n}"), role_user).await;
            let activity = s.get(&format!("/tickets/{n}/activity"), role_user).await;
            let notes = s.get(&format!("/tickets/{n}/notes"), role_user).await;
            let current = s.get(&format!("/tickets/{n}"), "admin").await.body["version"]
                .as_u64()
                .unwrap();
            let edit = s
                .patch(
                    &format!("/tickets/{n}"),
                    role_user,
                    json!({"version": current, "priority": "high"}),
                )
                .await;
            let note = s
                .post(
                    &format!("/tickets/{n}/notes"),
                    role_user,
                    json!({"body": "checked"}),
                )
                .await;
            if may {
                assert_eq!(read.status, StatusCode::OK, "read: {case}");
                assert_eq!(activity.status, StatusCode::OK, "activity: {case}");
                assert_eq!(notes.status, StatusCode::OK, "notes: {case}");
                assert_eq!(edit.status, StatusCode::OK, "edit: {case}: {}", edit.body);
                assert_eq!(note.status, StatusCode::CREATED, "note: {case}");
            } else {
                // Refused as "not found": existence does not leak.
                for (what, r) in [
                    ("read", &read),
                    ("activity", &activity),
                    ("notes", &notes),
                    ("edit", &edit),
                    ("note", &note),
                ] {
                    assert_problem(r, 404, "ticket_not_found", None);
                    let _ = what;
                }
            }
        }
    }

    // Refused edits and notes left no trace.
    for (label, n) in &tickets {
        let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
        let by_alice = act.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor"]["id"] == "alice")
            .count();
        assert_eq!(by_alice > 0, visible_to_alice(label), "{label}");
    }
}

#[tokio::test]
async fn agents_cannot_filter_their_way_into_other_tickets() {
    let s = Stack::start().await;
    let hidden = s
        .ticket(Stack::ticket_body(
            "Secret",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    s.drain_stream().await;
    for q in [
        "assignee=group:billing",
        "assignee=user:bob",
        "q=secret",
        "customer=carol@example.com",
        "sort=name",
    ] {
        let r = s.get(&format!("/tickets?{q}"), "alice").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!numbers(&r).contains(&hidden), "{q}");
    }
    assert!(numbers(&s.get("/tickets?assignee=group:billing", "bob").await).contains(&hidden));
}

#[tokio::test]
async fn reassigning_away_hides_the_ticket_from_the_agent() {
    let s = Stack::start().await;
    let n = s
        .ticket(Stack::ticket_body(
            "Move me",
            json!({"assignee": {"type": "user", "id": "alice"}}),
        ))
        .await;
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "alice",
            json!({"version": 1, "assignee": {"type": "group", "id": "billing"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_problem(
        &s.get(&format!("/tickets/{n}"), "alice").await,
        404,
        "ticket_not_found",
        None,
    );
    assert_eq!(
        s.get(&format!("/tickets/{n}"), "bob").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_admins_manage_the_directory() {
    let s = Stack::start().await;
    let user = json!({"id": "carl", "name": "Carl", "email": "carl@desk.example", "role": "agent"});
    assert_problem(
        &s.post("/users", "alice", user.clone()).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.put(
            "/users/bob",
            "alice",
            json!({"name": "B", "email": "b@desk.example", "role": "admin"}),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.delete("/users/bob", "alice").await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.post("/groups", "alice", json!({"id": "x", "name": "X"}))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.put("/groups/support", "alice", json!({"name": "S"}))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.delete("/groups/billing", "bob").await,
        403,
        "forbidden",
        None,
    );
    // Reading the directory is allowed (agents assign tickets).
    assert_eq!(s.get("/users", "alice").await.status, StatusCode::OK);
    assert_eq!(
        s.get("/groups/support", "alice").await.status,
        StatusCode::OK
    );
    // Nothing changed.
    assert_problem(
        &s.get("/users/carl", "admin").await,
        404,
        "user_not_found",
        None,
    );
    assert_eq!(s.get("/users/bob", "admin").await.body["role"], "agent");
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_get_401_on_every_route() {
    let s = Stack::start().await;
    let n = s.ticket(Stack::ticket_body("Auth", json!({}))).await;
    let routes = [
        (Method::GET, "/me".to_string()),
        (Method::GET, "/tickets".to_string()),
        (Method::POST, "/tickets".to_string()),
        (Method::GET, format!("/tickets/{n}")),
        (Method::PATCH, format!("/tickets/{n}")),
        (Method::GET, format!("/tickets/{n}/activity")),
        (Method::GET, format!("/tickets/{n}/notes")),
        (Method::POST, format!("/tickets/{n}/notes")),
        (Method::GET, "/users".to_string()),
        (Method::POST, "/users".to_string()),
        (Method::GET, "/users/alice".to_string()),
        (Method::PUT, "/users/alice".to_string()),
        (Method::DELETE, "/users/alice".to_string()),
        (Method::GET, "/groups".to_string()),
        (Method::POST, "/groups".to_string()),
        (Method::GET, "/groups/support".to_string()),
        (Method::PUT, "/groups/support".to_string()),
        (Method::DELETE, "/groups/support".to_string()),
    ];
    let other_issuer = DevIssuer::new(b"another-secret-another-secret-another-secret".to_vec());
    let mut wrong_iss = DevIssuer::new(b"x".to_vec());
    wrong_iss.issuer = "https://evil.example".into();
    let bad_tokens = [
        ("garbage", "not.a.jwt".to_string()),
        ("wrong signature", other_issuer.issue("admin", 600).unwrap()),
        ("expired", s.issuer.issue("admin", -3600).unwrap()),
    ];
    for (method, path) in &routes {
        let r = s.call(method.clone(), path, None, Some(&json!({}))).await;
        assert_problem(&r, 401, "unauthorized", None);
        assert_eq!(r.headers["www-authenticate"], "Bearer", "{method} {path}");
        for (why, token) in &bad_tokens {
            let resp = s
                .http
                .request(method.clone(), format!("{}{path}", s.base))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let r = Stack::reply(resp).await;
            assert_eq!(r.status.as_u16(), 401, "{why}: {method} {path}: {}", r.body);
        }
        let r = s
            .http
            .request(method.clone(), format!("{}{path}", s.base))
            .header("authorization", "Basic YWRtaW46YWRtaW4=")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "basic auth: {method} {path}");
    }
    // The ticket was never touched.
    assert_eq!(
        s.get(&format!("/tickets/{n}"), "admin").await.body["version"],
        1
    );
}

#[tokio::test]
async fn valid_tokens_for_unknown_or_deactivated_users_get_403() {
    let s = Stack::start().await;
    assert_problem(&s.get("/me", "mallory").await, 403, "unknown_user", None);
    assert_problem(&s.get("/me", "NOT A USER").await, 403, "unknown_user", None);
    let r = s.put("/users/bob", "admin", json!({"name": "Bob", "email": "bob@desk.example", "role": "agent", "groups": ["billing"], "active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_problem(&s.get("/tickets", "bob").await, 403, "forbidden", None);
}
