//! Test harness: a fresh table in DynamoDB Local (created from template.yaml), the
//! API handler served over real HTTP on an ephemeral port, and a directory with
//! `admin`, `alice` (agent, support) and `bob` (agent, billing).
//!
//! Needs DynamoDB Local; `make test` starts one and sets `DESK_TEST_DYNAMO`.

use std::net::SocketAddr;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use desk_api::{App, Authenticator, DevIssuer};
use desk_domain::directory::{NewGroup, NewUser};
use desk_domain::Desk;
use desk_dynamo::{CallCounter, DynamoStore};
use desk_jobs::mailer::Mailer;
use desk_local::provision::Resources;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use serde_json;

/// DynamoDB Local's endpoint: `DESK_TEST_DYNAMO`, default `http://127.0.0.1:8100`.
pub fn dynamo_endpoint() -> String {
    std::env::var("DESK_TEST_DYNAMO").unwrap_or_else(|_| "http://127.0.0.1:8100".into())
}

/// moto's endpoint (S3, SQS, SES, EventBridge): `DESK_TEST_MOTO`, default `http://127.0.0.1:5105`.
pub fn moto_endpoint() -> String {
    std::env::var("DESK_TEST_MOTO").unwrap_or_else(|_| "http://127.0.0.1:5105".into())
}

/// SDK configuration for moto.
pub fn moto_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            Credentials::new("local", "local", None, None, "tests"),
        ))
        .build()
}

pub fn dynamo_client(counter: Option<CallCounter>) -> aws_sdk_dynamodb::Client {
    let mut b = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(dynamo_endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"));
    if let Some(c) = counter {
        b = b.interceptor(c);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

/// A client for a DynamoDB that does not answer (a closed port, no SDK retries):
/// every call fails fast, as during an outage.
pub fn unreachable_dynamo_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
            .retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(1),
            )
            .build(),
    )
}

/// A fresh table, named uniquely, created from template.yaml.
pub async fn fresh_table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    desk_local::template::ensure_table(client, &name)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "creating {name} in DynamoDB Local at {} failed: {e} — run `make test`",
                dynamo_endpoint()
            )
        });
    name
}

pub struct Stack {
    /// The ingest handler (SQS records of S3 events), as the ingest function runs it.
    pub inbound: desk_jobs::inbound::Inbound,
    pub aws: aws_config::SdkConfig,
    /// Every component's clock; tests move time with it.
    pub clock: std::sync::Arc<desk_domain::ports::OffsetClock>,
    pub mailer: Mailer,
    /// The expiry function's desk (cases and events only), as it is deployed.
    pub expiry: Desk,
    pub resources: Resources,
    pub sqs: aws_sdk_sqs::Client,
    pub base: String,
    pub http: reqwest::Client,
    pub issuer: DevIssuer,
    pub counter: CallCounter,
    pub store: DynamoStore,
    pub desk: Desk,
    pub addr: SocketAddr,
    /// The indexer function's handler and the table's stream, played as the
    /// event source mapping plays it (`drain_stream`).
    pub indexer: std::sync::Arc<desk_jobs::indexer::Indexer>,
    pub stream: tokio::sync::Mutex<desk_local::stream::StreamSource>,
}

/// An HTTP reply: status, headers, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// Tickets per posting block in tests.
pub const TEST_BLOCK_SIZE: u64 = 4;

