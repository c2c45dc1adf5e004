//! List-page latency benchmark against DynamoDB Local: the same queries on a
//! table of 1,000 and of 100,000 tickets, dense ones (a word on every 8th ticket)
//! and selective ones (a word on 3 tickets, a tag on 5, an agent owning 0.5 %).
//! Every first page is checked against a reference computed from the generator:
//! it must be exactly the first `limit` matching tickets in sort order. Searches
//! go through the full-text index, which the loader writes beside the tickets
//! for the words the scenarios search (`import_postings`: what the indexer
//! writes for them, in bulk, since an import has no stream; see [`SEARCHED`]).
//!
//!   desk-local bench-list [--sizes 1000,100000] [--samples 40] [--limit 25]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use desk_domain::listing::ListRequest;
use desk_domain::ticket::{Assignee, Customer, Ticket};
use desk_domain::Caller;
use desk_domain::{
    Desk, EmailAddress, GroupId, Priority, Source, Status, Tags, TicketNumber, UserId,
};
use desk_dynamo::DynamoStore;

/// Drops a benchmark's table and prints its report on stdout.
pub(crate) async fn finish(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    report: &str,
) -> Result<(), String> {
    client
        .delete_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    use std::io::Write;
    std::io::stdout()
        .write_all(report.as_bytes())
        .map_err(|e| e.to_string())
}

/// The value after `name` in `args`, else `default` (the benchmarks' flags).
pub(crate) fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// A deterministic, realistic mix of tickets, `size` in all. Nearly every ticket
/// is assigned (one in 1,000 is not); `dave` (group `night`) owns one in 200;
/// three tickets hold the word "quokka" (two of them "lantern" too), five carry
/// the tag "needle".
fn synthetic(i: u64, size: u64) -> Result<Ticket, String> {
    let number = TicketNumber::new(TicketNumber::FIRST + i).map_err(|e| e.to_string())?;
    let status = [
        Status::Open,
        Status::Open,
        Status::Processing,
        Status::Waiting,
        Status::Closed,
    ][(i % 5) as usize];
    let priority = [
        Priority::Low,
        Priority::Medium,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ][(i % 7 % 5) as usize];
    let user = |u: &str| UserId::parse(u).map(|u| Some(Assignee::User(u)));
    let group = |g: &str| GroupId::parse(g).map(|g| Some(Assignee::Group(g)));
    let assignee = match (i % 1000, i % 200, i % 4) {
        (999, _, _) => Ok(None),
        (_, 7, _) => user("dave"),
        (_, _, 0) => user("alice"),
        (_, _, 1) => user("bob"),
        (_, _, 2) => group("support"),
        _ => group("billing"),
    }
    .map_err(|e| e.to_string())?;
    let rare_word = if [size / 5, size / 2].contains(&i) {
        " quokka lantern"
    } else if i == size - 3 {
        " quokka"
    } else {
        ""
    };
    let needle = (0..5).any(|k| i == size / 7 + k * size / 6);
    let words = [
        "printer", "invoice", "login", "vpn", "export", "refund", "laptop", "email",
    ];
    let word = words[(i % words.len() as u64) as usize];
    let created = Utc
        .timestamp_opt(1_760_000_000 + (i as i64) * 60, 0)
        .single()
        .ok_or("time")?;
    let mut tags = vec![
        word,
        if i.is_multiple_of(10) {
            "vip"
        } else {
            "standard"
        },
    ];
    if needle {
        tags.push("needle");
    }
    let tags = Tags::parse(&tags).map_err(|e| e.to_string())?;
    Ok(Ticket {
        number,
        name: format!("{word} problem {i}{rare_word}"),
        description: format!("Customer reports a {word} issue, case {i}."),
        status,
        priority,
        assignee,
        tags,
        customer: Customer {
            name: format!("Customer {}", i % 997),
            email: EmailAddress::parse(&format!("c{}@example.com", i % 997))
                .map_err(|e| e.to_string())?,
            phone: String::new(),
        },
        source: Source::Email,
        created_at: created,
        updated_at: created + chrono::Duration::minutes((i % 90) as i64),
        closed_at: None,
        version: 1,
        merged_into: None,
        merged: Vec::new(),
        participants: Vec::new(),
    })
}

