#!/usr/bin/env bash
# `make sizes`: each function against a bare lambda_runtime function, in one run.
#   - release builds (opt-level z, LTO, 1 CGU, abort, strip) of every function and
#     of infra/hello (the yardstick), x86_64 here and arm64 as deployed
#     (cargo-lambda + zig from .venv-package);
#   - init: spawn → first `next` from a stand-in Lambda Runtime API, median of INIT_RUNS
#     cold starts (default 41, taken round robin: one of each binary per round), and its
#     ratio to the hello-world's;
#   - warm: one invocation's round trip (event handed out → response posted),
#     median over WARM invocations per cold start after the first (RUNS cold starts, 15), against the
#     local emulators (DynamoDB Local, moto) with real work: a list page, a new
#     ticket from mail, a mail sent, an expiry run, an IMAP poll (no mailboxes);
#   - stripped sizes, x86_64 and arm64.
# Each function runs in exactly the environment its configuration reads
# (`desk-local env`), as template.yaml sets it.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-15}
# Cold starts cost ~0.1 s each, so init takes more: its median moved by up to 15 % between runs
# of the same binaries at 15 (hello 2.63 / 2.70 ms, ingest 3.72 / 4.18).
INIT_RUNS=${INIT_RUNS:-41}
WARM=${WARM:-5}
DPORT=${SIZES_DYNAMO_PORT:-8180}
MPORT=${SIZES_MOTO_PORT:-5180}
functions=$(ls functions)
all="hello-lambda $functions"

infra/scripts/tools.sh
infra/scripts/tools.sh --package
[ -f console/package.json ] && infra/scripts/console.sh >/dev/null 2>&1 || true

echo "== release builds (x86_64)" >&2
cargo build --locked --quiet --release $(for f in $all; do printf -- '-p %s ' "$f"; done)
echo "== release builds (arm64, cargo-lambda + zig)" >&2
PATH="$PWD/.venv-package/bin:$PATH" cargo lambda build --locked --quiet --release --arm64 \
  $(for f in $all; do printf -- '-p %s ' "$f"; done) >&2

cleanup() { infra/scripts/stack.sh down sizes >/dev/null 2>&1 || true; }
trap cleanup EXIT
infra/scripts/stack.sh up sizes "$DPORT" "$MPORT"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MPORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DPORT"
export TABLE_NAME=sizes RESOURCE_PREFIX=sizes
cargo build --locked --quiet -p desk-local
target/debug/desk-local create-table
target/debug/desk-local seed >/dev/null 2>&1

# The inbound mails the ingest invocations read, as SES would have stored them.
bucket=$(target/debug/desk-local env poller | sed -n 's/^INBOUND_BUCKET=//p')
count=$(( RUNS * (WARM + 1) ))
.venv/bin/python - "$bucket" "$count" <<'PY'
import sys, boto3
bucket, count = sys.argv[1], int(sys.argv[2])
s3 = boto3.client("s3")
mail = open("infra/sizes/bench.eml").read()
for n in range(1, count + 1):
    s3.put_object(Bucket=bucket, Key=f"inbound/bench-{n}.eml", Body=mail.replace("{n}", str(n)).encode())
PY

# Two phases, each round robin (each round starts every binary once, so a change in the
# machine's load falls on all of them alike instead of on whichever ran then):
#   1. cold starts only (WARM 0): init, nothing else running;
#   2. cold starts with WARM invocations each: the warm round trips.
# Init is taken apart from the warm work because that work sets the emulators going (DynamoDB
# Local's JVM collecting and compiling on these 2 cores) for some time after it returns: it
# landed on whichever cold start came next, and the API's init ratio swung from 1.42x (no warm
# work in the run) to 1.71x (interleaved) between runs of the same binaries.
inits=$(mktemp)
results=$(mktemp)
envs=$(mktemp -d)
trap 'cleanup; rm -rf "$inits" "$results" "$envs"' EXIT
for f in $all; do
  : >"$envs/$f"
  [ "$f" = hello-lambda ] || target/debug/desk-local env "$f" >"$envs/$f"
done
run() { # run BINARY WARM BENCH_START
  local f=$1 vars=()
  while IFS= read -r line; do vars+=("$line"); done <"$envs/$f"
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn BENCH_START="$3" \
    BENCH_SUBST="{\"bucket\":\"$bucket\"}" \
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" AWS_ENDPOINT_URL_DYNAMODB="$AWS_ENDPOINT_URL_DYNAMODB" \
    "${vars[@]}" \
    python3 infra/scripts/lambda_bench.py "target/release/$f" 1 "$2" "infra/sizes/events/$f.json"
}
echo "== cold starts ($INIT_RUNS rounds)" >&2
for round in $(seq 0 $((INIT_RUNS - 1))); do
  for f in $all; do run "$f" 0 0 >>"$inits"; done
done
echo "== warm invocations ($RUNS rounds of $WARM after a first)" >&2
for round in $(seq 0 $((RUNS - 1))); do
  for f in $all; do run "$f" "$WARM" $((round * (WARM + 1))) >>"$results"; done
done

python3 - "$inits" "$results" <<'PY'
import json, os, statistics, sys
# One line per cold start: gather each binary's, in the order the binaries ran. Init from the
# first phase only, warm round trips from the second.
rows = {}
for phase, path in enumerate(sys.argv[1:3]):
    for line in open(path):
        r = json.loads(line)
        row = rows.setdefault(r["binary"], {"binary": r["binary"], "init_ms": [], "warm_ms": [], "errors": 0, "last_error": ""})
        if phase == 0:
            row["init_ms"] += r["init_ms"]
        row["warm_ms"] += r["warm_ms"]
        row["errors"] += r["errors"]
        row["last_error"] = r["last_error"] or row["last_error"]
rows = list(rows.values())
for r in rows:
    r["init_median_ms"] = statistics.median(r["init_ms"])
    r["warm_median_ms"] = statistics.median(r["warm_ms"]) if r["warm_ms"] else None
base = next(r for r in rows if r["binary"] == "hello-lambda")["init_median_ms"]
mib = lambda p: os.path.getsize(p) / 1048576
print(f"{'function':<13}{'init ms':>9}{'× hello':>9}{'warm ms':>9}{'x86_64 MiB':>12}{'arm64 MiB':>11}  errors")
for r in rows:
    b = r["binary"]
    arm = f"target/lambda/{b}/bootstrap"
    print(f"{b:<13}{r['init_median_ms']:>9.2f}{r['init_median_ms'] / base:>9.2f}"
          f"{(r['warm_median_ms'] or 0):>9.2f}{mib('target/release/' + b):>12.2f}"
          f"{(mib(arm) if os.path.exists(arm) else float('nan')):>11.2f}  {r['errors']}"
          + (f" ({r['last_error'][:120]})" if r["errors"] else ""))
print(f"init: median of {len(rows[0]['init_ms'])} cold starts; warm: median of "
      f"{len(rows[0]['warm_ms'])} invocations (after each cold start's first)")
PY
