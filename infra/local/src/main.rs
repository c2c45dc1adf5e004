//! `desk-local`: the local stack's commands (driven by the Makefile).
//!
//!   desk-local create-table            create $TABLE_NAME from template.yaml (if missing)
//!   desk-local seed                    demo users, groups and tickets
//!   desk-local bootstrap-admin ID      the first administrator (for a real deployment)
//!   desk-local serve [--port 3000]     serve the API handler on 127.0.0.1
//!   desk-local token USER [--ttl SECS] print a development bearer token
//!   desk-local mail FILE.eml|FOLDER    deliver mail as SES would (raw to S3 + S3 event to SQS)
//!   desk-local replay                  move dead-lettered inbound mail and outbox mail back
//!   desk-local reindex [--fresh [--block-size N]] [--resume] [--ticket N]
//!                                      (re)build the search index and counts from the table
//!   desk-local rotate-reply-key [--secret ID] [--grace-days N]
//!                                      new current reply-token key; the old one verifies
//!                                      for the grace period (default 90 days)
//!   desk-local env FUNCTION            the local environment of a function (KEY=VALUE)
//!   desk-local env-check FUNCTION      check a deployed function's environment (JSON on stdin)
//!   desk-local bench-list ...          list-page latency benchmark (see README)
//!   desk-local bench-big-mail [--mb N]  a 25 MB email through the ingest handler
//!   desk-local bench-write-cost [--tickets N]  WCU per email ticket, reply, edit; cost per 1,000
//!   desk-local bench-expire ...        expiry-run cost with many live cases (see README)

mod bench;
mod bench_big_mail;
mod bench_expire;
mod bench_write_cost;

use std::net::SocketAddr;
use std::process::ExitCode;

use desk_api::{App, Authenticator, DevIssuer};
use desk_dynamo::DynamoStore;
use desk_local::local_config;

fn table() -> String {
    std::env::var("TABLE_NAME").unwrap_or_else(|_| "desk".into())
}

fn desk_address() -> String {
    std::env::var("DESK_ADDRESS").unwrap_or_else(|_| "support@desk.example".into())
}

/// DynamoDB Local's address (`AWS_ENDPOINT_URL_DYNAMODB`, as the store reads it).
fn dynamo_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| "http://127.0.0.1:8000".into())
}

