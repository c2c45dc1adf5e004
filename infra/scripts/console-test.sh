#!/usr/bin/env bash
# The web console's tests (infra/scripts/test.sh runs both):
# Both first build the console (infra/scripts/console.sh).
#   console-test.sh check         generated API types match infra/openapi.yaml (check:api),
#                                 TypeScript strict, vitest unit tests of the pure logic
#   console-test.sh browser URL   browser tests (node --test, playwright-core + axe-core) in Debian's
#                                 Chromium against the console that the desk serves at URL
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:?check|browser URL}

# npm ci (when the lock changed) and npm run build: the same as `make console`.
infra/scripts/console.sh

case "$what" in
  check)
    (cd console && npm run --silent check:api && npm run --silent typecheck && npx vitest run)
    ;;
  browser)
    url=${2:?the desk URL}
    infra/scripts/tools.sh --browser
    (cd console && DESK_URL="$url" node --test --test-concurrency=1 e2e/)
    ;;
  *) echo "usage: console-test.sh check | browser URL" >&2; exit 2 ;;
esac
