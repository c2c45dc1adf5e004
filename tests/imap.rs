//! IMAP mailboxes end to end: the admin API over HTTP (passwords in SSM on moto,
//! never returned), and the poller against a real Dovecot that `make test` starts
//! (`infra/scripts/dovecot.sh`; its port in `DESK_TEST_IMAP_PORT`, IMAPS on the
//! next port). Each test logs in as its own Dovecot user, so it sees only its mail.

use desk_domain::mailbox::Mailbox;
use desk_dynamo::DynamoStore;
use desk_imap::{MailboxReport, Poller, PollerConfig, PROCESSED};
use desk_tests::{assert_problem, Stack};
use futures::TryStreamExt;
use serde_json::{json, Value};

/// Dovecot's password for every user (static passdb in dovecot.sh).
const PASSWORD: &str = "desk-test-password";

fn imap_port() -> u16 {
    std::env::var("DESK_TEST_IMAP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(14143)
}

fn fresh_user() -> String {
    format!("u{}", uuid::Uuid::new_v4().simple())
}

/// A test's own IMAP session on Dovecot (to append and inspect mail).
struct Imap {
    session: async_imap::Session<tokio::net::TcpStream>,
}

impl Imap {
    async fn login(user: &str) -> Imap {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap_port()))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Dovecot at 127.0.0.1:{}: {e} — run `make test` (infra/scripts/dovecot.sh)",
                    imap_port()
                )
            });
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        let mut session = client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        session.select("INBOX").await.unwrap();
        Imap { session }
    }

    async fn append(&mut self, from: &str, subject: &str, body: &str) {
        let raw = format!(
            "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{}@customer.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n",
            uuid::Uuid::new_v4().simple()
        );
        self.session
            .append("INBOX", None, None, raw.as_bytes())
            .await
            .unwrap();
    }

    /// (uid, flags) of every message, by uid.
    async fn flags(&mut self) -> Vec<(u32, Vec<String>)> {
        self.session.noop().await.unwrap();
        let fetches: Vec<_> = self
            .session
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut out: Vec<(u32, Vec<String>)> = fetches
            .iter()
            .map(|f| {
                (
                    f.uid.unwrap_or(0),
                    f.flags().map(|fl| format!("{fl:?}")).collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    async fn processed(&mut self) -> Vec<bool> {
        self.flags()
            .await
            .into_iter()
            .map(|(_, f)| f.iter().any(|x| x.contains(PROCESSED)))
            .collect()
    }

    async fn unmark(&mut self, uid: u32) {
        let _: Vec<_> = self
            .session
            .uid_store(uid.to_string(), format!("-FLAGS.SILENT ({PROCESSED})"))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
    }
}

fn poller_config(s: &Stack) -> PollerConfig {
    PollerConfig {
        bucket: s.resources.inbound_bucket.clone(),
        max_per_poll: 25,
        timeout: std::time::Duration::from_secs(20),
        allow_plaintext: true,
    }
}

/// The poller as the poller function wires it, over `store` (the test's table by default).
fn poller_over(s: &Stack, store: DynamoStore, config: PollerConfig) -> Poller {
    let cfg = desk_local::local_config(s.store.table(), Some(&s.resources)).unwrap();
    let (mut ingest, raw) = poller::ingest(&cfg.poller, store, &s.aws);
    ingest.desk.clock = s.clock.clone();
    Poller::new(ingest.desk.clone(), ingest, raw, config).unwrap()
}

fn poller(s: &Stack) -> Poller {
    poller_over(s, s.store.clone(), poller_config(s))
}

/// Creates a mailbox through the API; returns its JSON.
async fn mailbox(s: &Stack, body: Value) -> Value {
    let r = s.post("/mailboxes", "admin", body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body
}

fn dovecot_mailbox(user: &str) -> Value {
    json!({"name": "Dovecot", "host": "127.0.0.1", "port": imap_port(), "tls": false,
           "user": user, "password": PASSWORD})
}

async fn stored(s: &Stack, id: &str) -> Mailbox {
    s.desk
        .mailboxes
        .get_mailbox(id)
        .await
        .unwrap()
        .expect("mailbox stored")
}

async fn tickets(s: &Stack) -> Vec<Value> {
    let r = s
        .get("/tickets?limit=100&sort=created&order=asc", "admin")
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

async fn ssm_value(s: &Stack, id: &str) -> Option<String> {
    let ssm = aws_sdk_ssm::Client::new(&s.aws);
    let name = format!("/service-desk/{}/mailboxes/{id}/password", s.store.table());
    match ssm
        .get_parameter()
        .name(&name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(out) => {
            let p = out.parameter.expect("parameter");
            assert_eq!(
                p.r#type,
                Some(aws_sdk_ssm::types::ParameterType::SecureString)
            );
            p.value
        }
        Err(e) => {
            let code = e.as_service_error().map(|se| {
                aws_sdk_ssm::error::ProvideErrorMetadata::code(se)
                    .unwrap_or("")
                    .to_string()
            });
            assert_eq!(code.as_deref(), Some("ParameterNotFound"), "{e:?}");
            None
        }
    }
}

#[tokio::test]
async fn admins_manage_mailboxes_and_the_password_is_write_only() {
    let s = Stack::start().await;
    let secret = "correct horse battery staple";
    let created = mailbox(
        &s,
        json!({"name": " Support ", "host": "IMAP.Example.com", "user": "support@example.com", "password": secret}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("mb") && id.len() == 14, "{id}");
    assert_eq!(created["name"], "Support");
    assert_eq!(created["host"], "imap.example.com");
    assert_eq!(
        (created["port"].as_u64(), created["tls"].as_bool()),
        (Some(993), Some(true))
    );
    assert_eq!(
        (created["folder"].as_str(), created["enabled"].as_bool()),
        (Some("INBOX"), Some(true))
    );
    assert_eq!(created["last_poll_at"], Value::Null);
    assert!(created.get("password").is_none(), "{created}");
    assert!(!created.to_string().contains(secret));
    // Kept in SSM Parameter Store as a SecureString, not in the table.
    assert_eq!(ssm_value(&s, &id).await.as_deref(), Some(secret));

    let one = s.get(&format!("/mailboxes/{id}"), "admin").await;
    assert_eq!(one.status.as_u16(), 200);
    assert_eq!(one.body, created);
    let list = s.get("/mailboxes", "admin").await;
    assert_eq!(list.body["items"], json!([created.clone()]));
    assert!(!list.body.to_string().contains(secret));

    // PUT without a password keeps it; with one replaces it.
    let r = s
        .put(
            &format!("/mailboxes/{id}"),
            "admin",
            json!({"name": "Sales", "host": "imap.example.org", "user": "sales", "tls": false, "enabled": false, "folder": "Desk"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["port"].as_u64()),
        (Some("Sales"), Some(143))
    );
    assert_eq!(
        (r.body["enabled"].as_bool(), r.body["folder"].as_str()),
        (Some(false), Some("Desk"))
    );
    assert_eq!(r.body["created_at"], created["created_at"]);
    assert_eq!(ssm_value(&s, &id).await.as_deref(), Some(secret));
    let r = s
        .put(
            &format!("/mailboxes/{id}"),
            "admin",
            json!({"name": "Sales", "host": "imap.example.org", "user": "sales", "password": "new-pw"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(r.body.get("password").is_none());
    assert_eq!(ssm_value(&s, &id).await.as_deref(), Some("new-pw"));

    // Delete takes the password with it.
    assert_eq!(
        s.delete(&format!("/mailboxes/{id}"), "admin")
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(ssm_value(&s, &id).await, None);
    assert_problem(
        &s.get(&format!("/mailboxes/{id}"), "admin").await,
        404,
        "mailbox_not_found",
        None,
    );
    assert_problem(
        &s.delete(&format!("/mailboxes/{id}"), "admin").await,
        404,
        "mailbox_not_found",
        None,
    );
    assert_eq!(s.get("/mailboxes", "admin").await.body["items"], json!([]));
}

#[tokio::test]
async fn agents_are_refused_and_strangers_unauthenticated() {
    let s = Stack::start().await;
    let m = mailbox(&s, dovecot_mailbox("x")).await;
    let path = format!("/mailboxes/{}", m["id"].as_str().unwrap());
    let body = dovecot_mailbox("y");
    for r in [
        s.get("/mailboxes", "alice").await,
        s.post("/mailboxes", "alice", body.clone()).await,
        s.get(&path, "alice").await,
        s.put(&path, "alice", body.clone()).await,
        s.delete(&path, "alice").await,
        // Refused before the body is read: a bad body does not tell agents more.
        s.post("/mailboxes", "bob", json!({"host": ""})).await,
    ] {
        assert_problem(&r, 403, "forbidden", None);
    }
    for (method, p) in [
        (reqwest::Method::GET, "/mailboxes"),
        (reqwest::Method::POST, "/mailboxes"),
        (reqwest::Method::GET, path.as_str()),
        (reqwest::Method::DELETE, path.as_str()),
    ] {
        let r = s.call(method, p, None, Some(&body)).await;
        assert_eq!(r.status.as_u16(), 401, "{p}: {}", r.body);
    }
    // Nothing changed.
    assert_eq!(
        s.get("/mailboxes", "admin").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let s = Stack::start().await;
    let good = json!({"name": "n", "host": "imap.example.com", "user": "u", "password": "pw"});
    for (field, value) in [
        ("name", json!("   ")),
        ("host", json!("")),
        ("host", json!("imaps://imap.example.com")),
        ("host", json!("imap.example.com:993")),
        ("host", json!(" imap.example.com")),
        ("port", json!(0)),
        ("port", json!(70000)),
        ("port", json!(993.5)),
        ("port", json!("993")),
        ("tls", json!("yes")),
        ("user", json!("")),
        ("user", json!("a\u{7}b")),
        ("folder", json!("")),
        ("password", json!("")),
        ("password", json!("line\nbreak")),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let r = s.post("/mailboxes", "admin", body).await;
        assert_eq!(r.status.as_u16(), 400, "{field}={value}: {}", r.body);
        assert_eq!(r.body["field"], field, "{field}={value}: {}", r.body);
    }
    let mut no_password = good.clone();
    no_password.as_object_mut().unwrap().remove("password");
    let r = s.post("/mailboxes", "admin", no_password).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.body);
    assert!(r.body.to_string().contains("password"), "{}", r.body);
    let mut unknown = good.clone();
    unknown["passwd"] = json!("x");
    let r = s.post("/mailboxes", "admin", unknown).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.body);
    assert!(r.body.to_string().contains("passwd"), "{}", r.body);
    // Nothing was stored by the refusals.
    assert_eq!(s.get("/mailboxes", "admin").await.body["items"], json!([]));
    // Ids that cannot exist, and a PUT of bad data to a real one.
    assert_problem(
        &s.get("/mailboxes/nope", "admin").await,
        404,
        "mailbox_not_found",
        None,
    );
    assert_problem(
        &s.get("/mailboxes/mb000000000000", "admin").await,
        404,
        "mailbox_not_found",
        None,
    );
    let m = mailbox(&s, good.clone()).await;
    let mut bad = good.clone();
    bad["host"] = json!("a b");
    let r = s
        .put(
            &format!("/mailboxes/{}", m["id"].as_str().unwrap()),
            "admin",
            bad,
        )
        .await;
    assert_problem(&r, 400, "invalid_field", Some("host"));
}

#[tokio::test]
async fn new_mail_becomes_tickets_once_and_is_marked_after_the_commit() {
    let s = Stack::start().await;
    let user = fresh_user();
    let mut imap = Imap::login(&user).await;
    for i in 1..=3 {
        imap.append(
            &format!("Customer {i} <c{i}@customer.example>"),
            &format!("Printer {i} is on fire"),
            "Please help.",
        )
        .await;
    }
    let m = mailbox(&s, dovecot_mailbox(&user)).await;
    let id = m["id"].as_str().unwrap();
    let p = poller(&s);

    let reports = p.poll_all().await.unwrap();
    assert_eq!(
        reports,
        [MailboxReport {
            mailbox: id.into(),
            fetched: 3,
            ingested: 3,
            ..Default::default()
        }]
    );
    let ts = tickets(&s).await;
    assert_eq!(ts.len(), 3);
    for (i, t) in ts.iter().enumerate() {
        assert_eq!(t["source"], "imap");
        assert_eq!(t["name"], format!("Printer {} is on fire", i + 1));
        assert_eq!(
            t["customer"]["email"],
            format!("c{}@customer.example", i + 1)
        );
    }
    // Marked processed, and never marked read (BODY.PEEK).
    let flags = imap.flags().await;
    assert_eq!(flags.len(), 3);
    for (_, f) in &flags {
        assert!(f.iter().any(|x| x.contains(PROCESSED)), "{f:?}");
        assert!(!f.iter().any(|x| x == "Seen"), "{f:?}");
    }
    // The raw message is kept where the delivery says, under the message's identity.
    let number = desk_domain::TicketNumber::parse(&ts[0]["number"].to_string()).unwrap();
    let messages = s.stored_messages(number).await;
    let validity_uid = messages[0]
        .delivery_id
        .strip_prefix(&format!("imap:{id}:"))
        .unwrap()
        .to_string();
    let key = format!("imap/{id}/{}", validity_uid.replace(':', "/"));
    assert_eq!(
        messages[0].raw_key,
        format!("s3://{}/{key}", s.resources.inbound_bucket)
    );
    let raw = aws_sdk_s3::Client::new(&s.aws)
        .get_object()
        .bucket(&s.resources.inbound_bucket)
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(String::from_utf8_lossy(&raw).contains("Subject: Printer 1 is on fire"));
    let polled = stored(&s, id).await;
    assert!(polled.last_poll_at.is_some());
    assert_eq!((polled.last_error, polled.last_ingested), (None, 3));

    // Nothing new: nothing fetched, nothing written.
    let again = p.poll_all().await.unwrap();
    assert_eq!((again[0].fetched, again[0].ingested), (0, 0));
    assert_eq!(tickets(&s).await.len(), 3);
    assert_eq!(stored(&s, id).await.last_ingested, 0);

    // A reply goes through the same threading as SES mail: it joins its ticket.
    let first = ts[0]["number"].as_u64().unwrap();
    imap.append(
        "Customer 1 <c1@customer.example>",
        &format!("Re: [#{first}] Printer 1 is on fire"),
        "Still burning.",
    )
    .await;
    let r = p.poll_all().await.unwrap();
    assert_eq!((r[0].fetched, r[0].ingested), (1, 1));
    assert_eq!(tickets(&s).await.len(), 3);
    let messages = s.stored_messages(number).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(imap.processed().await, [true, true, true, true]);
}

#[tokio::test]
async fn a_failed_ingest_leaves_the_message_for_the_next_poll() {
    let s = Stack::start().await;
    let user = fresh_user();
    let mut imap = Imap::login(&user).await;
    imap.append("Dana <dana@customer.example>", "Lost my password", "Hi")
        .await;
    let m = mailbox(&s, dovecot_mailbox(&user)).await;
    let id = m["id"].as_str().unwrap();
    let mailbox = stored(&s, id).await;

    // The same poller over a DynamoDB that does not answer (a closed port, no retries):
    // the ticket write cannot commit, so the message must stay unmarked.
    let dead = desk_tests::unreachable_dynamo_client();
    let down = poller_over(
        &s,
        DynamoStore::new(dead, s.store.table()),
        poller_config(&s),
    );
    let report = down.poll_and_record(&mailbox).await;
    assert_eq!(
        (report.fetched, report.ingested, report.failed),
        (1, 0, 1),
        "{report:?}"
    );
    assert!(
        report
            .error
            .as_deref()
            .unwrap_or("")
            .contains("will be retried"),
        "{report:?}"
    );
    assert_eq!(imap.processed().await, [false]);
    assert!(tickets(&s).await.is_empty());

    // Storage is back: the next poll ingests it, exactly once.
    let p = poller(&s);
    let r = p.poll_all().await.unwrap();
    assert_eq!(
        (r[0].fetched, r[0].ingested, r[0].failed),
        (1, 1, 0),
        "{r:?}"
    );
    assert_eq!(imap.processed().await, [true]);
    assert_eq!(tickets(&s).await.len(), 1);
    assert_eq!(stored(&s, id).await.last_error, None);
    let r = p.poll_all().await.unwrap();
    assert_eq!(r[0].fetched, 0);
    assert_eq!(tickets(&s).await.len(), 1);
}

#[tokio::test]
async fn a_refetch_after_a_lost_mark_is_recorded_once() {
    let s = Stack::start().await;
    let user = fresh_user();
    let mut imap = Imap::login(&user).await;
    imap.append(
        "Eve <eve@customer.example>",
        "VPN down",
        "Since this morning.",
    )
    .await;
    imap.append(
        "Finn <finn@customer.example>",
        "New laptop",
        "Please order one.",
    )
    .await;
    mailbox(&s, dovecot_mailbox(&user)).await;
    let p = poller(&s);
    p.poll_all().await.unwrap();
    assert_eq!(tickets(&s).await.len(), 2);
    // The poller crashed after the commit, before marking (the mark is lost): the
    // message is fetched again, recognised by its delivery id, and only marked.
    let (uid, _) = imap.flags().await[0].clone();
    imap.unmark(uid).await;
    // Two pollers racing for it record it once too.
    let q = poller(&s);
    let (a, b) = tokio::join!(p.poll_all(), q.poll_all());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a[0].ingested + b[0].ingested, 0, "{a:?} {b:?}");
    assert!(a[0].duplicates + b[0].duplicates >= 1, "{a:?} {b:?}");
    assert_eq!(tickets(&s).await.len(), 2);
    assert_eq!(imap.processed().await, [true, true]);
}

#[tokio::test]
async fn poll_failures_are_recorded_on_the_mailbox() {
    let s = Stack::start().await;
    let user = fresh_user();
    let mut imap = Imap::login(&user).await;
    imap.append("Gus <gus@customer.example>", "Hello", "Hi")
        .await;
    let wrong = "not-the-password";
    let mut body = dovecot_mailbox(&user);
    body["password"] = json!(wrong);
    let bad = mailbox(&s, body).await;
    // Certificates are verified: Dovecot's self-signed one is refused.
    let mut tls = dovecot_mailbox(&user);
    tls["tls"] = json!(true);
    tls["host"] = json!("localhost");
    tls["port"] = json!(imap_port() + 1);
    let tls = mailbox(&s, tls).await;
    let mut folder = dovecot_mailbox(&user);
    folder["folder"] = json!("NoSuchFolder");
    let folder = mailbox(&s, folder).await;
    let mut off = dovecot_mailbox(&user);
    off["enabled"] = json!(false);
    let off = mailbox(&s, off).await;

    let reports = poller(&s).poll_all().await.unwrap();
    assert_eq!(
        reports.len(),
        3,
        "the disabled mailbox is not polled: {reports:?}"
    );
    let error_of = |m: &Value| {
        reports
            .iter()
            .find(|r| r.mailbox == m["id"].as_str().unwrap())
            .and_then(|r| r.error.clone())
            .unwrap_or_default()
    };
    assert!(
        error_of(&bad).contains("login refused"),
        "{}",
        error_of(&bad)
    );
    assert!(
        error_of(&tls).to_lowercase().contains("certificate"),
        "{}",
        error_of(&tls)
    );
    assert!(
        error_of(&folder).contains("NoSuchFolder"),
        "{}",
        error_of(&folder)
    );
    for m in [&bad, &tls, &folder] {
        let r = s
            .get(
                &format!("/mailboxes/{}", m["id"].as_str().unwrap()),
                "admin",
            )
            .await;
        let e = r.body["last_error"].as_str().unwrap_or("");
        assert_eq!(e, error_of(m));
        assert!(!e.contains(wrong) && !e.contains(PASSWORD), "{e}");
        assert!(r.body["last_poll_at"].is_string(), "{}", r.body);
    }
    let r = s
        .get(
            &format!("/mailboxes/{}", off["id"].as_str().unwrap()),
            "admin",
        )
        .await;
    assert_eq!(r.body["last_poll_at"], Value::Null);
    assert!(tickets(&s).await.is_empty());
    assert_eq!(imap.processed().await, [false]);

    // A deployment without plain-text IMAP refuses to send the password in clear.
    let mailbox = stored(&s, bad["id"].as_str().unwrap()).await;
    let strict = poller_over(
        &s,
        s.store.clone(),
        PollerConfig {
            allow_plaintext: false,
            ..poller_config(&s)
        },
    );
    let r = strict.poll_and_record(&mailbox).await;
    assert!(r
        .error
        .unwrap_or_default()
        .contains("plain-text IMAP is disabled"));

    // Fixing the password through the API heals it.
    let r = s
        .put(
            &format!("/mailboxes/{}", bad["id"].as_str().unwrap()),
            "admin",
            json!({"name": "Dovecot", "host": "127.0.0.1", "port": imap_port(), "tls": false, "user": user, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let reports = poller(&s).poll_all().await.unwrap();
    let healed = reports
        .iter()
        .find(|r| r.mailbox == bad["id"].as_str().unwrap())
        .unwrap();
    assert_eq!((healed.ingested, healed.error.as_deref()), (1, None));
    assert_eq!(
        stored(&s, bad["id"].as_str().unwrap()).await.last_error,
        None
    );
}
