#!/usr/bin/env bash
# Builds the web console (console/ -> console/dist) when its sources are there:
# npm ci (only when package-lock.json changed since the last install), then
# npm run build. The Rust build embeds console/dist (shared/console/build.rs);
# without it the desk serves a placeholder page.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f console/package.json ]; then
  echo "console: console/package.json not there yet; the desk serves a placeholder page" >&2
  exit 0
fi
cd console
stamp=node_modules/.desk-npm-ci
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "console: npm ci" >&2
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
echo "console: npm run build" >&2
npm run build
test -f dist/index.html || { echo "console: npm run build made no dist/index.html" >&2; exit 1; }
