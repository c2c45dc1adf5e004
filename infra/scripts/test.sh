#!/usr/bin/env bash
# `make test`: every test, against real parts on loopback.
#   1. DynamoDB Local + moto + Dovecot (IMAP) for the tests (own ports, own state in .dev/test/)
#   2. cargo test: unit tests and the end-to-end suites (API over HTTP, DynamoDB Local)
#   3. the served API checked against infra/openapi.yaml with schemathesis
#   4. the deploy rehearsal: template.yaml transformed as `sam deploy` does, created
#      on moto's CloudFormation, compared with what the code expects
#   5. template.yaml linted with cfn-lint
#   6. a bounded cargo-fuzz run over the ingest core (FUZZ_SECONDS, default 30)
#   The web console: its API types, TypeScript and unit tests after the cargo tests; its browser
#   tests in Chromium against its own desk-served stack (TEST_CONSOLE_PORT, default TEST_API_PORT+10).
set -euo pipefail
cd "$(dirname "$0")/../.."

DPORT=${TEST_DYNAMO_PORT:-8100}
MPORT=${TEST_MOTO_PORT:-5105}
APORT=${TEST_API_PORT:-3100}
IPORT=${TEST_IMAP_PORT:-14143}
cleanup() {
  infra/scripts/stack.sh down test >/dev/null 2>&1 || true
  infra/scripts/dovecot.sh down test >/dev/null 2>&1 || true
  infra/scripts/stack.sh down test-console >/dev/null 2>&1 || true
}
trap cleanup EXIT

infra/scripts/stack.sh up test "$DPORT" "$MPORT"
# A real IMAP server for tests/imap.rs (installed from Debian if missing): IMAP on
# $IPORT, IMAPS on $IPORT+1.
infra/scripts/dovecot.sh up test "$IPORT"
export DESK_TEST_IMAP_PORT=$IPORT
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MPORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DPORT"
export DESK_TEST_DYNAMO="http://127.0.0.1:$DPORT" DESK_TEST_MOTO="http://127.0.0.1:$MPORT"

# The desk embeds console/dist at compile time: build the console before anything compiles it.
infra/scripts/console.sh
echo "== cargo test" >&2
cargo test --workspace --locked 2>&1

echo "== console: generated API types, TypeScript, unit tests" >&2
infra/scripts/console-test.sh check

# DynamoDB Local slows down with every table and item it holds (after the cargo tests, the
# contract's coverage phase ran 4x slower on CI than on fresh emulators and the run hit its
# timeout): each later stage starts on fresh emulators. Nothing carries over between stages.
fresh_emulators() {
  infra/scripts/stack.sh down test
  infra/scripts/stack.sh up test "$DPORT" "$MPORT"
}

echo "== OpenAPI contract (schemathesis)" >&2
fresh_emulators
# cargo test builds test targets only; the local runner is a binary.
cargo build --locked --quiet -p desk-local
mkdir -p .dev/test
export DEV_JWT_SECRET
DEV_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
export TABLE_NAME=contract
target/debug/desk-local create-table
target/debug/desk-local seed
# The contract run creates mailboxes with made-up hosts: no IMAP polling there. Nor the
# stream's indexer: schemathesis checks shapes (tests/search.rs checks the index), and the
# indexer's writes for thousands of generated tickets slowed DynamoDB Local past the timeout.
infra/scripts/serve.sh test "$APORT" IMAP_POLL_EVERY_SECONDS=0 STREAM_POLL_MILLISECONDS=0
infra/scripts/fuzz-api.sh "http://127.0.0.1:$APORT" "$(target/debug/desk-local token admin)"

echo "== console in Chromium (served by the desk, own table and queues)" >&2
CPORT=${TEST_CONSOLE_PORT:-$((APORT + 10))}
fresh_emulators
(
  export TABLE_NAME=console RESOURCE_PREFIX=console
  target/debug/desk-local create-table
  target/debug/desk-local seed
  # Short-lived tokens, so the browser tests see the console renew them.
  infra/scripts/serve.sh test-console "$CPORT" IMAP_POLL_EVERY_SECONDS=0 DEV_OIDC_TOKEN_TTL_SECONDS=70
  infra/scripts/console-test.sh browser "http://127.0.0.1:$CPORT"
)
infra/scripts/stack.sh down test-console

echo "== deploy rehearsal (SAM transform, CloudFormation on moto)" >&2
infra/scripts/rehearse.sh "http://127.0.0.1:$DPORT" "${TEST_REHEARSAL_MOTO_PORT:-5115}"

echo "== template lint (cfn-lint)" >&2
.venv/bin/cfn-lint template.yaml
echo "template.yaml: cfn-lint clean" >&2

echo "== fuzzing the ingest core (cargo-fuzz, ${FUZZ_SECONDS:-30} s)" >&2
# Seeds are tests/mail/; a crash or panic fails the run with the input saved.
infra/scripts/fuzz-mail.sh "${FUZZ_SECONDS:-30}"
