//! Files in replies: an agent uploads a file through the signed PUT of
//! `POST /tickets/{id}/uploads`, names it in `POST /tickets/{id}/replies` beside a
//! customer's attachment sent on, and the mail moto's SES records carries both
//! files byte for byte with the text and HTML parts; the sent reply's files
//! download through the same route as received ones. Refused files (too large,
//! programs, unknown, another ticket's, never uploaded, unlike what was
//! declared, too much in total) are named, and nothing is sent or stored.

use base64::Engine;
use desk_tests::{assert_problem, sent_mail_to, Stack};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn customer() -> String {
    format!("cust-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Incompressible bytes beginning with `head`.
fn bytes(head: &[u8], size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = head.to_vec();
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push((state >> 24) as u8);
    }
    out
}

/// The customer writes in with `scan.png` attached; returns the ticket number.
async fn customer_writes_with_a_file(s: &Stack, from: &str, file: &[u8]) -> u64 {
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: Scanner output\r\nMessage-ID: <{}@mail.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scan is attached.\r\n--b1\r\nContent-Type: image/png; name=\"scan.png\"\r\nContent-Disposition: attachment; filename=\"scan.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        uuid::Uuid::new_v4().simple(),
        lines.join("\r\n")
    );
    s.ingest_stored(raw.into_bytes()).await.0
}

/// `POST /tickets/{n}/uploads` as `user`.
async fn upload(
    s: &Stack,
    n: u64,
    user: &str,
    filename: &str,
    kind: &str,
    size: usize,
) -> desk_tests::Reply {
    s.post(
        &format!("/tickets/{n}/uploads"),
        user,
        json!({"filename": filename, "content_type": kind, "size": size}),
    )
    .await
}

/// PUTs `body` to the signed upload of `grant`, with the headers it names.
async fn put_file(grant: &Value, body: Vec<u8>) -> StatusCode {
    let put = &grant["put"];
    assert_eq!(put["method"], "PUT");
    let mut req = reqwest::Client::new().put(put["url"].as_str().expect("url"));
    for (k, v) in put["headers"].as_object().expect("headers") {
        // The HTTP client sets the length from the body.
        if k != "content-length" {
            req = req.header(k.as_str(), v.as_str().unwrap());
        }
    }
    req.body(body).send().await.expect("S3 reachable").status()
}

/// Uploads `body` through the API's signed PUT; returns the upload id.
async fn uploaded(s: &Stack, n: u64, filename: &str, kind: &str, body: Vec<u8>) -> String {
    let grant = upload(s, n, "admin", filename, kind, body.len()).await;
    assert_eq!(grant.status, StatusCode::CREATED, "{}", grant.body);
    assert!(put_file(&grant.body, body).await.is_success());
    grant.body["id"].as_str().unwrap().to_string()
}

async fn reply(s: &Stack, n: u64, user: &str, body: Value, key: Option<&str>) -> desk_tests::Reply {
    s.post_reply(n, user, body, key).await
}

