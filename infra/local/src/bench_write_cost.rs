//! `desk-local bench-write-cost`: what a desk pays DynamoDB per email ticket, per
//! reply and per edit — the request path and the indexer apart — measured as
//! DynamoDB computes it (every write asks for its consumed capacity, indexes
//! included; DynamoDB Local does the arithmetic), the storage per ticket, and
//! from them the own AWS cost of 1,000 email tickets at list price.

use std::time::Instant;

use desk_domain::TicketNumber;
use desk_dynamo::{DynamoStore, WriteMeter};
use serde_json::json;

use crate::bench::arg;

/// us-east-1 list prices (on-demand, arm64), December 2026.
const WRU: f64 = 0.625 / 1e6;
const STORAGE_GB_MONTH: f64 = 0.25;
const LAMBDA_GB_S: f64 = 0.000_013_333_4;
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
const SQS_REQUEST: f64 = 0.40 / 1e6;
const S3_PUT: f64 = 0.005 / 1000.0;
const S3_GET: f64 = 0.0004 / 1000.0;

/// Item size as DynamoDB counts it: attribute names and values (close enough
/// for strings, numbers, sets and maps of them).
fn item_bytes(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn value(v: &A) -> usize {
        match v {
            A::S(s) => s.len(),
            A::N(n) => n.len().div_ceil(2) + 1,
            A::Bool(_) | A::Null(_) => 1,
            A::Ss(v) => v.iter().map(String::len).sum(),
            A::L(v) => 3 + v.iter().map(|x| 1 + value(x)).sum::<usize>(),
            A::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value(x)).sum::<usize>(),
            _ => 8,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The corpus: the README's prose (no code blocks, tables or headings), word
/// by word — real text about one product, as a desk's mail is, with its
/// identifiers and numbers; every mail a different passage of it.
fn prose_words() -> Result<Vec<String>, String> {
    let readme = std::fs::read_to_string(desk_local::repo_root().join("README.md"))
        .map_err(|e| format!("README.md: {e}"))?;
    let mut fenced = false;
    let mut words = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || line.starts_with('|') || line.starts_with('#') {
            continue;
        }
        words.extend(line.split_whitespace().map(str::to_string));
    }
    if words.len() < 1000 {
        return Err("README.md: too little prose for a corpus".into());
    }
    Ok(words)
}

/// `len` words of the corpus from a position that `i` picks, wrapped as mail is.
fn passage(words: &[String], i: u64, len: usize) -> String {
    let start = (i as usize).wrapping_mul(7919) % (words.len() - len);
    let mut out = String::new();
    let mut column = 0;
    for w in &words[start..start + len] {
        if column + w.len() > 72 {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(w);
        column += w.len();
    }
    out
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let n: u64 = arg(args, "--tickets", "500")
        .parse()
        .map_err(|_| "bad --tickets")?;
    let replies: u64 = arg(args, "--replies", "50")
        .parse::<u64>()
        .map_err(|_| "bad --replies")?
        .min(n);
    let table = format!("bench_cost_{}", uuid::Uuid::new_v4().simple());
    let aws = aws_config::load_from_env().await;
    let meter = WriteMeter::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(meter.clone())
            .build(),
    );
    let store = DynamoStore::new(client, table.clone());
    desk_local::template::ensure_table(store.client(), &table).await?;
    let resources = desk_local::provision::provision(&aws, &table, "support@desk.example").await?;
    let config = desk_local::local_config(&table, Some(&resources))?;
    let wired = desk_local::compose(&config, store.clone(), &aws);
    let admin = desk_local::seed::directory(&wired.desk)
        .await
        .map_err(|e| e.to_string())?;
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").map_err(|_| "AWS_ENDPOINT_URL_DYNAMODB")?;
    let mut stream = desk_local::stream::StreamSource::open(&aws, &endpoint, &table).await?;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    stream.drain(&wired.indexer).await?;
    meter.take();

    let mail = std::fs::read_to_string(desk_local::repo_root().join("infra/sizes/cost.eml"))
        .map_err(|e| format!("infra/sizes/cost.eml: {e}"))?;
    let words = prose_words()?;
    let raws: Vec<Vec<u8>> = (1..=n)
        .map(|i| {
            mail.replace("{n}", &i.to_string())
                .replace("{subject}", &passage(&words, i * 31, 9).replace('\n', " "))
                .replace("{body}", &passage(&words, i, 110))
                .into_bytes()
        })
        .collect();
    desk_local::provision::deliver(&aws, &resources, &raws).await?;
    let started = Instant::now();
    let mut handled = 0;
    while handled < n as usize {
        handled += desk_local::workers::drain_once(&sqs, &resources.inbound_url, &wired.inbound, 1)
            .await?;
    }
    let ingest_ms = started.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let ingest_bill = meter.take();
    let ingest_parts = ingest_bill.parts;
    let ingest = ingest_bill.total / n as f64;
    let started = Instant::now();
    stream.drain(&wired.indexer).await?;
    // The open blocks too, so that every ticket's postings are paid for.
    store.seal_all().await.map_err(|e| e.to_string())?;
    let index_ms = started.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let index_email_bill = meter.take();
    let index_email_parts = index_email_bill.parts;
    let index_email = index_email_bill.total / n as f64;

    let first = TicketNumber::FIRST;
    for i in 0..replies {
        let number = TicketNumber::new(first + i).map_err(|e| e.message)?;
        let input = serde_json::from_value(json!({"text": "Thank you, Carol. We corrected the VAT rate on your account; the corrected invoices are attached to your portal. The renewal in January is not affected."}))
            .map_err(|e| e.to_string())?;
        wired
            .desk
            .reply(&admin, number, input, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut sent = 0;
    while sent < replies as usize {
        sent +=
            desk_local::workers::drain_once(&sqs, &resources.outbox_url, &wired.mailer, 1).await?;
    }
    let reply_bill = meter.take();
    let reply_parts = reply_bill.parts;
    let reply = reply_bill.total / replies as f64;
    stream.drain(&wired.indexer).await?;
    let index_reply = meter.take().total / replies as f64;

    for i in 0..replies {
        let number = TicketNumber::new(first + i).map_err(|e| e.message)?;
        let t = wired
            .desk
            .ticket(&admin, number)
            .await
            .map_err(|e| e.to_string())?;
        let patch = serde_json::from_value(
            json!({"version": t.version, "status": "closed", "priority": "high"}),
        )
        .map_err(|e| e.to_string())?;
        wired
            .desk
            .edit_ticket(&admin, number, patch)
            .await
            .map_err(|e| e.to_string())?;
    }
    let edit_bill = meter.take();
    let edit_parts = edit_bill.parts;
    let edit = edit_bill.total / replies as f64;
    stream.drain(&wired.indexer).await?;
    let index_edit = meter.take().total / replies as f64;

    // Storage: every item and its index copies (a GSI holds an item that has its keys).
    let spec = desk_local::template::desk_table_spec().map_err(|e| e.to_string())?;
    let mut bytes = 0usize;
    let (mut posting_items, mut posting_pairs, mut term_docs) = (0usize, 0usize, 0usize);
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(&table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("Scan: {e}"))?;
        for item in page.items() {
            let pk = item.get("pk").and_then(|v| v.as_s().ok());
            if pk.is_some_and(|p| p.starts_with(desk_dynamo::search::POSTING_PREFIX)) {
                posting_items += 1;
                posting_pairs += item
                    .get("t")
                    .and_then(|v| v.as_ns().ok())
                    .map_or(0, Vec::len);
            }
            if pk.is_some_and(|p| p.starts_with(desk_dynamo::search::TERMS_PREFIX)) {
                term_docs += 1;
            }
            // The item, and in each index that holds it (it has the index's keys) what that
            // index projects: the table's and the index's keys, and all, or the listed,
            // attributes; 100 bytes of overhead each, as DynamoDB bills storage.
            bytes += item_bytes(item) + 100;
            for index in spec.indexes.iter().filter(|i| {
                item.contains_key(&i.hash) && i.range.as_ref().is_none_or(|r| item.contains_key(r))
            }) {
                let projected: std::collections::HashMap<_, _> = item
                    .iter()
                    .filter(|(name, _)| {
                        index.projection == "ALL"
                            || [
                                Some(&spec.hash),
                                spec.range.as_ref(),
                                Some(&index.hash),
                                index.range.as_ref(),
                            ]
                            .contains(&Some(*name))
                            || (index.projection == "INCLUDE" && index.non_key.contains(name))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                bytes += item_bytes(&projected) + 100;
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let per_ticket_kb = bytes as f64 / n as f64 / 1024.0;

    // Own AWS cost of 1,000 email tickets: writes, Lambda, SQS (send, receive,
    // delete), S3 (SES's put, ingest's get), storage for a month. Lambda time is
    // modelled, not the emulator's (DynamoDB Local serialises writes, at tens of
    // ms each here): ingest as `make sizes` measures a warm invocation (~25 ms)
    // at 1024 MB; the indexer 5 ms per round of 8 parallel writes at 256 MB.
    let k = 1000.0;
    let dynamo = (ingest + index_email) * WRU * k;
    let ingest_s = 0.025;
    let index_s = (index_email / 8.0).ceil() * 0.005;
    let lambda = (1.0 * ingest_s + 0.25 * index_s) * LAMBDA_GB_S * k + 2.0 * LAMBDA_REQUEST * k;
    let sqs_cost = 3.0 * SQS_REQUEST * k;
    let s3 = (S3_PUT + S3_GET) * k;
    let storage = per_ticket_kb * k / (1024.0 * 1024.0) * STORAGE_GB_MONTH;
    let total = dynamo + lambda + sqs_cost + s3;
    // Index lag: a ticket created through the desk until a search finds it, with
    // the stream played every 100 ms as `desk-local serve` plays it (every 250 ms).
    let _player = desk_local::stream::spawn(
        stream,
        wired.indexer.clone(),
        std::time::Duration::from_millis(100),
    );
    let samples: usize = arg(args, "--lag-samples", "20")
        .parse()
        .map_err(|_| "bad --lag-samples")?;
    let mut lags = Vec::with_capacity(samples);
    for i in 0..samples {
        let word = format!(
            "lagword{i}x{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..6)
                .unwrap_or("0")
        );
        let input = serde_json::from_value(
            json!({"name": format!("Lag probe {word}"), "customer": {"email": "lag@example.com"}}),
        )
        .map_err(|e| e.to_string())?;
        let started = Instant::now();
        wired
            .desk
            .create_ticket(&admin, input)
            .await
            .map_err(|e| e.to_string())?;
        let req = desk_domain::ListRequest::parse(&[
            ("q".to_string(), word.clone()),
            ("sort".to_string(), "created".to_string()),
        ])
        .map_err(|e| e.message)?;
        loop {
            let page = wired
                .desk
                .list_tickets(&admin, &req)
                .await
                .map_err(|e| e.to_string())?;
            if !page.items.is_empty() {
                break;
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                return Err(format!("{word} not searchable after 60 s"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        lags.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    lags.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lags[((lags.len() as f64 - 1.0) * p).round() as usize];

    println!("write cost ({n} email tickets: infra/sizes/cost.eml around passages of the README's prose; replies and edits on {replies} of them; write request units as DynamoDB bills them: DynamoDB Local's consumed capacity with indexes, index updates of transactions counted once)");
    println!("{:34} {:>10} {:>10}", "", "request", "indexer");
    println!(
        "{:34} {:>10.1} {:>10.1}",
        "email ticket (ingest)", ingest, index_email
    );
    println!(
        "{:34} {:>10.1} {:>10.1}",
        "reply (api + mailer)", reply, index_reply
    );
    println!(
        "{:34} {:>10.1} {:>10.1}",
        "edit (status + priority)", edit, index_edit
    );
    for (what, parts, per) in [
        ("email ticket, request path", &ingest_parts, n),
        ("email ticket, indexer", &index_email_parts, n),
        ("reply, request path", &reply_parts, replies),
        ("edit, request path", &edit_parts, replies),
    ] {
        let listed: Vec<String> = parts
            .iter()
            .map(|(part, units)| format!("{part} {:.1}", units / per as f64))
            .collect();
        println!("  {what}: {}", listed.join(", "));
    }
    println!(
        "postings: {posting_items} items (one per stem and block of {} tickets) hold {posting_pairs} ticket-stem pairs of {term_docs} tickets: {:.1} stems per ticket, {:.1} tickets per item (an item per pair would be {:.1} writes per ticket)",
        store.posting_blocks(false).await.map_err(|e| e.to_string())?.size,
        posting_pairs as f64 / term_docs.max(1) as f64,
        posting_pairs as f64 / posting_items.max(1) as f64,
        posting_pairs as f64 / term_docs.max(1) as f64,
    );
    println!("storage per email ticket (items + index copies): {per_ticket_kb:.1} KB");
    println!("emulator time per email (not used for cost): ingest {ingest_ms:.1} ms, indexer {index_ms:.1} ms");
    println!(
        "index lag (create -> searchable, stream played every 100 ms): p50 {:.0} ms, p99 {:.0} ms over {samples}",
        pct(0.5),
        pct(0.99)
    );
    println!(
        "own AWS cost per 1,000 email tickets: ${total:.4} (DynamoDB writes ${dynamo:.4}, Lambda ${lambda:.4}, SQS ${sqs_cost:.4}, S3 ${s3:.4}); storage ${storage:.4} per month; SES receiving: $0.10"
    );
    Ok(())
}
