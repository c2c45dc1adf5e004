#!/usr/bin/env bash
# The web console's tests (infra/scripts/test.sh runs both):
#   console-test.sh check         generated API types match infra/openapi.yaml (check:api),
#                                 TypeScript strict, vitest unit tests of the pure logic
#   console-test.sh browser URL   browser tests (node --test, playwright-core + axe-core) in Debian's
#                                 Chromium against the console that the desk serves at URL
#   console-test.sh deps          only the npm ci
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:?check|browser URL}

# npm ci into the checkout, only when package-lock.json changed since the last install.
stamp=console/node_modules/.desk-npm-ci
if [ ! -f "$stamp" ] || [ console/package-lock.json -nt "$stamp" ] || [ console/package.json -nt "$stamp" ]; then
  echo "console: npm ci" >&2
  (cd console && npm ci --no-audit --no-fund --silent)
  touch "$stamp"
fi

case "$what" in
  deps) ;;
  check)
    (cd console && npm run --silent check:api && npm run --silent typecheck && npx vitest run)
    ;;
  browser)
    url=${2:?the desk URL}
    infra/scripts/tools.sh --browser
    (cd console && DESK_URL="$url" node --test --test-concurrency=1 e2e/)
    ;;
  *) echo "usage: console-test.sh check | browser URL | deps" >&2; exit 2 ;;
esac