/// The bytes the API answers at `path` (a download).
async fn download(s: &Stack, path: &str) -> Vec<u8> {
    let resp = s
        .http
        .get(format!("{}{path}", s.base))
        .bearer_auth(s.token("admin"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.bytes().await.expect("body").to_vec()
}

/// The inbound message of ticket `n` and its first attachment's metadata.
async fn inbound_message(s: &Stack, n: u64) -> Value {
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    list.body["items"][0].clone()
}

#[tokio::test]
async fn a_reply_sends_an_upload_and_a_customers_file_byte_for_byte_and_keeps_them() {
    let s = Stack::start().await;
    let from = customer();
    let scan = bytes(b"\x89PNG\r\n\x1a\n", 30_000, 7);
    let n = customer_writes_with_a_file(&s, &from, &scan).await;
    let inbound = inbound_message(&s, n).await;
    assert_eq!(inbound["attachments"][0]["filename"], "scan.png");

    // A text file with bare line feeds and trailing blanks: kept as is, not as text.
    let csv = b"id;name \nok;\xc3\xa4 \n\n\tend".to_vec();
    let grant = upload(&s, n, "admin", "export.csv", "text/csv", csv.len()).await;
    assert_eq!(grant.status, StatusCode::CREATED, "{}", grant.body);
    assert_eq!(grant.body["filename"], "export.csv");
    assert_eq!(grant.body["size"], csv.len());
    assert!(
        grant.body["put"]["headers"]["content-type"] == "text/csv",
        "{}",
        grant.body
    );
    assert!(put_file(&grant.body, csv.clone()).await.is_success());
    let upload_id = grant.body["id"].as_str().unwrap();

    let r = reply(
        &s,
        n,
        "admin",
        json!({
            "text": "Here is the **export**, and your scan back.",
            "attachments": [
                {"upload": upload_id},
                {"message": inbound["id"], "index": 0}
            ]
        }),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let files = r.body["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{}", r.body);
    assert_eq!(files[0]["filename"], "export.csv");
    assert_eq!(files[0]["content_type"], "text/csv");
    assert_eq!(files[0]["size"], csv.len());
    assert_eq!(files[1]["filename"], "scan.png");
    assert_eq!(files[1]["content_type"], "image/png");

    assert_eq!(s.drain_outbox().await, 1);
    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].text.contains("Here is the **export**"),
        "{}",
        sent[0].text
    );
    let html = sent[0].html.as_deref().expect("an HTML part");
    assert!(html.contains("<strong>export</strong>"), "{html}");
    let parsed = MessageParser::default()
        .parse(sent[0].raw.as_bytes())
        .expect("sent MIME parses");
    let attached: Vec<_> = parsed.attachments().collect();
    assert_eq!(attached.len(), 2);
    assert_eq!(attached[0].attachment_name(), Some("export.csv"));
    assert_eq!(
        attached[0].contents(),
        csv.as_slice(),
        "the upload byte for byte"
    );
    assert_eq!(attached[1].attachment_name(), Some("scan.png"));
    assert_eq!(
        attached[1].contents(),
        scan.as_slice(),
        "the customer's file byte for byte"
    );

    // The sent reply keeps its MIME: its files download like received ones, and
    // its raw is what was sent.
    let id = r.body["id"].as_str().unwrap();
    let base = format!("/tickets/{n}/messages/{id}");
    assert_eq!(download(&s, &format!("{base}/attachments/0")).await, csv);
    assert_eq!(download(&s, &format!("{base}/attachments/1")).await, scan);
    assert_eq!(
        download(&s, &format!("{base}/raw")).await,
        sent[0].raw.as_bytes()
    );
}

#[tokio::test]
async fn a_retried_reply_with_files_is_sent_once() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes_with_a_file(&s, &from, b"tiny").await;
    let pdf = bytes(b"%PDF-1.7\n", 5_000, 11);
    let id = uploaded(&s, n, "quote.pdf", "application/pdf", pdf.clone()).await;
    let body = json!({"text": "The quote.", "attachments": [{"upload": id}]});
    let first = reply(&s, n, "admin", body.clone(), Some("files-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = reply(&s, n, "admin", body.clone(), Some("files-1")).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    s.drain_outbox().await;
    let sent = sent_mail_to(&from).await;
    assert_eq!(sent.len(), 1, "sent once");
    let parsed = MessageParser::default()
        .parse(sent[0].raw.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.attachments().next().unwrap().contents(),
        pdf.as_slice()
    );
    let messages = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(messages.body["items"].as_array().unwrap().len(), 2);
}

/// Nothing reached the outbox or SES, and the ticket holds only the customer's message.
async fn nothing_sent_or_stored(s: &Stack, n: u64, from: &str) {
    assert_eq!(s.drain_outbox().await, 0, "nothing queued");
    assert!(sent_mail_to(from).await.is_empty(), "nothing sent");
    let list = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
    let activity = s.get(&format!("/tickets/{n}/activity"), "admin").await;
    assert!(
        !activity.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reply_written"),
        "{}",
        activity.body
    );
}

#[tokio::test]
async fn refused_files_are_named_and_nothing_is_sent_or_stored() {
    let s = Stack::start().await;
    let from = customer();
    let n = customer_writes_with_a_file(&s, &from, b"%PDF-1.4 tiny").await;

    // Refused when asked for: too large, programs by name or type, nonsense.
    assert_problem(
        &upload(&s, n, "admin", "disk.img.zip", "application/zip", 7_000_001).await,
        400,
        "invalid_field",
        Some("size"),
    );
    assert_problem(
        &upload(&s, n, "admin", "setup.exe", "application/octet-stream", 10).await,
        400,
        "invalid_field",
        Some("filename"),
    );
    assert_problem(
        &upload(&s, n, "admin", "tool.bin", "application/x-msdownload", 10).await,
        400,
        "invalid_field",
        Some("filename"),
    );
    assert_problem(
        &upload(&s, n, "admin", "a.txt", "not a type", 10).await,
        400,
        "invalid_field",
        Some("content_type"),
    );
    assert_problem(
        &upload(&s, n, "admin", "../a.txt", "text/plain", 10).await,
        400,
        "invalid_field",
        Some("filename"),
    );

    let text = |attachments: Value| json!({"text": "See attached.", "attachments": attachments});
    // An upload that does not exist.
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"upload": "20260101000000000000-aaaaaaaaaaaa"}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    // Another ticket's upload (PUT and all).
    let other = s.ticket(Stack::ticket_body("Other", json!({}))).await;
    let foreign = uploaded(&s, other, "a.txt", "text/plain", b"other ticket".to_vec()).await;
    let r = reply(&s, n, "admin", text(json!([{"upload": foreign}])), None).await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    // An upload never PUT.
    let grant = upload(&s, n, "admin", "late.txt", "text/plain", 10).await;
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"upload": grant.body["id"]}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("PUT"),
        "{}",
        r.body
    );
    // An upload whose stored bytes are not what was declared (written around the signed PUT).
    let grant = upload(&s, n, "admin", "short.txt", "text/plain", 10).await;
    let uid = grant.body["id"].as_str().unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&s.aws)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket(&s.resources.inbound_bucket)
        .key(format!("uploads/{n}/{uid}"))
        .content_type("text/plain")
        .body(aws_sdk_s3::primitives::ByteStream::from(
            b"twelve bytes".to_vec(),
        ))
        .send()
        .await
        .expect("put");
    let r = reply(&s, n, "admin", text(json!([{"upload": uid}])), None).await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    // A program in disguise.
    let exe = uploaded(
        &s,
        n,
        "invoice.pdf",
        "application/pdf",
        b"MZ\x90\x00 this is a program".to_vec(),
    )
    .await;
    let r = reply(&s, n, "admin", text(json!([{"upload": exe}])), None).await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    // A message the ticket does not have, and an attachment its message does not have.
    let inbound = inbound_message(&s, n).await;
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"message": "20260101000000000000-aaaaaaaaaaaa", "index": 0}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].message"));
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"message": inbound["id"], "index": 5}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].index"));
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"upload": foreign, "index": 0}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0]"));
    // Too much in total: two of the largest files are over the message limit
    // with base64 (refused on what was declared, before anything is read).
    let big: Vec<String> = futures::future::join_all((0..2).map(|_| {
        upload(
            &s,
            n,
            "admin",
            "big.bin",
            "application/octet-stream",
            7_000_000,
        )
    }))
    .await
    .into_iter()
    .map(|g| g.body["id"].as_str().unwrap().to_string())
    .collect();
    let r = reply(
        &s,
        n,
        "admin",
        text(json!([{"upload": big[0]}, {"upload": big[1]}])),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments"));

    nothing_sent_or_stored(&s, n, &from).await;
}

