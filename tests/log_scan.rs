//! Logs never carry message bodies, attachment names, reply tokens, the token key
//! or mailbox passwords: every log line of a full mail round trip, at the most
//! verbose level a function can be given (`RUST_LOG=trace`, through the same
//! filter the functions apply), captured as the functions write it (JSON, with
//! spans) and searched for the known strings.
//!
//! The round trip: mail with a known body and attachment arrives as SES delivers
//! it (S3 + the S3 event on the inbound queue, through the ingest handler); the
//! indexer plays the stream; an agent reads it over HTTP and replies; the mailer
//! sends the reply to moto's SES; the customer answers to the reply's token; an
//! administrator adds an IMAP mailbox (Dovecot) with a known password, and the
//! poller logs in and fetches a mail with a known body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use desk_imap::{MailboxReport, Poller, PollerConfig};
use desk_ingest::Outcome;
use desk_tests::{sent_mail_to, Stack};
use serde_json::json;

/// Dovecot's password for every user (static passdb in dovecot.sh).
const PASSWORD: &str = "desk-test-password";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

fn imap_port() -> u16 {
    std::env::var("DESK_TEST_IMAP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(14143)
}

fn unique(what: &str) -> String {
    format!("{what}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_full_mail_round_trip_logs_no_body_attachment_name_token_key_or_password() {
    let logs = Captured::default();
    // Installed before the stack's own (which then stays out): this binary's only test.
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(desk_runtime::log_filter("trace"))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(logs.clone()),
        )
        .try_init()
        .expect("the first subscriber of this test binary");

    let s = Stack::start().await;
    let from = format!("{}@example.com", unique("cust"));
    let body = unique("INBOUND-BODY");
    let filename = format!("{}.pdf", unique("ATTACHMENT-NAME"));
    let reply_text = unique("AGENT-REPLY-BODY");
    let answer_text = unique("CUSTOMER-ANSWER-BODY");
    let imap_body = unique("IMAP-BODY");

    // 1. Mail in, exactly as SES delivers it.
    let raw = format!(
        "From: Carol <{from}>\r\nTo: support@desk.example\r\nSubject: Printer\r\nMessage-ID: <{}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/pdf; name=\"{filename}\"\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n",
        uuid::Uuid::new_v4().simple()
    );
    desk_local::provision::deliver(&s.aws, &s.resources, &[raw.into_bytes()])
        .await
        .expect("delivered");
    let ingested = desk_local::workers::drain_once(&s.sqs, &s.resources.inbound_url, &s.inbound, 0)
        .await
        .expect("inbound queue");
    assert_eq!(ingested, 1);
    s.drain_stream().await;
    let list = s.get("/tickets?limit=10", "admin").await;
    let n = list.body["items"][0]["number"]
        .as_u64()
        .expect("the ticket");
    let messages = s.get(&format!("/tickets/{n}/messages"), "admin").await;
    let message = &messages.body["items"][0];
    assert_eq!(message["attachments"][0]["filename"], filename.as_str());
    let download = s
        .http
        .get(format!(
            "{}/tickets/{n}/messages/{}/attachments/0",
            s.base,
            message["id"].as_str().unwrap()
        ))
        .bearer_auth(s.token("admin"))
        .send()
        .await
        .expect("download");
    assert!(download.status().is_success(), "{}", download.status());

    // 2. The agent's reply, sent through the mailer to moto's SES.
    let r = s
        .post(
            &format!("/tickets/{n}/replies"),
            "admin",
            json!({"text": reply_text}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(s.drain_outbox().await, 1);
    let sent = sent_mail_to(&from).await;
    let address = sent[0]
        .header("Reply-To")
        .expect("Reply-To")
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    let token = address
        .split_once('+')
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(t, _)| t.to_string())
        .expect("a token");
    let signature = token.rsplit('.').next().unwrap().to_string();

    // 3. The customer's answer, by the token only.
    let answer = format!(
        "From: {from}\r\nTo: {address}\r\nSubject: AW: model\r\nMessage-ID: <{}@example.com>\r\n\r\n{answer_text}\r\n",
        uuid::Uuid::new_v4().simple()
    );
    assert!(matches!(s.receive(&answer).await, Outcome::Reply(t) if t.get() == n));
    s.drain_stream().await;

    // 4. An IMAP mailbox with a known password, polled.
    let user = unique("u");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap_port()))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Dovecot at 127.0.0.1:{}: {e} — run `make test`",
                imap_port()
            )
        });
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    let mut session = client
        .login(&user, PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let imap_mail = format!(
        "From: Dave <dave@customer.example>\r\nTo: support@desk.example\r\nSubject: Scanner\r\nMessage-ID: <{}@customer.example>\r\n\r\n{imap_body}\r\n",
        uuid::Uuid::new_v4().simple()
    );
    session
        .append("INBOX", None, None, imap_mail.as_bytes())
        .await
        .unwrap();
    session.logout().await.unwrap();
    let m = s
        .post(
            "/mailboxes",
            "admin",
            json!({"name": "Dovecot", "host": "127.0.0.1", "port": imap_port(), "tls": false,
                   "user": user, "password": PASSWORD}),
        )
        .await;
    assert_eq!(m.status.as_u16(), 201, "{}", m.body);
    let cfg = desk_local::local_config(s.store.table(), Some(&s.resources)).unwrap();
    let (mut ingest, raw_store) = poller::ingest(&cfg.poller, s.store.clone(), &s.aws);
    ingest.desk.clock = s.clock.clone();
    let poller = Poller::new(
        ingest.desk.clone(),
        ingest,
        raw_store,
        PollerConfig {
            bucket: s.resources.inbound_bucket.clone(),
            max_per_poll: 25,
            timeout: std::time::Duration::from_secs(20),
            allow_plaintext: true,
        },
    )
    .unwrap();
    let reports = poller.poll_all().await.unwrap();
    assert_eq!(
        reports,
        [MailboxReport {
            mailbox: m.body["id"].as_str().unwrap().into(),
            fetched: 1,
            ingested: 1,
            ..Default::default()
        }]
    );

    // The key ring the functions read.
    let ring = desk_local::reply_keys::read(&s.aws, &s.resources.reply_token_secret)
        .await
        .unwrap();

    let text = logs.text();
    // The capture works, and saw each stage (so the absences below mean something).
    for seen in [
        "\"ingested\"",
        "\"mail sent\"",
        "\"mailbox polled\"",
        "\"mailbox created\"",
    ] {
        assert!(text.contains(seen), "the logs never mention {seen}");
    }
    for (what, secret) in [
        ("the inbound body", body.as_str()),
        ("the attachment's name", filename.as_str()),
        ("the agent's reply", reply_text.as_str()),
        ("the customer's answer", answer_text.as_str()),
        ("the IMAP mail's body", imap_body.as_str()),
        ("the reply token", token.as_str()),
        ("the token's signature", signature.as_str()),
        ("the token key", ring.current.key.as_str()),
        ("the mailbox password", PASSWORD),
    ] {
        if let Some(at) = text.find(secret) {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line: String = text[line_start..line_end].chars().take(600).collect();
            panic!(
                "{what} is in the logs ({} bytes captured): {line}",
                text.len()
            );
        }
    }
}
