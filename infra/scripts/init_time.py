#!/usr/bin/env python3
"""Cold-start init time of a Lambda binary, measured locally.

Runs the binary against a minimal Lambda Runtime API served here on loopback and
reports the time from process start until the runtime asks for its first event
(GET /2018-06-01/runtime/invocation/next), i.e. everything `main` does before it
can serve: logging, config, SDK clients. Usage: init_time.py BINARY [RUNS]
"""
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

first_poll = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (stdlib naming)
        if self.path.endswith("/runtime/invocation/next"):
            first_poll.set()
            time.sleep(0.5)  # hold the long poll; the process is killed meanwhile
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(
        os.environ,
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
        AWS_LAMBDA_FUNCTION_NAME="api",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/api",
        AWS_LAMBDA_LOG_STREAM_NAME="local",
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_REGION="us-east-1",
        TABLE_NAME="desk",
        DESK_ADDRESS="support@desk.example",
        OUTBOX_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/outbox",
        EVENT_BUS_NAME="desk",
        JOIN_LINK_BASE="https://quicksupport.example/join",
        CONNECT_LINK_BASE="https://quicksupport.example/connect",
        REPLY_TOKEN_KEY="init-time-measurement-key-not-a-secret-0123",
        INBOUND_BUCKET="desk-inbound",
        AUTH_MODE="apigateway",
        RUST_LOG="warn",
    )
    samples = []
    for _ in range(runs):
        first_poll.clear()
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ok = first_poll.wait(10)
        elapsed = time.perf_counter() - start
        proc.kill()
        _, err = proc.communicate()
        if not ok:
            sys.exit(f"{binary} never polled for an event: {err.decode(errors='replace')[-2000:]}")
        samples.append(elapsed * 1000)
    server.shutdown()
    samples.sort()
    print(f"{os.path.basename(binary)}: init median {statistics.median(samples):.1f} ms, "
          f"min {samples[0]:.1f} ms, max {samples[-1]:.1f} ms over {runs} cold starts")


if __name__ == "__main__":
    main()
