"""A local SMTP sink for the per-recipient sending benchmark (aiosmtpd): accepts every message on
127.0.0.1:PORT, counts recipients, and serves the same /_stats JSON as the ESP emulator on PORT+1.

    .venv/bin/python bench/send_smtp_sink.py --port 8402
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.messages = 0
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        with self.lock:
            self.messages += 1
            for rcpt in envelope.rcpt_tos:
                self.counts[rcpt.lower()] += 1
            self.first = self.first or now
            self.last = now
        return "250 OK"

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.messages,
                "accepted_requests": self.messages,
                "recipients": sum(self.counts.values()),
                "unique": len(self.counts),
                "duplicates": sum(1 for n in self.counts.values() if n > 1),
                "first_accept": self.first,
                "last_accept": self.last,
            }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8402)
    args = parser.parse_args()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps(sink.stats()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    print(f"SMTP sink on 127.0.0.1:{args.port}, stats on :{args.port + 1}", flush=True)
    try:
        ThreadingHTTPServer(("127.0.0.1", args.port + 1), Handler).serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
