#!/usr/bin/env bash
# Fuzzes ingest's core (parse → threading signals → rules, plus read-time
# clean_html) with cargo-fuzz / libFuzzer for a bounded time.
#   fuzz-mail.sh [SECONDS]   (default 60)
# Seeds: tests/mail/*.eml, read in place, and fuzz/regressions/ingest_core/
# (inputs that once failed, replayed every run). New inputs libFuzzer finds go to
# fuzz/corpus/ingest_core/ (kept between runs, not committed); a crash, panic,
# timeout or out-of-memory stops the run with the input in fuzz/artifacts/ingest_core/
# and a non-zero exit.
#
# Stable Rust only: `--sanitizer none` needs no nightly flags (cargo-fuzz adds
# ASan's -Z flag otherwise). The code under test is safe Rust, so what we look
# for — panics, hangs, runaway memory — needs no sanitizer. `-O`: dependencies
# as deployed (release); fuzz/Cargo.toml keeps debug assertions and overflow
# checks on for desk-mail and desk-domain.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
infra/scripts/tools.sh --fuzz
export PATH="$PWD/.dev/cargo/bin:$PATH"
cd fuzz
mkdir -p corpus/ingest_core
# -max_len: room for real mails (the largest corpus mail is 8 KB); -timeout: one input
# taking 10 s is a hang; -rss_limit_mb: bounded memory per run.
cargo fuzz run -O --sanitizer none ingest_core corpus/ingest_core ../tests/mail regressions/ingest_core -- \
  -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
