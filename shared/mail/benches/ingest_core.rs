//! The ingest core — parse, threading signals, 200 rules — against bare
//! mail-parser parsing of the same corpus (tests/mail/, 73 messages).
//! Target: the core keeps at least half of bare parsing's throughput.
//!
//! The core is everything ingest does per email before the storage writes.
//! Sanitising HTML is not part of it: it happens when a message is read
//! (`desk_mail::sanitize::clean_html`), measured on its own below.
//!
//!   cargo bench -p desk-mail --bench ingest_core

use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use desk_domain::rules::{CompiledRules, NewRule, Rule};
use desk_mail::thread::{signals, RuleView};
use desk_mail::{parse, Limits, ReplyToken};

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// 200 realistic rules: domains, subjects, regexes, headers; none too cheap.
fn rules() -> Vec<Rule> {
    let now = Utc::now();
    let mut rules: Vec<Rule> = (0..200)
        .filter_map(|i| {
            let condition = match i % 5 {
                0 => serde_json::json!({"field": "sender_domain", "operator": "equals", "value": format!("customer{i}.example")}),
                1 => serde_json::json!({"field": "subject", "operator": "contains", "value": format!("order {i}")}),
                2 => serde_json::json!({"field": "body", "operator": "matches", "value": format!(r"(?i)invoice\s+#?{i}\b")}),
                3 => serde_json::json!({"field": "header", "header_name": "X-Mailer", "operator": "starts_with", "value": format!("Tool {i}")}),
                _ => serde_json::json!({"field": "recipients", "operator": "ends_with", "value": format!("team{i}@desk.example")}),
            };
            let input: NewRule = serde_json::from_value(serde_json::json!({
                "name": format!("rule {i}"), "match_mode": "all",
                "conditions": [condition, {"field": "subject", "operator": "not_contains", "value": "newsletter"}],
                "actions": {"priority": "high", "add_tags": [format!("r{i}")]}
            }))
            .ok()?;
            input.validate(format!("r{i:03}"), (i as u32 + 1) * 10, now, &|_| true).ok()
        })
        .collect();
    rules.push(Rule::default_rule("default", now));
    rules
}

fn bench(c: &mut Criterion) {
    let mails = corpus();
    assert!(mails.len() >= 40, "corpus missing");
    let bytes: u64 = mails.iter().map(|m| m.len() as u64).sum();
    let rules = rules();
    assert_eq!(rules.len(), 201);
    let compiled = CompiledRules::new(&rules);
    let token = ReplyToken::new(b"bench-key".to_vec());
    let own = vec!["support@desk.example".to_string()];
    let domains = vec!["desk.example".to_string()];

    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("bare mail-parser", |b| {
        b.iter(|| {
            for m in &mails {
                black_box(mail_parser::MessageParser::default().parse(black_box(m.as_slice())));
            }
        })
    });
    // The parts, to see where the time goes.
    group.bench_function("desk-mail parse (bodies, robots, bounces)", |b| {
        b.iter(|| {
            for m in &mails {
                black_box(parse(black_box(m), &Limits::default(), &own));
            }
        })
    });
    let parsed: Vec<_> = mails
        .iter()
        .map(|m| parse(m, &Limits::default(), &own))
        .collect();
    group.bench_function("200 rules only", |b| {
        b.iter(|| {
            for p in &parsed {
                black_box(RuleView::new(p).map(|view| view.evaluate(&compiled)));
            }
        })
    });
    group.bench_function("ingest core (parse + thread + 200 rules)", |b| {
        b.iter(|| {
            for m in &mails {
                let parsed = parse(black_box(m), &Limits::default(), &own);
                let s = signals(&parsed, &[], &token, &domains);
                // As ingest does it (desk-ingest `record_new`).
                let outcome = RuleView::new(&parsed).map(|view| view.evaluate(&compiled));
                black_box((s, outcome));
            }
        })
    });
    // Read time, not ingest: every HTML body of the corpus sanitised once.
    let sources: Vec<&str> = parsed
        .iter()
        .filter_map(|p| p.html_source.as_deref())
        .collect();
    group.bench_function("read time: clean_html of every HTML body", |b| {
        b.iter(|| {
            for h in &sources {
                black_box(desk_mail::sanitize::clean_html(black_box(h)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
