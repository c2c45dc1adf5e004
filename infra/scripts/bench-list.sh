#!/usr/bin/env bash
# List-page latency at 1,000 vs 100,000 tickets against DynamoDB Local.
# Uses its own emulator instance (.dev/bench/) so it never touches make dev's data.
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'infra/scripts/stack.sh down bench >/dev/null 2>&1 || true' EXIT
infra/scripts/stack.sh up bench 8200 5205
cargo build --quiet --release -p desk-local
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8200 RUST_LOG=warn \
  target/release/desk-local bench-list "$@"
