//! Rules administration over HTTP: order, enable/disable, validation at save time
//! naming the field, the default rule, optimistic concurrency, the dry run, and
//! administrators only.

use desk_tests::{assert_problem, Stack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn rules_lifecycle_validation_and_dry_run() {
    let s = Stack::start().await;
    // Every desk has the default rule, last.
    let r = s.get("/rules", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["is_default"], true);
    assert_problem(
        &s.delete("/rules/default", "admin").await,
        409,
        "default_rule",
        None,
    );

    let vip = s
        .post(
            "/rules",
            "admin",
            json!({"name": "VIP customers", "match_mode": "any",
                   "conditions": [
                       {"field": "sender_domain", "operator": "equals", "value": "BigCorp.example"},
                       {"field": "subject", "operator": "matches", "value": "(?i)urgent|outage"}
                   ],
                   "actions": {"priority": "urgent", "assignee": {"type": "group", "id": "support"},
                               "add_tags": ["VIP"], "notify": true}}),
        )
        .await;
    assert_eq!(vip.status, StatusCode::CREATED, "{}", vip.body);
    let vip_id = vip.body["id"].as_str().unwrap().to_string();
    let billing = s
        .post(
            "/rules",
            "admin",
            json!({"name": "Billing", "conditions": [{"field": "subject", "operator": "contains", "value": "invoice"}],
                   "actions": {"assignee": {"type": "group", "id": "billing"}}}),
        )
        .await;
    assert_eq!(billing.status, StatusCode::CREATED, "{}", billing.body);
    let billing_id = billing.body["id"].as_str().unwrap().to_string();

    // Invalid rules are refused when saved, naming the field.
    let bad_regex = s
        .post(
            "/rules",
            "admin",
            json!({"name": "x", "conditions": [
            {"field": "subject", "operator": "contains", "value": "a"},
            {"field": "body", "operator": "matches", "value": "(unclosed"}]}),
        )
        .await;
    assert_problem(
        &bad_regex,
        400,
        "invalid_field",
        Some("conditions[1].value"),
    );
    let ghost = s
        .post(
            "/rules",
            "admin",
            json!({"name": "x", "actions": {"assignee": {"type": "user", "id": "ghost"}}}),
        )
        .await;
    assert_problem(&ghost, 400, "invalid_field", Some("actions.assignee"));
    let op = s.post("/rules", "admin", json!({"name": "x", "conditions": [{"field": "subject", "operator": "like", "value": "a"}]})).await;
    assert_eq!(op.status, StatusCode::BAD_REQUEST);
    assert!(
        op.body["field"]
            .as_str()
            .unwrap()
            .starts_with("conditions[0]"),
        "{}",
        op.body
    );

    // The dry run says which rule an email hits and what it would do.
    let dry = s
        .post("/rules/dry-run", "admin", json!({"sender": "ceo@bigcorp.example", "to": ["support@desk.example"],
                                                 "subject": "Question about invoice", "body": "hi"}))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["evaluation"]["rule_id"], vip_id.as_str());
    assert_eq!(dry.body["evaluation"]["actions"]["priority"], "urgent");
    assert_eq!(dry.body["evaluation"]["matched_conditions"], json!([0]));
    let dry = s
        .post(
            "/rules/dry-run",
            "admin",
            json!({"sender": "dan@example.org", "subject": "Your invoice"}),
        )
        .await;
    assert_eq!(dry.body["evaluation"]["rule_id"], billing_id.as_str());
    assert_eq!(dry.body["not_matched"][0]["rule_id"], vip_id.as_str());
    let dry = s
        .post(
            "/rules/dry-run",
            "admin",
            json!({"sender": "x@example.net", "subject": "hello"}),
        )
        .await;
    assert_eq!(dry.body["evaluation"]["is_default"], true);

    // Disabled rules are kept and listed, never run; edits need the version read.
    let v = vip.body["version"].as_u64().unwrap();
    let mut update = vip.body.clone();
    for k in ["id", "is_default", "created_at", "updated_at"] {
        update.as_object_mut().unwrap().remove(k);
    }
    update["enabled"] = json!(false);
    let r = s
        .put(&format!("/rules/{vip_id}"), "admin", update.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], v + 1);
    let stale = s.put(&format!("/rules/{vip_id}"), "admin", update).await;
    assert_problem(&stale, 409, "version_conflict", Some("version"));
    let dry = s
        .post(
            "/rules/dry-run",
            "admin",
            json!({"sender": "ceo@bigcorp.example", "subject": "invoice"}),
        )
        .await;
    assert_eq!(
        dry.body["evaluation"]["rule_id"],
        billing_id.as_str(),
        "disabled rule skipped"
    );
    let listed = s.get("/rules", "admin").await;
    let ids: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [vip_id.clone(), billing_id.clone(), "default".into()],
        "kept, in order"
    );

    assert_eq!(
        s.delete(&format!("/rules/{billing_id}"), "admin")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &s.get(&format!("/rules/{billing_id}"), "admin").await,
        404,
        "rule_not_found",
        None,
    );
}

#[tokio::test]
async fn only_administrators_see_or_change_rules() {
    let s = Stack::start().await;
    assert_problem(&s.get("/rules", "alice").await, 403, "forbidden", None);
    assert_problem(
        &s.post("/rules", "alice", json!({"name": "x"})).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.post("/rules/dry-run", "bob", json!({"sender": "a@b.example"}))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.delete("/rules/default", "alice").await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &s.get("/rules/default", "bob").await,
        403,
        "forbidden",
        None,
    );
}
