//! Reading received mail through the API, on the production path (raw in S3,
//! its event on SQS, the ingest handler): message lists, attachments and inline
//! images decoded from the raw message, the raw message byte for byte, large
//! downloads by signed link, a 25 MB email, and refusals.

use desk_tests::{assert_problem, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/mail/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// Delivers `raw` as SES would and runs the ingest handler; returns the ticket
/// number and its (first) message.
async fn ingest(s: &Stack, raw: Vec<u8>) -> (u64, Value) {
    s.deliver(raw).await;
    let list = s
        .get("/tickets?sort=created&order=desc&limit=1", "admin")
        .await;
    let n = list.body["items"][0]["number"].as_u64().expect("a ticket");
    let messages = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.body);
    (n, messages.body["items"][0].clone())
}

/// GET as `user` without following redirects: status, headers, raw body.
async fn download(
    s: &Stack,
    path: &str,
    user: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(format!("{}{path}", s.base));
    if let Some(u) = user {
        req = req.bearer_auth(s.token(u));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn attachments_and_the_raw_message_download_decoded_and_whole() {
    let s = Stack::start().await;
    let raw = fixture("gmail-attachment-png-zip.eml");
    let (n, message) = ingest(&s, raw.clone()).await;
    let id = message["id"].as_str().unwrap();
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2, "{message}");
    assert_eq!(attachments[0]["content_type"], "image/png");
    assert_eq!(attachments[1]["content_type"], "application/zip");

    let (status, h, png) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/0"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "decoded PNG bytes");
    assert_eq!(png.len() as u64, attachments[0]["size"].as_u64().unwrap());
    let filename = attachments[0]["filename"].as_str().unwrap();
    assert!(header(&h, "content-disposition").starts_with("attachment; filename*=UTF-8''"));
    assert!(header(&h, "content-disposition").contains(&filename.replace(' ', "%20")));
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");

    let (status, h, zip) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/1"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "application/zip");
    assert!(zip.starts_with(b"PK"), "decoded ZIP bytes");

    // The raw message, exactly as received.
    let (status, h, body) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/raw"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "message/rfc822");
    assert_eq!(body, raw, "byte for byte");

    // Past the list, or a message that is not there.
    let (status, _, body) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/2"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["code"],
        "attachment_not_found"
    );
    let (status, _, _) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/x"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn inline_images_are_listed_as_inline_and_download_like_attachments() {
    let s = Stack::start().await;
    let (n, message) = ingest(&s, fixture("gmail-inline-image.eml")).await;
    let id = message["id"].as_str().unwrap();
    let a = &message["attachments"][0];
    assert_eq!(a["inline"], true, "{message}");
    let cid = a["content_id"].as_str().unwrap();
    assert!(
        message["text"].as_str().is_some()
            && message["html"]
                .as_str()
                .is_some_and(|h| h.contains(&format!("cid:{cid}"))),
        "the sanitised HTML keeps the cid: reference a client resolves through the attachment"
    );
    let (status, h, png) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/0"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "image/png");
    assert!(png.starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn downloads_are_refused_to_whoever_may_not_see_the_ticket() {
    let s = Stack::start().await;
    let (n, message) = ingest(&s, fixture("outlook-attachment-pdf.eml")).await;
    let id = message["id"].as_str().unwrap();
    // Put the ticket in billing's hands: alice (support) may no longer see it.
    let t = s.get(&format!("/tickets/{n}"), "admin").await;
    let r = s
        .patch(
            &format!("/tickets/{n}"),
            "admin",
            json!({"version": t.body["version"], "assignee": {"type": "group", "id": "billing"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for path in [
        format!("/tickets/{n}/messages/{id}/attachments/0"),
        format!("/tickets/{n}/messages/{id}/raw"),
        format!("/tickets/{n}/messages/{id}"),
    ] {
        let (status, _, body) = download(&s, &path, Some("alice")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["code"],
            "ticket_not_found"
        );
        let (status, _, _) = download(&s, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        let (status, _, _) = download(&s, &path, Some("bob")).await;
        assert_eq!(status, StatusCode::OK, "billing's bob may: {path}");
    }
    // A reply has no raw MIME to download.
    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "bob",
            json!({"text": "Got it."}),
        )
        .await;
    let reply_id = r.body["id"].as_str().unwrap();
    let r = s
        .get(&format!("/tickets/{n}/messages/{reply_id}/raw"), "bob")
        .await;
    assert_problem(&r, 404, "raw_message_not_found", None);
}

#[tokio::test]
async fn a_25_mb_email_is_ingested_and_its_attachment_downloads_by_signed_link() {
    let s = Stack::start().await;
    let (raw, payload) = desk_local::mail_with_attachment(18_500_000);
    assert!(
        raw.len() >= 25_000_000,
        "a 25 MB message: {} bytes",
        raw.len()
    );
    let (n, message) = ingest(&s, raw.clone()).await;
    assert_eq!(message["subject"], "Disk image for analysis");
    assert_eq!(message["attachments"][0]["size"], payload.len());
    let id = message["id"].as_str().unwrap();

    // Too large to answer inline: 303 to a short-lived link that serves the decoded file.
    let (status, h, _) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/attachments/0"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let link = header(&h, "location");
    assert!(link.contains("X-Amz-Signature="), "{link}");
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert!(
        fetched.bytes().await.unwrap().to_vec() == payload,
        "the decoded attachment"
    );

    // The raw message too (it is already in S3: no copy).
    let (status, h, _) = download(
        &s,
        &format!("/tickets/{n}/messages/{id}/raw"),
        Some("admin"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let fetched = reqwest::get(header(&h, "location")).await.unwrap();
    assert!(
        fetched.bytes().await.unwrap().to_vec() == raw,
        "the raw message"
    );
}

#[tokio::test]
async fn hostile_html_is_sanitised_when_served() {
    let s = Stack::start().await;
    let (n, listed) = ingest(&s, fixture("html-only-hostile.eml")).await;
    let id = listed["id"].as_str().unwrap();
    let one = s.get(&format!("/tickets/{n}/messages/{id}"), "admin").await;
    for html in [&listed["html"], &one.body["html"]] {
        let html = html.as_str().expect("an HTML body").to_ascii_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "onload",
            "onerror",
            "<iframe",
            "<form",
            "tracker.example",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains("blank total"), "the content stays: {html}");
    }
}
