//! Exporting a customer's data over HTTP (raw mail in S3 on moto, the table in
//! DynamoDB Local): the archive holds exactly what the API shows of every ticket
//! of that address — the ticket, its messages, each received message's raw MIME
//! and attachments byte for byte, notes, activity — and a manifest whose sizes
//! and SHA-256s match; large archives come by signed link; the export is audited;
//! agents, strangers, unknown customers and bad input are refused and change nothing.

use std::collections::BTreeMap;
use std::io::Read;

use desk_tests::{assert_problem, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/mail/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// A fixture as if `from` sent it, with a Message-ID of its own.
fn from(name: &str, from: &str) -> Vec<u8> {
    let raw = fixture(name);
    let mut out = String::new();
    let mut in_headers = true;
    for line in raw.split_inclusive('\n') {
        if in_headers && line.trim_end().is_empty() {
            in_headers = false;
        }
        if in_headers && line.starts_with("From:") {
            out.push_str(&format!("From: Dave Miller <{from}>\r\n"));
        } else if in_headers && line.starts_with("Message-ID:") {
            out.push_str(&format!(
                "Message-ID: <{}@mail.example.com>\r\n",
                uuid::Uuid::new_v4().simple()
            ));
        } else {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

/// POST `body` to `/exports` as `user` without following redirects.
async fn export(
    s: &Stack,
    user: Option<&str>,
    body: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.post(format!("{}/exports", s.base)).json(body);
    if let Some(u) = user {
        req = req.bearer_auth(s.token(u));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// GET as admin, the raw body.
async fn bytes(s: &Stack, path: &str) -> Vec<u8> {
    let resp = s
        .http
        .get(format!("{}{path}", s.base))
        .bearer_auth(s.token("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.bytes().await.unwrap().to_vec()
}

fn unzip(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP archive");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        assert!(
            out.insert(f.name().unwrap().to_string(), b).is_none(),
            "one entry per path"
        );
    }
    out
}

fn parsed(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    serde_json::from_slice(
        files
            .get(path)
            .unwrap_or_else(|| panic!("{path} in the archive")),
    )
    .unwrap()
}

/// Checks the manifest against the archive; returns it.
fn check_manifest(files: &BTreeMap<String, Vec<u8>>) -> Value {
    let manifest = parsed(files, "manifest.json");
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 1, "every other file is listed");
    let mut total = 0;
    for f in listed {
        let path = f["path"].as_str().unwrap();
        let content = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} listed, not archived"));
        assert_eq!(
            f["bytes"].as_u64().unwrap() as usize,
            content.len(),
            "{path}"
        );
        let sha: String = Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], sha, "{path}");
        total += content.len();
    }
    assert_eq!(manifest["total_bytes"].as_u64().unwrap() as usize, total);
    manifest
}

async fn audit_len(s: &Stack) -> usize {
    let r = s.get("/audit?limit=200", "admin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn the_archive_holds_what_the_api_shows_with_a_matching_manifest() {
    let s = Stack::start().await;
    let customer = format!("dave-{}@example.net", uuid::Uuid::new_v4().simple());
    // Two tickets from the customer (one with a PNG and a ZIP attached), one from
    // someone else, a manual ticket for the customer with a note, and a reply.
    s.deliver(from("gmail-attachment-png-zip.eml", &customer))
        .await;
    s.deliver(from("outlook-attachment-pdf.eml", &customer))
        .await;
    s.deliver(from("gmail-attachment-png-zip.eml", "someone@else.example"))
        .await;
    let manual = s
        .ticket(json!({"name": "Phone call", "customer": {"email": customer.to_uppercase(), "name": "Dave"}}))
        .await;
    let r = s
        .post(
            &format!("/tickets/{manual}/notes"),
            "admin",
            json!({"body": "Called back."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let listed = s
        .get(
            &format!("/tickets?customer={}&sort=created&order=asc", customer),
            "admin",
        )
        .await;
    let numbers: Vec<u64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), 3, "{}", listed.body);
    let r = s
        .post(
            &format!("/tickets/{}/replies", numbers[0]),
            "admin",
            json!({"text": "Thanks, looking into it."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let before = audit_len(&s).await;
    let (status, headers, body) = export(&s, Some("admin"), &json!({"customer": customer})).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/zip");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename*=UTF-8''export-"));
    let files = unzip(&body);
    let manifest = check_manifest(&files);
    assert_eq!(manifest["customer"], customer);
    assert_eq!(manifest["exported_by"], "admin");
    assert_eq!(manifest["tickets"], json!(numbers));

    let mut attachments = 0;
    for n in &numbers {
        let dir = format!("tickets/{n}");
        let ticket = s.get(&format!("/tickets/{n}"), "admin").await.body;
        assert_eq!(parsed(&files, &format!("{dir}/ticket.json")), ticket);
        let messages = s
            .get(&format!("/tickets/{n}/messages?limit=500"), "admin")
            .await
            .body;
        assert_eq!(
            parsed(&files, &format!("{dir}/messages.json")),
            messages["items"]
        );
        for m in messages["items"].as_array().unwrap() {
            let id = m["id"].as_str().unwrap();
            let raw_path = format!("{dir}/messages/{id}.eml");
            // Received mail as received, replies as sent: both byte for byte.
            let raw = bytes(&s, &format!("/tickets/{n}/messages/{id}/raw")).await;
            assert!(files[&raw_path] == raw, "{raw_path} byte for byte");
            for a in m["attachments"].as_array().unwrap() {
                let index = a["index"].as_u64().unwrap();
                let expected = bytes(
                    &s,
                    &format!("/tickets/{n}/messages/{id}/attachments/{index}"),
                )
                .await;
                let name = a["filename"].as_str().unwrap();
                let path = format!("{dir}/messages/{id}/attachments/{index}-{name}");
                assert!(
                    files.get(&path) == Some(&expected),
                    "{path} byte for byte (archive holds {:?})",
                    files.keys().collect::<Vec<_>>()
                );
                attachments += 1;
            }
        }
        let notes = s
            .get(&format!("/tickets/{n}/notes?limit=500"), "admin")
            .await
            .body;
        assert_eq!(parsed(&files, &format!("{dir}/notes.json")), notes["items"]);
        let activity = s
            .get(&format!("/tickets/{n}/activity?limit=500"), "admin")
            .await
            .body;
        assert_eq!(
            parsed(&files, &format!("{dir}/activity.json")),
            activity["items"]
        );
    }
    assert!(
        attachments >= 3,
        "the PNG, the ZIP and the PDF: {attachments}"
    );
    assert!(parsed(&files, &format!("tickets/{manual}/notes.json"))[0]["body"] == "Called back.");
    // Nothing of the other customer's.
    assert!(files.keys().all(|p| p == "manifest.json"
        || numbers
            .iter()
            .any(|n| p.starts_with(&format!("tickets/{n}/")))));
    assert!(!body
        .windows(b"someone@else.example".len())
        .any(|w| w == b"someone@else.example"));

    // One audit entry: who exported whom, with the archive's size and hash.
    assert_eq!(audit_len(&s).await, before + 1);
    let entry = s.get("/audit?limit=1", "admin").await.body["items"][0].clone();
    assert_eq!(entry["action"], "customer.exported");
    assert_eq!(entry["target"], customer);
    assert_eq!(entry["actor"], json!({"type": "user", "id": "admin"}));
    let sha: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let changes = &entry["changes"];
    assert!(changes
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "sha256" && c["to"] == sha));
    assert!(changes
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "tickets" && c["to"] == 3));
}

#[tokio::test]
async fn a_large_archive_comes_by_signed_link() {
    let s = Stack::start().await;
    // 3.5 MB decoded, 4.7 MB as raw base64 MIME: the archive holds both (over 4 MiB).
    let (raw, payload) = desk_local::mail_with_attachment(3_500_000);
    s.deliver(raw.clone()).await;
    let (status, headers, _) =
        export(&s, Some("admin"), &json!({"customer": "big@example.org"})).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let link = headers["location"].to_str().unwrap().to_string();
    assert!(
        link.contains("X-Amz-Signature=") && link.contains("downloads/exports/"),
        "{link}"
    );
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let files = unzip(&fetched.bytes().await.unwrap());
    check_manifest(&files);
    let eml: Vec<_> = files.keys().filter(|p| p.ends_with(".eml")).collect();
    assert_eq!(eml.len(), 1);
    assert!(files[eml[0]] == raw, "the raw message byte for byte");
    let img: Vec<_> = files.keys().filter(|p| p.ends_with("-disk.img")).collect();
    assert_eq!(img.len(), 1, "{:?}", files.keys());
    assert!(files[img[0]] == payload, "the attachment byte for byte");
}

#[tokio::test]
async fn refusals_are_clear_and_change_nothing() {
    let s = Stack::start().await;
    let customer = "carol@example.com";
    s.ticket(Stack::ticket_body("Printer", json!({}))).await;
    let before = audit_len(&s).await;

    let problem = |status, headers, body: Vec<u8>| desk_tests::Reply {
        status,
        headers,
        body: serde_json::from_slice(&body).unwrap(),
    };
    let (st, h, b) = export(&s, Some("alice"), &json!({"customer": customer})).await;
    assert_problem(&problem(st, h, b), 403, "forbidden", None);
    let (st, _, _) = export(&s, None, &json!({"customer": customer})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, h, b) = export(
        &s,
        Some("admin"),
        &json!({"customer": "nobody@example.com"}),
    )
    .await;
    assert_problem(&problem(st, h, b), 404, "customer_not_found", None);
    let (st, h, b) = export(&s, Some("admin"), &json!({"customer": "not an address"})).await;
    assert_problem(&problem(st, h, b), 400, "invalid_field", Some("customer"));
    let (st, h, b) = export(&s, Some("admin"), &json!({})).await;
    assert_problem(&problem(st, h, b), 400, "missing_field", Some("customer"));
    let (st, h, b) = export(&s, Some("admin"), &json!({"customer": customer, "x": 1})).await;
    assert_problem(&problem(st, h, b), 400, "unknown_field", Some("x"));
    assert_problem(
        &s.get("/exports", "admin").await,
        405,
        "method_not_allowed",
        None,
    );

    // More tickets than one export holds: refused before anything is read or recorded.
    let admin = s.desk.caller("admin").await.unwrap();
    let many = "many@example.com";
    for i in 0..=desk_domain::export::MAX_TICKETS {
        let input = serde_json::from_value(
            json!({"name": format!("T{i}"), "customer": {"email": many, "name": "Many"}}),
        )
        .unwrap();
        s.desk.create_ticket(&admin, input).await.unwrap();
    }
    let (st, h, b) = export(&s, Some("admin"), &json!({"customer": many})).await;
    assert_problem(&problem(st, h, b), 409, "export_too_large", None);

    // Nothing recorded, nothing stored under downloads/.
    assert_eq!(audit_len(&s).await, before);
    let s3 = aws_sdk_s3::Client::new(&s.aws);
    let listed = s3
        .list_objects_v2()
        .bucket(&s.resources.inbound_bucket)
        .prefix("downloads/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
}