impl Stack {
    pub async fn start() -> Stack {
        // Storage errors are logged (not sent to clients): show them in failing tests.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .with_test_writer()
            .try_init();
        let counter = CallCounter::default();
        let client = dynamo_client(Some(counter.clone()));
        let table = fresh_table(&client).await;
        let store = DynamoStore::new(client, table.clone());
        // Blocks of 4 tickets, so that a test's few tickets cross sealing:
        // searches read sealed postings, the open tail and blocks being sealed.
        store
            .set_posting_blocks(desk_dynamo::blocks::Blocks::initial(TEST_BLOCK_SIZE))
            .await
            .expect("blocks item");
        let issuer = DevIssuer::new(uuid::Uuid::new_v4().to_string().repeat(2).into_bytes());
        let aws = moto_config();
        let resources = desk_local::provision::provision(&aws, &table, "support@desk.example")
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "provisioning on moto at {} failed: {e} — run `make test`",
                    moto_endpoint()
                )
            });
        let config = desk_local::local_config(&table, Some(&resources)).expect("config");
        let mut wired = desk_local::compose(&config, store.clone(), &aws);
        let clock = std::sync::Arc::new(desk_domain::ports::OffsetClock::default());
        wired.desk.clock = clock.clone();
        wired.mailer.clock = clock.clone();
        wired.inbound.ingest.desk.clock = clock.clone();
        wired.expiry.clock = clock.clone();
        let desk = wired.desk;
        let stream = desk_local::stream::StreamSource::open(&aws, &dynamo_endpoint(), &table)
            .await
            .expect("the table's stream in DynamoDB Local");
        let app = App {
            desk: desk.clone(),
            auth: Authenticator::Dev(issuer.clone()),
        };
        let (addr, _task) = desk_local::server::spawn(app, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind an ephemeral port on loopback");
        let stack = Stack {
            inbound: wired.inbound,
            expiry: wired.expiry,
            aws: aws.clone(),
            clock,
            mailer: wired.mailer,
            resources,
            sqs: aws_sdk_sqs::Client::new(&aws),
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            issuer,
            counter,
            store,
            desk,
            addr,
            indexer: wired.indexer,
            stream: tokio::sync::Mutex::new(stream),
        };
        stack.seed_directory().await;
        stack.counter.take();
        stack
    }

    async fn seed_directory(&self) {
        let admin = desk_local::seed::bootstrap_admin(&self.desk, "admin")
            .await
            .expect("admin");
        for g in ["support", "billing"] {
            let input: NewGroup =
                serde_json::from_value(json!({"id": g, "name": g})).expect("group json");
            self.desk.create_group(&admin, input).await.expect("group");
        }
        for (u, g) in [("alice", "support"), ("bob", "billing")] {
            let input: NewUser = serde_json::from_value(json!({
                "id": u, "name": u, "email": format!("{u}@desk.example"), "role": "agent", "groups": [g]
            }))
            .expect("user json");
            self.desk.create_user(&admin, input).await.expect("user");
        }
    }

    /// Delivers `raw` as SES would (a new delivery id each call) through ingest.
    pub async fn receive(&self, raw: &str) -> desk_ingest::Outcome {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.inbound
            .ingest
            .ingest(&ses_delivery(&id), raw.as_bytes())
            .await
            .expect("ingest")
    }

    /// Delivers `raw` on the production path (the raw message in S3, its event on
    /// SQS) and runs the ingest handler until the queue is empty.
    pub async fn deliver(&self, raw: Vec<u8>) {
        desk_local::provision::deliver(&self.aws, &self.resources, &[raw])
            .await
            .expect("deliver");
        while desk_local::workers::drain_once(
            &self.sqs,
            &self.resources.inbound_url,
            &self.inbound,
            1,
        )
        .await
        .expect("inbound queue")
            > 0
        {}
    }

    /// Plays the table's stream to its end through the indexer: what was written
    /// so far is then searchable, counted and announced. Returns the records applied.
    pub async fn drain_stream(&self) -> usize {
        let mut stream = self.stream.lock().await;
        let n = stream
            .drain(&self.indexer)
            .await
            .expect("reading the table's stream");
        assert!(
            stream.set_aside.is_empty(),
            "stream records the indexer could not apply: {:?}",
            stream.set_aside
        );
        n
    }

    pub fn token(&self, user: &str) -> String {
        self.issuer.issue(user, 3600).expect("token")
    }

    /// Sends a request as `user` (None: no Authorization header).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(u) = user {
            req = req.bearer_auth(self.token(u));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request reaches the local server");
        Self::reply(resp).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))
        };
        let problem = headers.get("content-type").and_then(|v| v.to_str().ok())
            == Some("application/problem+json");
        if problem {
            assert_contract_code(body["code"].as_str().unwrap_or_default());
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, user: &str) -> Reply {
        self.call(Method::GET, path, Some(user), None).await
    }
    pub async fn post(&self, path: &str, user: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(user), Some(&body)).await
    }
    pub async fn patch(&self, path: &str, user: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(user), Some(&body))
            .await
    }
    pub async fn put(&self, path: &str, user: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(user), Some(&body)).await
    }
    pub async fn delete(&self, path: &str, user: &str) -> Reply {
        self.call(Method::DELETE, path, Some(user), None).await
    }

    /// Creates a ticket as admin; returns its number.
    pub async fn ticket(&self, body: Value) -> u64 {
        let r = self.post("/tickets", "admin", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["number"].as_u64().expect("number")
    }

    /// A minimal ticket body with `extra` merged in.
    pub fn ticket_body(name: &str, extra: Value) -> Value {
        let mut b =
            json!({"name": name, "customer": {"email": "carol@example.com", "name": "Carol"}});
        if let (Some(obj), Some(more)) = (b.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                obj.insert(k.clone(), v.clone());
            }
        }
        b
    }
}

