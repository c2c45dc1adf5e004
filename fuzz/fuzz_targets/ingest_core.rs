//! Arbitrary bytes through what ingest does to a received mail before storing
//! it: `parse` → threading `signals` → the rules (owned `rule_input` +
//! `evaluate`, and ingest's borrowed `RuleView`), plus the read-time
//! `clean_html` of the HTML body. Nothing may panic, hang or grow without
//! bound; the two rule paths and the dry run must agree.
#![no_main]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use desk_domain::rules::{
    Actions, CompiledRules, Condition, ConditionField as F, MatchMode, Operator as Op, Rule,
};
use desk_mail::sanitize::clean_html;
use desk_mail::thread::{rule_input, signals, RuleView};
use desk_mail::{parse, Limits, ReplyToken};
use libfuzzer_sys::fuzz_target;

fn cond(field: F, operator: Op, value: &str, case_sensitive: bool) -> Condition {
    Condition {
        field,
        header_name: (field == F::Header).then(|| "X-Priority".to_string()),
        operator,
        value: value.to_string(),
        case_sensitive,
    }
}

/// Rules over every field and operator, both case modes and both match modes,
/// regexes with Unicode classes and word boundaries among them.
fn rules() -> &'static CompiledRules {
    static RULES: OnceLock<CompiledRules> = OnceLock::new();
    RULES.get_or_init(|| {
        let now = Utc.timestamp_opt(1_700_000_000, 0).single().unwrap_or_default();
        let sets: Vec<(MatchMode, Vec<Condition>)> = vec![
            (MatchMode::All, vec![
                cond(F::SenderDomain, Op::Equals, "example.com", false),
                cond(F::Subject, Op::Contains, "invoice", false),
            ]),
            (MatchMode::Any, vec![
                cond(F::Body, Op::Matches, r"(?i)\binvoice\s+#?\d{2,8}\b", false),
                cond(F::Subject, Op::Matches, r"^(Re|Fwd?|AW|TR):\s*\p{Lu}", true),
                cond(F::Header, Op::StartsWith, "1", false),
            ]),
            (MatchMode::All, vec![
                cond(F::Sender, Op::EndsWith, "@Example.COM", true),
                cond(F::Recipients, Op::NotContains, "noreply", false),
            ]),
            (MatchMode::Any, vec![
                cond(F::To, Op::Contains, "support", false),
                cond(F::Cc, Op::Equals, "Billing@Desk.Example", false),
                cond(F::Body, Op::NotContains, "ÄRGER", false),
                cond(F::Header, Op::Matches, r"(?x) ^ \d+ \s* \( (high|urgent) \)", false),
            ]),
            (MatchMode::All, vec![cond(F::Body, Op::Contains, "straße", true)]),
        ];
        let mut rules: Vec<Rule> = sets
            .into_iter()
            .enumerate()
            .map(|(i, (match_mode, conditions))| Rule {
                id: format!("r{i}"),
                name: format!("rule {i}"),
                description: String::new(),
                enabled: true,
                position: (i as u32 + 1) * 10,
                match_mode,
                conditions,
                actions: Actions::default(),
                is_default: false,
                created_at: now,
                updated_at: now,
                version: 1,
            })
            .collect();
        rules.push(Rule::default_rule("default", now));
        CompiledRules::new(&rules)
    })
}

fn token() -> &'static ReplyToken {
    static TOKEN: OnceLock<ReplyToken> = OnceLock::new();
    TOKEN.get_or_init(|| ReplyToken::new(b"fuzz-key".to_vec()))
}

fuzz_target!(|raw: &[u8]| {
    let own = ["support@desk.example".to_string()];
    let domains = ["desk.example".to_string()];
    // Small limits so truncation at character boundaries is exercised too.
    let limits = Limits {
        max_text_chars: 2_000,
        max_html_chars: 4_000,
        max_subject_chars: 200,
    };
    let mail = parse(raw, &limits, &own);
    assert!(mail.text.chars().count() <= limits.max_text_chars);
    assert!(mail.subject.chars().count() <= limits.max_subject_chars);

    let envelope = ["support+t1001.AAAAAAAAAAAAAAAA@desk.example".to_string()];
    let s = signals(&mail, &envelope, token(), &domains);
    assert!(s.message_ids.len() <= 50);

    let rules = rules();
    match (rule_input(&mail), RuleView::new(&mail)) {
        (Some(input), Some(view)) => {
            let owned = rules.evaluate(&input);
            assert_eq!(owned, view.evaluate(rules), "owned and borrowed rule paths differ");
            assert_eq!(owned, rules.dry_run(&input).evaluation, "dry run differs");
        }
        (None, None) => {}
        _ => panic!("rule_input and RuleView disagree on whether the mail has a sender"),
    }

    if let Some(html) = &mail.html_source {
        let shown = clean_html(html).to_ascii_lowercase();
        assert!(!shown.contains("<script"), "script survived sanitising");
    }
});
