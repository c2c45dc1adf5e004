//! Inputs the fuzzer found (`fuzz/regressions/`): each goes through parse and
//! threading without a panic, in the build the tests run (debug assertions on).

use desk_mail::thread::signals;
use desk_mail::{parse, Limits, ReplyToken};

#[test]
fn every_fuzzer_finding_parses_without_panicking() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/ingest_core");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/ingest_core") {
        let raw = std::fs::read(entry.expect("entry").path()).expect("read");
        let mail = parse(&raw, &Limits::default(), &[]);
        let _ = signals(
            &mail,
            &[],
            &ReplyToken::new(b"k".to_vec()),
            &["desk.example".into()],
        );
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