/// The words the scenarios search (`q=`, prefixes included): the loader posts
/// these. A list page reads only the postings of its query's words, each word
/// a partition of its own, so the other words' postings (every ticket's number,
/// customer, the common words: some 15 per ticket, 1.5 million items at
/// 100,000 tickets) would change nothing measured here but the load's time —
/// DynamoDB Local writes a few hundred items a second on 2 cores. The open
/// tail's tickets (above the last sealed block) are the exception: a search
/// reads their term documents, so those hold every stem.
const SEARCHED: &str = "printer quokka lantern";

async fn load(store: &DynamoStore, size: u64) -> Result<Duration, String> {
    let started = Instant::now();
    let store = Arc::new(store.clone());
    let newest = TicketNumber::FIRST + size - 1;
    // The open tail is searched in its tickets' term documents: those hold
    // every stem, as the indexer writes them, so a search reads what it would.
    let tail_start =
        desk_dynamo::blocks::Blocks::settled(desk_dynamo::blocks::DEFAULT_BLOCK_SIZE, newest)
            .tail_start();
    let chunk = 2_500u64;
    let mut tasks = Vec::new();
    for start in (0..size).step_by(chunk as usize) {
        let store = store.clone();
        let end = (start + chunk).min(size);
        tasks.push(tokio::spawn(async move {
            let tickets = (start..end)
                .map(|i| synthetic(i, size))
                .collect::<Result<Vec<_>, _>>()?;
            store
                .import_tickets(&tickets)
                .await
                .map_err(|e| e.to_string())?;
            // Their search index for the words the scenarios search, as the
            // stream would have built it (an import has no stream), in bulk.
            let searched = desk_domain::stream::search::terms(SEARCHED);
            let postings: Vec<_> = tickets
                .into_iter()
                .filter_map(|t| {
                    desk_domain::stream::Record::Ticket {
                        old: None,
                        new: Some(Box::new(t)),
                    }
                    .posting_change()
                })
                .filter_map(|mut change| {
                    if change.ticket.get() < tail_start {
                        change.add.retain(|stem| searched.contains(stem));
                        change.words.retain(|(_, stem)| searched.contains(stem));
                    }
                    (!change.add.is_empty()).then_some(change)
                })
                .collect();
            store
                .import_postings(&postings, newest)
                .await
                .map_err(|e| e.to_string())
        }));
        if tasks.len() >= 8 {
            tasks.remove(0).await.map_err(|e| e.to_string())??;
        }
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    store
        .set_ticket_counter(newest)
        .await
        .map_err(|e| e.to_string())?;
    Ok(started.elapsed())
}

fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const SCENARIOS: [(&str, &str); 13] = [
    ("admin", ""),
    ("admin", "status=open&sort=priority"),
    ("alice", ""),
    // A dense word: sorted by creation, the order of its postings (any other sort
    // is refused beyond 1,000 matches).
    ("alice", "q=printer&sort=created"),
    ("admin", "assignee=group:support&status=open,waiting"),
    // Selective: few tickets match, wherever they are in the table.
    ("admin", "q=quokka"),
    ("alice", "q=quokka"),
    ("admin", "q=quokka lantern"),
    ("admin", "q=quok"),
    ("admin", "tag=needle"),
    ("bob", "tag=needle"),
    ("dave", ""),
    // At 1,000 tickets dave owns 6, so his default page holds 6 there and 25 at
    // 100,000: this row compares the same page size at both.
    ("dave", "limit=5"),
];

/// The first page a correct list must give: the first `limit` matching tickets.
fn reference(size: u64, caller: &Caller, req: &ListRequest) -> Result<Vec<u64>, String> {
    let Some(q) = req.plan(caller).map_err(|e| e.to_string())? else {
        return Ok(vec![]);
    };
    let mut m = Vec::new();
    for i in 0..size {
        let t = synthetic(i, size)?;
        if q.matches(&t) {
            m.push((desk_dynamo::keys::sort_value(&t, q.sort), t.number.get()));
        }
    }
    m.sort();
    if q.order == desk_domain::Order::Desc {
        m.reverse();
    }
    Ok(m.into_iter().take(q.limit).map(|(_, n)| n).collect())
}

/// Times `call(i)` for every table `i`, interleaved round by round so that
/// whatever else the machine does falls on every size alike; 5 warm-up rounds
/// are left out. Returns each table's sorted times and the item count of its
/// last call.
async fn time_interleaved(
    tables: usize,
    samples: usize,
    mut call: impl AsyncFnMut(usize) -> Result<usize, String>,
) -> Result<(Vec<Vec<Duration>>, Vec<usize>), String> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); tables];
    let mut items = vec![0; tables];
    for round in 0..samples + 5 {
        for i in 0..tables {
            let t = Instant::now();
            items[i] = call(i).await?;
            if round >= 5 {
                times[i].push(t.elapsed());
            }
        }
    }
    for t in &mut times {
        t.sort();
    }
    Ok((times, items))
}

