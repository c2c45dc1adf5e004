#!/usr/bin/env python3
"""Cold start and warm invocation of a Lambda binary, measured locally.

Runs BINARY against a minimal Lambda Runtime API served here on loopback, RUNS
times (a cold start each):
  init  — from process start until the runtime asks for its first event
          (GET /2018-06-01/runtime/invocation/next): everything `main` does
          before it can serve (logging, configuration, SDK clients);
  warm  — for each of WARM further events, from handing the event over until
          the function posts its response: one invocation's round trip.
The first event of each cold start is not counted as warm (it pays for first
use: TLS handshakes, connection set-up). With WARM = 0 no event is sent.

Events come from EVENT_FILE, a JSON template in which "{n}" is replaced by a
counter, so each invocation does fresh work (a new ticket, a new mail id); the
counter starts after BENCH_START (default: the clock). BENCH_SUBST, a JSON
object, names further replacements ({"bucket": "..."} for "{bucket}").
The process environment is passed through (set it with `env -i ... `).

Usage: lambda_bench.py BINARY RUNS WARM [EVENT_FILE]
Prints one JSON line: {"binary", "init_ms": [...], "warm_ms": [...], "errors": N}
"""
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

def new_state():
    # One per cold start, with its own server: a long poll left open by the
    # previous (killed) process must never take the next process's event.
    return {
        "first_poll": threading.Event(),
        "response": threading.Event(),
        "pending": None,  # the next event to hand out
        "handed_at": None,
        "closed": False,
        "lock": threading.Lock(),
    }


totals = {"errors": 0, "last_error": ""}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed process's connection breaking is expected


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (stdlib naming)
        state = self.server.state
        if not self.path.endswith("/runtime/invocation/next"):
            self._reply(404, b"{}")
            return
        state["first_poll"].set()
        # Long poll: wait until the bench hands out an event.
        while True:
            with state["lock"]:
                if state["closed"]:
                    return
                event = state["pending"]
                if event is not None:
                    state["pending"] = None
                    state["handed_at"] = time.perf_counter()
                    break
            time.sleep(0.0002)
        request_id, body = event
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench",
        )
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        if "/error" in self.path:
            totals["errors"] += 1
            totals["last_error"] = payload.decode(errors="replace")[:500]
        state["elapsed"] = time.perf_counter() - state["handed_at"]
        self._reply(202, b"{}")
        state["response"].set()

    def _reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    binary, runs, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    template = open(sys.argv[4]).read() if len(sys.argv) > 4 else "{}"
    env = dict(
        os.environ,
        AWS_LAMBDA_FUNCTION_NAME=os.path.basename(binary),
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench",
        AWS_LAMBDA_LOG_STREAM_NAME="local",
    )
    counter = [int(os.environ.get("BENCH_START") or int(time.time() * 1000) % 1_000_000_000)]
    for key, value in json.loads(os.environ.get("BENCH_SUBST") or "{}").items():
        template = template.replace("{" + key + "}", value)
    init_ms, warm_ms = [], []
    for _ in range(runs):
        server = Server(("127.0.0.1", 0), RuntimeApi)
        server.state = state = new_state()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not state["first_poll"].wait(10):
            proc.kill()
            _, err = proc.communicate()
            sys.exit(f"{binary} never polled for an event: {err.decode(errors='replace')[-2000:]}")
        init_ms.append((time.perf_counter() - start) * 1000)
        for i in range(warm + 1 if warm > 0 else 0):
            counter[0] += 1
            body = template.replace("{n}", str(counter[0])).encode()
            state["response"].clear()
            with state["lock"]:
                state["pending"] = (f"req-{counter[0]}", body)
            if not state["response"].wait(30):
                proc.kill()
                _, err = proc.communicate()
                sys.exit(f"{binary} did not answer event {i}: {err.decode(errors='replace')[-2000:]}")
            if i > 0:
                warm_ms.append(state["elapsed"] * 1000)
        proc.kill()
        proc.communicate()
        with state["lock"]:
            state["closed"] = True
        server.shutdown()
        server.server_close()
    print(json.dumps({
        "binary": os.path.basename(binary),
        "init_ms": init_ms,
        "warm_ms": warm_ms,
        "errors": totals["errors"],
        "last_error": totals["last_error"],
        "init_median_ms": statistics.median(init_ms),
        "warm_median_ms": statistics.median(warm_ms) if warm_ms else None,
    }))


if __name__ == "__main__":
    main()
