#!/usr/bin/env bash
# The deploy rehearsal (README, Deploy): template.yaml through the SAM transform,
# created as a stack on a moto of its own, compared with what the code expects.
#   rehearse.sh DYNAMO_URL [MOTO_PORT [--template FILE]]   (DynamoDB Local for `desk-local create-table`)
set -euo pipefail
cd "$(dirname "$0")/../.."
dynamo=${1:?DynamoDB Local URL}; port=${2:-5115}
mkdir -p .dev/rehearsal
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >.dev/rehearsal/moto.log 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
cargo build --locked --quiet -p desk-local
AWS_DEFAULT_REGION=us-east-1 .venv/bin/python infra/scripts/rehearse_deploy.py \
  --moto "http://127.0.0.1:$port" --dynamo "$dynamo" --desk-local target/debug/desk-local "${@:3}"
