//! List-page latency benchmark against DynamoDB Local: the same queries on a
//! table of 1,000 and of 100,000 tickets. A page is one Query that evaluates at
//! most a bounded number of items, so its latency should not grow with the table.
//!
//!   desk-local bench-list [--sizes 1000,100000] [--samples 40] [--limit 25]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use desk_domain::listing::ListRequest;
use desk_domain::ticket::{Assignee, Customer, Ticket};
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

/// A deterministic, realistic mix of tickets.
fn synthetic(i: u64) -> Result<Ticket, String> {
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
    let assignee = match i % 6 {
        0 | 1 => None,
        2 => Some(Assignee::User(
            UserId::parse("alice").map_err(|e| e.to_string())?,
        )),
        3 => Some(Assignee::User(
            UserId::parse("bob").map_err(|e| e.to_string())?,
        )),
        4 => Some(Assignee::Group(
            GroupId::parse("support").map_err(|e| e.to_string())?,
        )),
        _ => Some(Assignee::Group(
            GroupId::parse("billing").map_err(|e| e.to_string())?,
        )),
    };
    let words = [
        "printer", "invoice", "login", "vpn", "export", "refund", "laptop", "email",
    ];
    let word = words[(i % words.len() as u64) as usize];
    let created = Utc
        .timestamp_opt(1_760_000_000 + (i as i64) * 60, 0)
        .single()
        .ok_or("time")?;
    let tags = Tags::parse(&[word, if i % 10 == 0 { "vip" } else { "standard" }])
        .map_err(|e| e.to_string())?;
    Ok(Ticket {
        number,
        name: format!("{word} problem {i}"),
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
    })
}

async fn load(store: &DynamoStore, size: u64) -> Result<Duration, String> {
    let started = Instant::now();
    let store = Arc::new(store.clone());
    let chunk = 2_500u64;
    let mut tasks = Vec::new();
    for start in (0..size).step_by(chunk as usize) {
        let store = store.clone();
        let end = (start + chunk).min(size);
        tasks.push(tokio::spawn(async move {
            let tickets = (start..end).map(synthetic).collect::<Result<Vec<_>, _>>()?;
            store
                .import_tickets(&tickets)
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
        .set_ticket_counter(TicketNumber::FIRST + size)
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

const SCENARIOS: [(&str, &str); 5] = [
    ("admin", ""),
    ("admin", "status=open&sort=priority"),
    ("alice", ""),
    ("alice", "q=printer"),
    ("admin", "assignee=group:support&status=open,waiting"),
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
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
        desk_local::template::ensure_table(store.client(), &table).await?;
        let aws = aws_config::load_from_env().await;
        let desk: Desk = api::desk(
            &desk_local::local_config(&table, None)?.api,
            store.clone(),
            &aws,
        );
        desk_local::seed::directory(&desk)
            .await
            .map_err(|e| e.to_string())?;
        let took = load(&store, *size).await?;
        eprintln!(
            "loaded {size} tickets into {table} in {:.1}s",
            took.as_secs_f64()
        );
        tables.push((*size, store, counter, desk));
    }

    let mut report: Vec<(u64, Vec<(String, Duration, Duration, usize, f64)>)> =
        sizes.iter().map(|s| (*s, Vec::new())).collect();
    for (user, q) in SCENARIOS {
        let req =
            ListRequest::parse(&pairs(&format!("limit={limit}&{q}"))).map_err(|e| e.to_string())?;
        let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); tables.len()];
        let mut items = vec![0; tables.len()];
        let mut callers = Vec::new();
        for (_, _, counter, desk) in &tables {
            callers.push(desk.caller(user).await.map_err(|e| e.to_string())?);
            counter.take();
            counter.take_read_capacity();
        }
        for round in 0..samples + 5 {
            for (i, (_, _, _, desk)) in tables.iter().enumerate() {
                let t = Instant::now();
                let page = desk
                    .list_tickets(&callers[i], &req)
                    .await
                    .map_err(|e| e.to_string())?;
                if round >= 5 {
                    times[i].push(t.elapsed());
                }
                items[i] = page.items.len();
            }
        }
        let name = format!(
            "{user:5} {}",
            if q.is_empty() { "(default view)" } else { q }
        );
        for (i, (_, _, counter, _)) in tables.iter().enumerate() {
            let calls = counter.take();
            if calls.iter().any(|c| *c != "Query") || calls.len() != samples + 5 {
                return Err(format!("expected one Query per page, saw {calls:?}"));
            }
            let rcu = counter.take_read_capacity() / (samples + 5) as f64;
            times[i].sort();
            report[i].1.push((
                name.clone(),
                percentile(&times[i], 0.5),
                percentile(&times[i], 0.95),
                items[i],
                rcu,
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
    out.push_str("), one Query per page (checked), DynamoDB Local; RCU = read capacity per page\n");
    out.push_str(&format!("{:55}", "scenario"));
    for (size, _) in &report {
        out.push_str(&format!(" | {:>8}: p50     p95   items  RCU", size));
    }
    if report.len() == 2 {
        out.push_str(" | p50 ratio");
    }
    out.push('\n');
    for (i, (name, ..)) in report[0].1.iter().enumerate() {
        out.push_str(&format!("{name:55}"));
        for (_, rows) in &report {
            let (_, p50, p95, items, rcu) = &rows[i];
            out.push_str(&format!(
                " | {:>7.1}ms {:>6.1}ms {:>5} {:>5.1}",
                p50.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3,
                items,
                rcu
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
