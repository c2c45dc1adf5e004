//! The Lambda path: API Gateway HTTP API (v2) events, as the cloud delivers them,
//! through lambda_http's request conversion into the same handler, with identity
//! taken from the JWT authorizer's verified claims.

use desk_api::{App, Authenticator};
use desk_tests::Stack;
use serde_json::{json, Value};

fn event(name: &str) -> lambda_http::Request {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&raw)
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"))
}

fn body(resp: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn api_gateway_events_are_served_as_the_authorizer_claims_user() {
    let s = Stack::start().await;
    let visible = s
        .ticket(Stack::ticket_body("Open vip", json!({"tags": ["vip"]})))
        .await;
    let hidden = s
        .ticket(Stack::ticket_body(
            "Billing vip",
            json!({"tags": ["vip"], "assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    let app = App {
        desk: s.desk.clone(),
        auth: Authenticator::ApiGateway {
            user_claim: "sub".into(),
        },
    };

    // Query string and path come from rawPath/rawQueryString; the user from claims.sub.
    let resp = desk_api::handle(&app, event("apigw-v2-list-tickets-jwt.json")).await;
    assert_eq!(resp.status(), 200, "{:?}", body(&resp));
    assert_eq!(resp.headers()["x-request-id"], "Jx2fJhHcoAMEVQg=");
    let listed: Vec<u64> = body(&resp)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [visible]);
    assert!(!listed.contains(&hidden));

    // A base64 body is decoded; the ticket is created as alice.
    let resp = desk_api::handle(&app, event("apigw-v2-create-ticket-jwt.json")).await;
    assert_eq!(resp.status(), 201, "{:?}", body(&resp));
    let created = body(&resp);
    assert_eq!(created["name"], "From API Gateway");
    let n = created["number"].as_u64().unwrap();
    let act = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    assert_eq!(act.body["items"][0]["actor"]["id"], "alice");

    // Another claim can name the user (e.g. Cognito's username).
    let by_username = App {
        desk: s.desk.clone(),
        auth: Authenticator::ApiGateway {
            user_claim: "username".into(),
        },
    };
    assert_eq!(
        desk_api::handle(&by_username, event("apigw-v2-create-ticket-jwt.json"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn events_without_verified_claims_are_refused() {
    let s = Stack::start().await;
    let app = App {
        desk: s.desk.clone(),
        auth: Authenticator::ApiGateway {
            user_claim: "sub".into(),
        },
    };
    let resp = desk_api::handle(&app, event("apigw-v2-no-authorizer.json")).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(body(&resp)["code"], "unauthorized");
    // A claim that is present but not the configured one is not trusted either.
    let other = App {
        desk: s.desk.clone(),
        auth: Authenticator::ApiGateway {
            user_claim: "email".into(),
        },
    };
    assert_eq!(
        desk_api::handle(&other, event("apigw-v2-list-tickets-jwt.json"))
            .await
            .status(),
        401
    );
}
