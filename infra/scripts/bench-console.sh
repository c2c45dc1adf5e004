#!/usr/bin/env bash
# make bench-console: the console's first-view JavaScript (gzipped) and, on its own desk-served
# stack (.dev/bench-console/), p50 over 20 loads from opening /app/tickets to the first rows painted.
#   ports: BENCH_CONSOLE_PORT (3210), BENCH_DYNAMO_PORT (8210), BENCH_MOTO_PORT (5215); LOADS (20)
set -euo pipefail
cd "$(dirname "$0")/../.."
CPORT=${BENCH_CONSOLE_PORT:-3210}; DPORT=${BENCH_DYNAMO_PORT:-8210}; MPORT=${BENCH_MOTO_PORT:-5215}
trap 'infra/scripts/stack.sh down bench-console >/dev/null 2>&1 || true' EXIT
infra/scripts/console.sh
infra/scripts/tools.sh --browser
cargo build --quiet --locked -p desk-local
infra/scripts/stack.sh up bench-console "$DPORT" "$MPORT"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 TABLE_NAME=bench-console
export AWS_ENDPOINT_URL="http://127.0.0.1:$MPORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DPORT"
export DEV_JWT_SECRET
DEV_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
target/debug/desk-local create-table
target/debug/desk-local seed
RUST_LOG=warn infra/scripts/serve.sh bench-console "$CPORT" IMAP_POLL_EVERY_SECONDS=0
(cd console && DESK_URL="http://127.0.0.1:$CPORT" node scripts/bench.mjs "${LOADS:-20}")
