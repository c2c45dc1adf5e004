#!/usr/bin/env bash
# Runs a desk-local benchmark (bench-list, bench-expire, bench-big-mail) on its own emulators
# (.dev/bench/), release build, so it never touches make dev's data.
#   bench.sh bench-list [--sizes 1000,100000] [--samples 40]
#   bench.sh bench-expire [--live 100000] [--due 100]
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'infra/scripts/stack.sh down bench >/dev/null 2>&1 || true' EXIT
infra/scripts/stack.sh up bench 8200 5205
cargo build --quiet --release -p desk-local
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
AWS_ENDPOINT_URL=http://127.0.0.1:5205 AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8200 RUST_LOG=warn \
  target/release/desk-local "$@"