#[tokio::test]
async fn whoever_may_not_see_the_ticket_gets_404_and_cannot_use_its_uploads() {
    let s = Stack::start().await;
    let billing = s
        .ticket(Stack::ticket_body(
            "Billing question",
            json!({"assignee": {"type": "group", "id": "billing"}}),
        ))
        .await;
    // alice (support) may not see a billing ticket.
    assert_problem(
        &upload(&s, billing, "alice", "a.txt", "text/plain", 10).await,
        404,
        "ticket_not_found",
        None,
    );
    let r = reply(
        &s,
        billing,
        "alice",
        json!({"text": "x", "attachments": [{"upload": "20260101000000000000-aaaaaaaaaaaa"}]}),
        None,
    )
    .await;
    assert_problem(&r, 404, "ticket_not_found", None);
    let r = s
        .call(
            reqwest::Method::POST,
            &format!("/tickets/{billing}/uploads"),
            None,
            Some(&json!({"filename": "a.txt", "content_type": "text/plain", "size": 10})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // bob (billing) uploads; alice, on her own ticket, cannot use his file.
    let grant = upload(&s, billing, "bob", "a.txt", "text/plain", 3).await;
    assert_eq!(grant.status, StatusCode::CREATED, "{}", grant.body);
    assert!(put_file(&grant.body, b"abc".to_vec()).await.is_success());
    let own = s
        .ticket(Stack::ticket_body(
            "Support question",
            json!({"assignee": {"type": "group", "id": "support"}}),
        ))
        .await;
    let r = reply(
        &s,
        own,
        "alice",
        json!({"text": "x", "attachments": [{"upload": grant.body["id"]}]}),
        None,
    )
    .await;
    assert_problem(&r, 400, "invalid_field", Some("attachments[0].upload"));
    assert_eq!(s.drain_outbox().await, 0);
}
