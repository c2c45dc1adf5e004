//! Expiry-run benchmark: a table holding many live service cases of which a few
//! are due. The run must read on the order of the due cases, not the stored ones.
//!
//!   desk-local bench-expire [--live 100000] [--due 100]

use std::time::Instant;

use chrono::{Duration, Utc};
use desk_domain::ports::StoredCase;
use desk_domain::session::{
    join_link, lifetime, CaseCreator, CaseOrigin, CaseStatus, ServiceCase, SessionCode,
};
use desk_domain::UserId;
use desk_dynamo::{CallCounter, DynamoStore};

use crate::bench::arg;

fn case(i: u32, created: chrono::DateTime<Utc>) -> Result<StoredCase, String> {
    let code = SessionCode::from_number(i);
    Ok(StoredCase {
        case: ServiceCase {
            join_link: join_link("https://quicksupport.example/join", &code, Some("bench")),
            code,
            ticket: None,
            origin: CaseOrigin::Manual,
            creator: CaseCreator::User(UserId::parse("alice").map_err(|e| e.message)?),
            assignee: Some(UserId::parse("alice").map_err(|e| e.message)?),
            customer_name: format!("Customer {i}"),
            customer_email: None,
            description: String::new(),
            status: CaseStatus::New,
            customer_connected: false,
            expert_connected: false,
            customer_waiting_since: None,
            created_at: created,
            updated_at: created,
            expires_at: created + lifetime(),
            ended_at: None,
            version: 1,
        },
        secret_hash: "bench".into(),
    })
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let live: u32 = arg(args, "--live", "100000")
        .parse()
        .map_err(|_| "bad --live")?;
    let due: u32 = arg(args, "--due", "100").parse().map_err(|_| "bad --due")?;
    let table = format!("bench_expire_{}", uuid::Uuid::new_v4().simple());
    let counter = CallCounter::default();
    let store = DynamoStore::from_env_counted(table.clone(), counter.clone()).await;
    desk_local::template::ensure_table(store.client(), &table).await?;
    let now = Utc::now();
    let started = Instant::now();
    // Not due: created within the last 23 hours. Due: created 24 h + 1..100 s ago.
    let mut batch = Vec::with_capacity(2_500);
    for i in 0..live {
        let created = if i < due {
            now - lifetime() - Duration::seconds(1 + i64::from(i % 100))
        } else {
            now - Duration::seconds(i64::from(i) % (23 * 3600))
        };
        batch.push(case(i * 7 + 1, created)?);
        if batch.len() == 2_500 {
            store
                .import_cases(&batch)
                .await
                .map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    store
        .import_cases(&batch)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "loaded {live} live cases ({due} due) into {table} in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let aws = aws_config::load_from_env().await;
    let desk = expire::compose(
        &desk_local::local_config(&table, None)?.expire,
        store.clone(),
        &aws,
    );
    counter.take();
    counter.take_read_capacity();
    counter.take_items_read();
    let t = Instant::now();
    let report = desk
        .expire_due(Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    let took = t.elapsed();
    let calls = counter.take();
    let out = format!(
        "expiry run over {live} live cases, {due} due: expired {} in {:.0} ms; {} Query ({} items read, {:.1} RCU), {} TransactWriteItems, {} Scan\n",
        report.expired,
        took.as_secs_f64() * 1e3,
        calls.iter().filter(|c| **c == "Query").count(),
        counter.take_items_read(),
        counter.take_read_capacity(),
        calls.iter().filter(|c| **c == "TransactWriteItems").count(),
        calls.iter().filter(|c| **c == "Scan").count(),
    );
    crate::bench::finish(store.client(), &table, &out).await
}
