#!/usr/bin/env bash
# Serves the API handler, the web console and the development OIDC issuer
# (desk-local serve) in the background: serve.sh NAME PORT [ENV=VALUE...]
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1; port=$2; shift 2
dir=.dev/$name; mkdir -p "$dir"
if [ -f "$dir/api.pid" ] && kill -0 "$(cat "$dir/api.pid")" 2>/dev/null; then
  kill "$(cat "$dir/api.pid")"; sleep 0.3
fi
env "$@" RUST_LOG="${RUST_LOG:-info}" nohup target/debug/desk-local serve --port "$port" >"$dir/api.log" 2>&1 &
echo $! >"$dir/api.pid"
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    # The console (or its placeholder page) answers at / once serving.
    exec 4<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&4
    read -r status <&4 || true
    case "$status" in
      *" 200 "*) exit 0 ;;
      *) echo "serve: GET / answered '$status' on port $port; see $dir/api.log" >&2; exit 1 ;;
    esac
  fi
  kill -0 "$(cat "$dir/api.pid")" 2>/dev/null || break
  sleep 0.1
done
echo "serve: the API did not come up on port $port; see $dir/api.log" >&2
tail -20 "$dir/api.log" >&2
exit 1
