//! The largest email SES accepts, through the ingest function's handler: raw in
//! S3, its event on SQS, one batch. Reports the handler's wall time and the
//! process's peak memory against the ingest function's timeout and memory in
//! `template.yaml`.
//!
//!   desk-local bench-big-mail [--mb 25]

use std::time::Instant;

use desk_dynamo::DynamoStore;

use crate::bench::arg;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub async fn run(args: &[String]) -> Result<(), String> {
    let mb: f64 = arg(args, "--mb", "25").parse().map_err(|_| "bad --mb")?;
    let (memory_mb, timeout_s) =
        desk_local::template::function_limits("IngestFunction").map_err(|e| e.to_string())?;
    let table = format!("bench_mail_{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::from_env(table.clone()).await;
    desk_local::template::ensure_table(store.client(), &table).await?;
    let aws = aws_config::load_from_env().await;
    let resources = desk_local::provision::provision(&aws, &table, "support@desk.example").await?;
    let config = desk_local::local_config(&table, Some(&resources))?;
    let wired = desk_local::compose(&config, store, &aws);

    // base64 makes the raw message 4/3 of the attachment (plus line breaks).
    let size = (mb * 1_000_000.0 * 0.74) as usize;
    let (raw, _) = desk_local::mail_with_attachment(size);
    let raw_len = raw.len();
    desk_local::provision::deliver(&aws, &resources, &[raw]).await?;
    // Reset the peak (Linux: writing 5 to clear_refs), so it counts the batch
    // alone, not building the mail above.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_rss_mib().unwrap_or(0.0);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let started = Instant::now();
    let handled =
        desk_local::workers::drain_once(&sqs, &resources.inbound_url, &wired.inbound, 0).await?;
    let elapsed = started.elapsed();
    let peak = peak_rss_mib().unwrap_or(0.0);
    if handled != 1 {
        return Err(format!("expected one record, handled {handled}"));
    }
    let tickets = wired
        .desk
        .tickets
        .get_ticket(desk_domain::TicketNumber::new(1001).map_err(|e| e.message)?)
        .await
        .map_err(|e| e.to_string())?;
    if tickets.is_none() {
        return Err("the big email did not become ticket 1001".into());
    }
    let raw_mb = raw_len as f64 / 1_000_000.0;
    let scope = if reset {
        "during the batch"
    } else {
        "of the whole run"
    };
    let out = format!(
        "big email: {raw_mb:.1} MB raw ({:.1} MB attachment)\n\
         ingest handler: {:.2} s wall (template timeout {timeout_s} s)\n\
         peak resident memory {scope}: {peak:.0} MiB (resident before it {before:.0} MiB; template memory {memory_mb} MB)\n\
         at {memory_mb} MB Lambda gives about {:.2} vCPU (1 vCPU at 1769 MB): expect about {:.1} s there\n",
        size as f64 / 1e6,
        elapsed.as_secs_f64(),
        memory_mb as f64 / 1769.0,
        elapsed.as_secs_f64() * 1769.0 / memory_mb as f64
    );
    crate::bench::finish(wired.store.client(), &table, &out).await
}