/// The table's client, from the same SDK configuration as every other client.
fn store(aws: &aws_config::SdkConfig) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), table())
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    match cmd {
        "create-table" => {
            let store = DynamoStore::from_env(table()).await;
            let created = desk_local::template::ensure_table(store.client(), &table()).await?;
            tracing::info!(table = %table(), created, "table ready");
            Ok(())
        }
        "bootstrap-admin" => {
            let id = args.get(1).ok_or("usage: desk-local bootstrap-admin USER_ID")?;
            let aws = aws_config::load_from_env().await;
            let desk = api::desk(&local_config(&table(), None)?.api, store(&aws), &aws);
            desk_local::seed::bootstrap_admin(&desk, id).await.map_err(|e| format!("bootstrap-admin: {e}"))?;
            tracing::info!(table = %table(), user = %id, "administrator ready");
            Ok(())
        }
        "seed" => {
            let aws = aws_config::load_from_env().await;
            let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
            let resources = desk_local::provision::provision(&aws, &prefix, &desk_address()).await?;
            let desk = api::desk(&local_config(&table(), Some(&resources))?.api, store(&aws), &aws);
            desk_local::seed::demo(&desk).await.map_err(|e| format!("seed: {e}"))?;
            tracing::info!("demo data ready");
            Ok(())
        }
        "serve" => {
            let port: u16 = flag(&args, "--port").unwrap_or_else(|| "3000".into()).parse().map_err(|_| "bad --port")?;
            let secret = desk_local::dev_secret()?;
            let aws = aws_config::load_from_env().await;
            let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
            let resources = desk_local::provision::provision(&aws, &prefix, &desk_address()).await?;
            let config = local_config(&table(), Some(&resources))?;
            let wired = desk_local::compose(&config, store(&aws), &aws);
            let expire_every: u64 = std::env::var("EXPIRE_EVERY_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
            let _outbox = desk_local::workers::spawn_queue(aws_sdk_sqs::Client::new(&aws), resources.outbox_url.clone(), wired.mailer);
            let _inbound = desk_local::workers::spawn_queue(aws_sdk_sqs::Client::new(&aws), resources.inbound_url.clone(), wired.inbound);
            let _expiry = desk_local::workers::spawn_expiry(wired.expiry, std::time::Duration::from_secs(expire_every));
            // The table's stream, as the indexer's event source mapping reads it.
            let stream_every: u64 = std::env::var("STREAM_POLL_MILLISECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(250);
            // 0 = off (the contract run: schemathesis checks shapes, and the indexer's
            // writes would contend with its requests in DynamoDB Local).
            let _indexer = if stream_every > 0 {
                let source = desk_local::stream::StreamSource::open(&aws, &dynamo_endpoint(), &table()).await?;
                Some(desk_local::stream::spawn(source, wired.indexer.clone(), std::time::Duration::from_millis(stream_every)))
            } else {
                None
            };
            // The IMAP poller (every IMAP_POLL_EVERY_SECONDS, 60 by default, 0 = off) gets its
            // own ingest: the inbound queue worker owns the first.
            let poll_every: u64 = std::env::var("IMAP_POLL_EVERY_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
            let _imap = if poll_every > 0 {
                let poller = poller::compose(&config.poller, store(&aws), &aws).map_err(|e| e.to_string())?;
                Some(desk_local::workers::spawn_imap_poll(poller, std::time::Duration::from_secs(poll_every)))
            } else {
                None
            };
            let app = App { desk: wired.desk, auth: Authenticator::Dev(DevIssuer::new(secret.into_bytes())) };
            let (addr, task) = desk_local::server::spawn(app, SocketAddr::from(([127, 0, 0, 1], port)))
                .await
                .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
            tracing::info!(%addr, outbox = %resources.outbox_url, bus = %resources.bus, events = %resources.events_url, "API listening; mailer, expiry, IMAP poller and indexer running");
            task.await.map_err(|e| e.to_string())
        }
        "reindex" => {
            let aws = aws_config::load_from_env().await;
            let config = local_config(&table(), None)?;
            let store = store(&aws);
            let indexer = indexer::compose(&config.indexer, store.clone(), &aws);
            if let Some(n) = flag(&args, "--ticket") {
                let n: u64 = n.parse().map_err(|_| "bad --ticket")?;
                let items = desk_local::reindex::ticket(&store, &indexer, n).await?;
                tracing::info!(ticket = n, items, "ticket reindexed");
                return Ok(());
            }
            let options = desk_local::reindex::Options {
                fresh: args.iter().any(|a| a == "--fresh"),
                resume: args.iter().any(|a| a == "--resume"),
                block_size: flag(&args, "--block-size")
                    .map(|n| n.parse::<u64>().map_err(|_| "bad --block-size"))
                    .transpose()?,
                ..Default::default()
            };
            let progress = desk_local::reindex::run(&store, &indexer, &options).await?;
            tracing::info!(items = progress.items, pages = progress.pages, "index and counts rebuilt");
            Ok(())
        }
        "token" => {
            let user = args.get(1).filter(|u| !u.starts_with("--")).ok_or("usage: desk-local token USER [--ttl SECS]")?;
            let ttl: i64 = flag(&args, "--ttl").unwrap_or_else(|| "43200".into()).parse().map_err(|_| "bad --ttl")?;
            let token = DevIssuer::new(desk_local::dev_secret()?.into_bytes())
                .issue(user, ttl)
                .map_err(|e| e.to_string())?;
            // The token is the command's output (`make token` prints it as its last line).
            use std::io::Write;
            writeln!(std::io::stdout(), "{token}").map_err(|e| e.to_string())
        }
        "mail" => {
            let path = args.get(1).ok_or("usage: desk-local mail FILE.eml|FOLDER")?;
            let mut files = vec![];
            let p = std::path::Path::new(path);
            if p.is_dir() {
                for e in std::fs::read_dir(p).map_err(|e| format!("{path}: {e}"))? {
                    let f = e.map_err(|e| e.to_string())?.path();
                    if f.extension().is_some_and(|x| x == "eml") {
                        files.push(f);
                    }
                }
                files.sort();
            } else {
                files.push(p.to_path_buf());
            }
            let raws = files.iter().map(|f| std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))).collect::<Result<Vec<_>, _>>()?;
            let aws = aws_config::load_from_env().await;
            let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
            let resources = desk_local::provision::provision(&aws, &prefix, &desk_address()).await?;
            let keys = desk_local::provision::deliver(&aws, &resources, &raws).await?;
            tracing::info!(count = keys.len(), bucket = %resources.inbound_bucket, "delivered as SES would; the running stack ingests them");
            Ok(())
        }
        "replay" => {
            let aws = aws_config::load_from_env().await;
            let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
            let r = desk_local::provision::provision(&aws, &prefix, &desk_address()).await?;
            let sqs = aws_sdk_sqs::Client::new(&aws);
            let inbound = desk_local::workers::replay(&sqs, &r.inbound_dlq_url, &r.inbound_url).await?;
            let outbox = desk_local::workers::replay(&sqs, &r.outbox_dlq_url, &r.outbox_url).await?;
            tracing::info!(inbound, outbox, "dead-lettered messages moved back to their queues");
            Ok(())
        }
        "rotate-reply-key" => {
            // The secret: --secret (a deployed stack's ReplyTokenSecretArn output),
            // else REPLY_TOKEN_SECRET, else the local stack's.
            let secret = flag(&args, "--secret")
                .or_else(|| std::env::var("REPLY_TOKEN_SECRET").ok().filter(|s| !s.is_empty()))
                .unwrap_or_else(|| {
                    let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
                    desk_local::provision::reply_token_secret_name(&prefix)
                });
            let grace_days = match flag(&args, "--grace-days") {
                Some(d) => Some(d.parse::<u32>().ok().filter(|d| (1..=3650).contains(d)).ok_or("--grace-days must be 1..=3650")?),
                None => None,
            };
            let aws = aws_config::load_from_env().await;
            let ring = desk_local::reply_keys::rotate(&aws, &secret, grace_days, chrono::Utc::now()).await?;
            tracing::info!(secret = %secret, current = %ring.current.id, previous = ?ring.previous.iter().map(|k| &k.id).collect::<Vec<_>>(), grace_days = ring.grace_days,
                "reply-token key rotated: new mail is signed with the current key; tokens of previous keys verify for grace_days after their retirement; warm functions read the ring again within 5 minutes");
            Ok(())
        }
        "env" => {
            // The environment the local stack gives FUNCTION, as KEY=VALUE lines
            // (what its configuration reads): `make sizes` runs the release binary in it.
            let function = args.get(1).ok_or("usage: desk-local env FUNCTION")?;
            let aws = aws_config::load_from_env().await;
            let prefix = std::env::var("RESOURCE_PREFIX").unwrap_or_else(|_| table());
            let resources = desk_local::provision::provision(&aws, &prefix, &desk_address()).await?;
            let env = desk_local::local_env(&table(), Some(&resources));
            let asked = desk_local::read_function_env(function, &env)?;
            use std::io::Write;
            let mut out = std::io::stdout();
            for name in asked.keys() {
                if let Some(value) = env.var(name) {
                    writeln!(out, "{name}={value}").map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        }
        "env-check" => {
            // A deployed function's environment (a JSON object on stdin) against
            // what its configuration requires: the deploy rehearsal runs it.
            let function = args.get(1).ok_or("usage: desk-local env-check FUNCTION < env.json")?;
            let vars: std::collections::BTreeMap<String, String> =
                serde_json::from_reader(std::io::stdin()).map_err(|e| format!("stdin: {e}"))?;
            let read = desk_local::check_function_env(function, &vars)?;
            tracing::info!(function = %function, reads = ?read, "environment complete");
            Ok(())
        }
        "bench-list" => bench::run(&args[1..]).await,
        "bench-expire" => bench_expire::run(&args[1..]).await,
        "bench-write-cost" => bench_write_cost::run(&args[1..]).await,
        "bench-big-mail" => bench_big_mail::run(&args[1..]).await,
        _ => Err("usage: desk-local create-table | seed | bootstrap-admin ID | serve [--port N] | token USER [--ttl S] | bench-list".into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(desk_runtime::log_filter_from_env())
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "desk-local failed");
            ExitCode::FAILURE
        }
    }
}