/// The emulator's floor: single DynamoDB calls whose work is the same at every
/// table size.
#[derive(Clone, Copy)]
enum Floor {
    /// One ticket item (`GetItem`, through the store as the desk reads it).
    GetTicket,
    /// The 3-item posting partition of "quokka" (one `Query`).
    QueryPosting,
}

impl Floor {
    fn label(self) -> &'static str {
        match self {
            Floor::GetTicket => "GetItem: one ticket",
            Floor::QueryPosting => "Query: a 3-item posting partition",
        }
    }

    /// Makes the call; returns the items it got.
    async fn call(self, store: &DynamoStore, ticket: u64, posting: &str) -> Result<usize, String> {
        use desk_domain::ports::TicketStore;
        match self {
            Floor::GetTicket => {
                let number = TicketNumber::new(ticket).map_err(|e| e.to_string())?;
                let found = store.get_ticket(number).await.map_err(|e| e.to_string())?;
                Ok(usize::from(found.is_some()))
            }
            Floor::QueryPosting => {
                let out = store
                    .client()
                    .query()
                    .table_name(store.table())
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(
                        ":pk",
                        aws_sdk_dynamodb::types::AttributeValue::S(posting.to_string()),
                    )
                    .projection_expression("sk")
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(out.items().len())
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// One scenario's figures at one size: name, p50, p95, items, RCU and calls per page.
type Row = (String, Duration, Duration, usize, f64, f64);

/// `dave`, an agent of group `night` that owns one ticket in 200.
async fn dave(desk: &Desk, admin: &Caller) -> Result<(), String> {
    let group = serde_json::from_value(serde_json::json!({"id": "night", "name": "Night"}))
        .map_err(|e| e.to_string())?;
    desk.create_group(admin, group)
        .await
        .map_err(|e| e.to_string())?;
    let user = serde_json::from_value(serde_json::json!({
        "id": "dave", "name": "Dave", "email": "dave@desk.example", "role": "agent", "groups": ["night"]
    }))
    .map_err(|e| e.to_string())?;
    desk.create_user(admin, user)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let sizes: Vec<u64> = arg(args, "--sizes", "1000,100000")
        .split(',')
        .map(|s| s.trim().parse().map_err(|_| format!("bad size {s}")))
        .collect::<Result<_, _>>()?;
    let samples: usize = arg(args, "--samples", "40")
        .parse()
        .map_err(|_| "bad --samples")?;
    let limit = arg(args, "--limit", "25");

    // Load every size first, then measure them interleaved, page by page, so
    // that whatever else the machine is doing affects all sizes alike.
    let mut tables = Vec::new();
    for size in &sizes {
        let table = format!("bench_{size}_{}", uuid::Uuid::new_v4().simple());
        let counter = desk_dynamo::CallCounter::default();
        let store = DynamoStore::from_env_counted(table.clone(), counter.clone()).await;
        desk_local::template::ensure_table_without_stream(store.client(), &table).await?;
        let aws = aws_config::load_from_env().await;
        let config = desk_local::local_config(&table, None)?;
        let desk: Desk = api::desk(&config.api, store.clone(), &aws);
        let admin = desk_local::seed::directory(&desk)
            .await
            .map_err(|e| e.to_string())?;
        dave(&desk, &admin).await?;
        let took = load(&store, *size).await?;
        eprintln!(
            "loaded {size} tickets and their index into {table} in {:.1}s",
            took.as_secs_f64()
        );
        counter.take();
        counter.take_read_capacity();
        tables.push((*size, store, counter, desk));
    }

    let mut report: Vec<(u64, Vec<Row>)> = sizes.iter().map(|s| (*s, Vec::new())).collect();
    for (user, q) in SCENARIOS {
        let query = if q.contains("limit=") {
            q.to_string()
        } else {
            format!("limit={limit}&{q}")
        };
        let req = ListRequest::parse(&pairs(&query)).map_err(|e| e.to_string())?;
        let mut callers = Vec::new();
        let mut expected = Vec::new();
        for (size, _, counter, desk) in &tables {
            let caller = desk.caller(user).await.map_err(|e| e.to_string())?;
            expected.push(reference(*size, &caller, &req)?);
            callers.push(caller);
            counter.take();
            counter.take_read_capacity();
        }
        let (times, items) = time_interleaved(tables.len(), samples, async |i| {
            let page = tables[i]
                .3
                .list_tickets(&callers[i], &req)
                .await
                .map_err(|e| e.to_string())?;
            let got: Vec<u64> = page.items.iter().map(|t| t.number.get()).collect();
            if got != expected[i] {
                return Err(format!(
                    "{user} {q} at {} tickets: first page {got:?}, expected {:?}",
                    tables[i].0, expected[i]
                ));
            }
            Ok(page.items.len())
        })
        .await?;
        let name = format!(
            "{user:5} {}",
            if q.is_empty() { "(default view)" } else { q }
        );
        for (i, (_, _, counter, _)) in tables.iter().enumerate() {
            let calls = counter.take();
            if let Some(c) = calls
                .iter()
                .find(|c| !["Query", "BatchGetItem"].contains(c))
            {
                return Err(format!("a list page called {c}"));
            }
            let calls = calls.len() as f64 / (samples + 5) as f64;
            let rcu = counter.take_read_capacity() / (samples + 5) as f64;
            report[i].1.push((
                name.clone(),
                percentile(&times[i], 0.5),
                percentile(&times[i], 0.95),
                items[i],
                rcu,
                calls,
            ));
        }
    }
    // The emulator's floor: single DynamoDB calls whose work is the same at every size
    // (one ticket item; the 3-item posting partition of "quokka"), timed the same way,
    // interleaved. Where a scenario's ratio exceeds 1.5x with the same calls and
    // capacity at both sizes, this row shows how much of it DynamoDB Local's time per
    // call accounts for.
    let stem = desk_domain::stream::search::terms("quokka")
        .into_iter()
        .next()
        .ok_or("no stem for quokka")?;
    let posting = format!("{}{stem}", desk_dynamo::search::POSTING_PREFIX);
    for floor in [Floor::GetTicket, Floor::QueryPosting] {
        let (times, items) = time_interleaved(tables.len(), samples, async |i| {
            let (size, store, _, _) = &tables[i];
            floor
                .call(store, TicketNumber::FIRST + size / 3, &posting)
                .await
        })
        .await?;
        for (i, (_, _, counter, _)) in tables.iter().enumerate() {
            counter.take();
            counter.take_read_capacity();
            report[i].1.push((
                format!("floor {}", floor.label()),
                percentile(&times[i], 0.5),
                percentile(&times[i], 0.95),
                items[i],
                0.0,
                1.0,
            ));
        }
    }
    for (_, store, _, _) in &tables {
        store
            .client()
            .delete_table()
            .table_name(store.table())
            .send()
            .await
            .map_err(|e| e.to_string())?;
    }

    let mut out = String::from("\nList page (limit ");
    out.push_str(&limit);
    out.push_str("), DynamoDB Local; every first page checked against the reference; RCU = read capacity per page, calls = DynamoDB calls per page\n");
    out.push_str(&format!("{:55}", "scenario"));
    for (size, _) in &report {
        out.push_str(&format!(" | {:>8}: p50     p95   items  RCU   calls", size));
    }
    if report.len() == 2 {
        out.push_str(" | p50 ratio");
    }
    out.push('\n');
    for (i, (name, ..)) in report[0].1.iter().enumerate() {
        out.push_str(&format!("{name:55}"));
        for (_, rows) in &report {
            let (_, p50, p95, items, rcu, calls) = &rows[i];
            out.push_str(&format!(
                " | {:>7.1}ms {:>6.1}ms {:>5} {:>5.1} {:>5.1}",
                p50.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3,
                items,
                rcu,
                calls
            ));
        }
        if report.len() == 2 {
            let ratio = report[1].1[i].1.as_secs_f64() / report[0].1[i].1.as_secs_f64();
            out.push_str(&format!(" | {ratio:.2}x"));
        }
        out.push('\n');
    }
    use std::io::Write;
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| e.to_string())
}
