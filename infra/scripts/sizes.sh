#!/usr/bin/env bash
# Release binary sizes (size-optimised profile: opt-level z, LTO, 1 CGU, abort,
# strip) and cold-start init time of each Lambda, measured on this machine.
#   sizes.sh            native (x86_64) build
#   sizes.sh --arm64    also the deployable arm64 build via cargo-lambda (needs zig:
#                       pip install ziglang into .venv; not used by CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
functions=$(ls functions)
cargo build --quiet --release $(for f in $functions; do printf -- '-p %s ' "$f"; done)
for f in $functions; do
  printf '%-10s x86_64 stripped %6.2f MiB\n' "$f" "$(echo "$(stat -c %s target/release/$f) / 1048576" | bc -l)"
  python3 infra/scripts/init_time.py "target/release/$f" 15
done
if [ "${1:-}" = "--arm64" ]; then
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 $(for f in $functions; do printf -- '-p %s ' "$f"; done)
  for f in $functions; do
    printf '%-10s arm64 bootstrap %6.2f MiB\n' "$f" "$(echo "$(stat -c %s target/lambda/$f/bootstrap) / 1048576" | bc -l)"
  done
fi
