//! Users and groups over HTTP: create, read, replace, delete, and the guards.

use desk_tests::{assert_problem, Stack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn users_and_groups_lifecycle() {
    let s = Stack::start().await;
    let r = s
        .post(
            "/groups",
            "admin",
            json!({"id": "ops", "name": "Operations", "description": "Night shift"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers["location"], "/groups/ops");
    assert_problem(
        &s.post("/groups", "admin", json!({"id": "ops", "name": "Again"}))
            .await,
        409,
        "already_exists",
        Some("id"),
    );

    let r = s.post("/users", "admin", json!({"id": "carl", "name": "Carl", "email": "Carl@Desk.Example", "role": "agent", "groups": ["ops", "ops", "support"]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["groups"], json!(["ops", "support"]));
    assert_eq!(r.body["email"], "Carl@desk.example");
    assert_problem(
        &s.post(
            "/users",
            "admin",
            json!({"id": "carl", "name": "C", "email": "c@d.example", "role": "agent"}),
        )
        .await,
        409,
        "already_exists",
        None,
    );

    let g = s.get("/groups/ops", "alice").await;
    assert_eq!(g.body["members"], json!(["carl"]));
    let me = s.get("/me", "carl").await;
    assert_eq!(me.body["role"], "agent");
    assert_eq!(me.body["groups"], json!(["ops", "support"]));

    // Carl becomes admin.
    let r = s.put("/users/carl", "admin", json!({"name": "Carl C", "email": "carl@desk.example", "role": "admin", "groups": ["ops"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.get("/me", "carl").await.body["role"], "admin");

    assert_problem(
        &s.delete("/groups/ops", "admin").await,
        409,
        "group_in_use",
        None,
    );
    assert_problem(
        &s.delete("/users/admin", "admin").await,
        409,
        "cannot_delete_self",
        None,
    );
    assert_problem(
        &s.put(
            "/users/admin",
            "admin",
            json!({"name": "A", "email": "admin@desk.example", "role": "agent"}),
        )
        .await,
        409,
        "cannot_demote_self",
        None,
    );
    assert_eq!(
        s.delete("/users/carl", "admin").await.status,
        StatusCode::NO_CONTENT
    );
    assert_problem(&s.get("/me", "carl").await, 403, "unknown_user", None);
    assert_eq!(
        s.delete("/groups/ops", "admin").await.status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &s.get("/groups/ops", "admin").await,
        404,
        "group_not_found",
        None,
    );
    let groups = s.get("/groups", "admin").await;
    let ids: Vec<_> = groups.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].clone())
        .collect();
    assert_eq!(ids, [json!("billing"), json!("support")]);
}