/// Asserts a problem+json refusal with `status`, `code` and (if given) `field`.
pub fn assert_problem(r: &Reply, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_contract_code(code);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{}",
        r.body
    );
    assert_eq!(r.body["code"], code, "{}", r.body);
    if let Some(f) = field {
        assert_eq!(r.body["field"], f, "{}", r.body);
    }
}

/// Asserts that `code` is one the contract names. A code it does not name is a
/// contract violation a client's generated types reject: every problem the
/// harness receives is checked here, not only when the fuzzer meets it.
pub fn assert_contract_code(code: &str) {
    assert!(
        contract_problem_codes().contains(code),
        "`{code}` is not in the contract's Problem.code enum (infra/openapi.yaml)"
    );
}

/// The problem codes the contract names: `Problem.code`'s enum in infra/openapi.yaml.
pub fn contract_problem_codes() -> &'static std::collections::HashSet<String> {
    static CODES: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let path = desk_local::repo_root().join("infra/openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("infra/openapi.yaml");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("the contract parses");
        doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_sequence()
            .expect("Problem.code has an enum")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    })
}

pub fn numbers(r: &Reply) -> Vec<u64> {
    r.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["number"].as_u64()).collect())
        .unwrap_or_default()
}

impl Stack {
    /// Every message stored on ticket `n` (one page holds them all in tests).
    pub async fn stored_messages(
        &self,
        n: desk_domain::TicketNumber,
    ) -> Vec<desk_domain::message::MailMessage> {
        let page = desk_domain::PageRequest {
            limit: 100,
            cursor: None,
        };
        desk_domain::message::MessageStore::list_messages(&self.store, &[n], &page)
            .await
            .expect("messages readable")
            .items
    }

    /// Delivers `raw` on the production path (raw in S3, its event on SQS, the
    /// ingest handler); returns the newest ticket's number and its first message.
    pub async fn ingest_stored(&self, raw: Vec<u8>) -> (u64, Value) {
        self.deliver(raw).await;
        let list = self
            .get("/tickets?sort=created&order=desc&limit=1", "admin")
            .await;
        let n = list.body["items"][0]["number"].as_u64().expect("a ticket");
        let messages = self.get(&format!("/tickets/{n}/messages"), "admin").await;
        assert_eq!(messages.status, StatusCode::OK, "{}", messages.body);
        (n, messages.body["items"][0].clone())
    }

    /// `POST /tickets/{n}/replies` as `user`, with an `Idempotency-Key` if given.
    pub async fn post_reply(&self, n: u64, user: &str, body: Value, key: Option<&str>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/tickets/{n}/replies", self.base))
            .bearer_auth(self.token(user))
            .json(&body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        Self::reply(req.send().await.expect("request")).await
    }

    /// Runs the mailer over whatever the outbox holds (as the SQS event source would).
    pub async fn drain_outbox(&self) -> usize {
        let mut total = 0;
        loop {
            let n = desk_local::workers::drain_once(
                &self.sqs,
                &self.resources.outbox_url,
                &self.mailer,
                0,
            )
            .await
            .expect("outbox reachable");
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Every event the bus delivered to the inspection queue so far (detail-type, detail).
    pub async fn events(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        loop {
            let r = self
                .sqs
                .receive_message()
                .queue_url(&self.resources.events_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("events queue");
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in msgs {
                let v: Value = serde_json::from_str(m.body.as_deref().unwrap_or("null"))
                    .unwrap_or(Value::Null);
                out.push((
                    v["detail-type"].as_str().unwrap_or("").to_string(),
                    v["detail"].clone(),
                ));
                if let Some(h) = m.receipt_handle {
                    let _ = self
                        .sqs
                        .delete_message()
                        .queue_url(&self.resources.events_url)
                        .receipt_handle(h)
                        .send()
                        .await;
                }
            }
        }
    }
}

/// A mail moto's SES recorded, parsed.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub raw: String,
    pub subject: String,
    pub text: String,
    /// The `text/html` part, if the mail has one (never made up from the text).
    pub html: Option<String>,
}

impl SentMail {
    /// The value of header `name` (first occurrence), as raw text.
    pub fn header(&self, name: &str) -> Option<String> {
        let msg = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        msg.header_raw(name).map(|v| v.trim().to_string())
    }
}

/// Mails moto's SES recorded as sent to `to`, parsed with mail-parser.
pub async fn sent_mail_to(to: &str) -> Vec<SentMail> {
    raw_mail_to(to)
        .await
        .into_iter()
        .map(|raw| {
            let msg = mail_parser::MessageParser::default().parse(raw.as_bytes());
            SentMail {
                subject: msg
                    .as_ref()
                    .and_then(|m| m.subject())
                    .unwrap_or("")
                    .to_string(),
                text: msg
                    .as_ref()
                    .and_then(|m| m.body_text(0))
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                html: msg.as_ref().and_then(|m| {
                    m.parts
                        .iter()
                        .find(|p| {
                            mail_parser::MimeHeaders::content_type(*p).is_some_and(|ct| {
                                ct.ctype().eq_ignore_ascii_case("text")
                                    && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html"))
                            })
                        })
                        .and_then(|p| p.text_contents())
                        .map(str::to_string)
                }),
                raw,
            }
        })
        .collect()
}

async fn raw_mail_to(to: &str) -> Vec<String> {
    let data = moto_data().await;
    let mut out = Vec::new();
    for kind in ["RawMessage", "Message"] {
        if let Some(list) = data["ses"][kind].as_array() {
            for m in list {
                let text = m.to_string();
                // Raw sends list their envelope recipients; match those, not mentions in a body.
                let addressed = match m["destinations"].as_array() {
                    Some(d) => d
                        .iter()
                        .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(to))),
                    None => text.contains(to),
                };
                if addressed {
                    out.push(m["raw_data"].as_str().map(str::to_string).unwrap_or(text));
                }
            }
        }
    }
    out
}

/// moto's whole state. Its dump can fail while other tests change that state at
/// the same moment (an error page instead of JSON), so it is read again then.
async fn moto_data() -> Value {
    let mut last = String::new();
    for _ in 0..10 {
        let resp = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint()))
            .await
            .expect("moto reachable");
        match resp.json::<Value>().await {
            Ok(v) => return v,
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto's data.json stayed unreadable: {last}");
}

/// An SES delivery of mail to the desk's address, as the inbound handler makes
/// it from an S3 event (its raw at `inbound/<id>` of the local bucket).
pub fn ses_delivery(id: &str) -> desk_ingest::Delivery {
    desk_ingest::Delivery {
        id: id.into(),
        raw_key: format!("s3://local-inbound/inbound/{id}"),
        envelope: vec!["support@desk.example".into()],
        source: desk_domain::Source::Email,
    }
}
