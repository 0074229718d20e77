"""A local ESP emulator speaking Mailgun's messages API, for integration tests and benchmarks.

    python bench/esp_emulator.py --port 8401          # serves http://127.0.0.1:8401/v3

Point the product at it with
    EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend
    ANYMAIL_MAILGUN_API_URL=http://127.0.0.1:8401/v3  ANYMAIL_MAILGUN_API_KEY=test

It accepts `POST /v3/<domain>/messages` (form-urlencoded or multipart, as anymail sends it),
expands the batch the way Mailgun does (`recipient-variables` with `%recipient.NAME%` in the
body, subject and `h:` headers, including anymail's per-recipient `h:List-Unsubscribe`), and
records every accepted recipient. Control and inspection (JSON):

    GET  /_stats        counts: requests, accepted requests, recipients, unique, duplicates
    GET  /_addresses    every accepted address and how many times, one "address<TAB>count" a line
    GET  /_recipients   one record per accepted recipient (address, List-Unsubscribe, ...)
    GET  /_verify       expand every accepted call and check each recipient's own data:
                        List-Unsubscribe == <its unsubscribe URL>, the URL in text and HTML,
                        List-Unsubscribe-Post, delivery_id metadata (counts of failures)
    POST /_faults       {"status": 429, "count": 3}      answer 429 to the next 3 sends
                        {"status": 503, "seconds": 2}    answer 503 for 2 seconds
                        {"delay": 5, "count": 1}         accept, record, then answer 5 s later
                                                         (a client read timeout after acceptance)
                        {"hang": 1}                      accept, record, never answer usefully
                        {"statuses": [429, 429, 503]}    answer the next requests with these, in order
                        {"gate": 1}                      accept, record, then hold the answer until
                                                         POST /_release (tests synchronise on `held`)
    POST /_release      answer every held request
    POST /_reset        forget everything

Cheap on purpose: the emulator shares the CPU with the workers it measures. While a request is
answered only the `to` addresses are decoded (exact counts, duplicates, `/_stats`); the raw body
is kept and expanded into per-recipient records (List-Unsubscribe, metadata, bodies) only when
someone reads them (`State.records`, `/_recipients`, `/_verify`), off the clock. Decoding the
~600 KB of url-encoded recipient-variables and HTML of a 1,000-recipient call cost ~30 ms of CPU
per call (measured; now ~7 ms), ~15% of the 2-core budget at 10,000 recipients/s.

Only 127.0.0.1 (`--bind` another address only inside a network namespace of your own, as the
deployment rehearsal does: tests/integration/rehearsal.py). Standard library only; a threaded server is enough for >10,000 recipients/s
because one request carries a whole batch of up to 1,000 recipients.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from collections import Counter
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus

_VAR = re.compile(r"%recipient\.([^%]+)%")


class State:
    """Everything the emulator knows; shared by the handler threads (one lock)."""

    def __init__(self, *, verify_body: bool = True, keep_html: bool = False) -> None:
        self.lock = threading.Lock()
        self.verify_body = verify_body
        self.keep_html = keep_html  # each record gets its expanded HTML (tests of links; memory-heavy)
        self.latency_seconds = 0.0  # added to every accepted send's answer (--latency-ms)
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.requests = 0
            self.accepted_requests = 0
            self.rejected_requests = 0
            self.rejected_by_status: Counter[int] = Counter()
            self.status_sequence: list[int] = []
            self.gate_count = 0
            self.held = 0
            self.gated_ids: set[str] = set()  # message ids of accepted calls the gate holds
            self.held_recipients: list[str] = []  # the first recipient of each held call
            self.gate_open = threading.Event()
            self.counts: Counter[str] = Counter()
            self._records: list[dict[str, Any]] = []
            # Accepted calls not yet expanded into records: (content type, body, domain, message id).
            self._pending: list[tuple[str, bytes, str, str]] = []
            self.first_accept: float | None = None
            self.last_accept: float | None = None
            self.fail_status = 0
            self.fail_count = 0
            self.fail_until = 0.0
            self.delay_seconds = 0.0
            self.delay_count = 0
            self.ids = itertools.count(1)

    def set_faults(self, spec: dict[str, Any]) -> None:
        with self.lock:
            if "status" in spec:
                self.fail_status = int(spec["status"])
                self.fail_count = int(spec.get("count", 0))
                seconds = float(spec.get("seconds", 0))
                self.fail_until = time.monotonic() + seconds if seconds else 0.0
            if "delay" in spec:
                self.delay_seconds = float(spec["delay"])
                self.delay_count = int(spec.get("count", 1))
            if "statuses" in spec:
                self.status_sequence = [int(status) for status in spec["statuses"]]
            if spec.get("gate"):
                self.gate_count = int(spec["gate"])
                self.gate_open.clear()
            if spec.get("hang"):
                self.delay_seconds = 3600.0
                self.delay_count = int(spec.get("count", 1))

    def fault_for_request(self) -> int:
        with self.lock:
            self.requests += 1
            status = 0
            if self.status_sequence:
                status = self.status_sequence.pop(0)
            elif self.fail_status and self.fail_count > 0:
                self.fail_count -= 1
                status = self.fail_status
            elif self.fail_status and self.fail_until and time.monotonic() < self.fail_until:
                status = self.fail_status
            if status:
                self.rejected_requests += 1
                self.rejected_by_status[status] += 1
            return status

    def wait_at_gate(self, message_id: str, timeout: float = 120) -> None:
        """Hold an accepted call's answer if the gate took it (see /_faults "gate")."""
        with self.lock:
            if message_id not in self.gated_ids:
                return
            self.held += 1
        try:
            self.gate_open.wait(timeout)
        finally:
            with self.lock:
                self.held -= 1

    def release(self) -> None:
        self.gate_open.set()

    def take_delay(self) -> float:
        with self.lock:
            if self.delay_count > 0:
                self.delay_count -= 1
                return self.delay_seconds
            return 0.0

    def accept(self, content_type: str, body: bytes, domain: str) -> str | None:
        """Accept one send call: count its recipients now, keep the body to expand later.
        Returns the Mailgun message id, or None when `to` or `from` is missing (HTTP 400)."""
        recipients, has_from = _recipients_and_from(content_type, body)
        if not recipients or not has_from:
            return None
        now = time.time()
        with self.lock:
            self.accepted_requests += 1
            message_id = f"<{int(now)}.{next(self.ids)}@{domain}>"
            self.counts.update(recipients)
            if self.gate_count > 0:  # decided here, under the lock that counted the call
                self.gate_count -= 1
                self.gated_ids.add(message_id)
                self.held_recipients.append(recipients[0])
            self._pending.append((content_type, body, domain, message_id))
            self.first_accept = self.first_accept or now
            self.last_accept = now
        return message_id

    @property
    def records(self) -> list[dict[str, Any]]:
        """One record per accepted recipient, in acceptance order (expands pending calls)."""
        with self.lock:
            pending, self._pending = self._pending, []
            for content_type, body, _domain, message_id in pending:
                self._records.extend(self._expand(_parse_form(content_type, body), message_id))
            return list(self._records)

    def _expand(self, fields: dict[str, list[str]], message_id: str) -> list[dict[str, Any]]:
        """Per-recipient records of one call, substituted the way Mailgun does."""
        recipients = _split_addresses(fields.get("to", []))
        variables = json.loads(fields.get("recipient-variables", ["{}"])[0] or "{}")
        text = fields.get("text", [""])[0]
        html = fields.get("html", [""])[0]
        headers = {key[2:]: values[0] for key, values in fields.items() if key.startswith("h:")}
        custom = {key[2:]: values[0] for key, values in fields.items() if key.startswith("v:")}
        tags = fields.get("o:tag", [])
        records = []
        for address in recipients:
            mine = variables.get(address, {})

            def expand(value: str, mine: dict[str, Any] = mine) -> str:
                return _VAR.sub(lambda m: str(mine.get(m.group(1), "")), value)

            record: dict[str, Any] = {
                "to": address,
                "unsubscribe_url": str(mine.get("unsubscribe_url", "")),
                "list_unsubscribe": expand(headers.get("List-Unsubscribe", "")),
                "list_unsubscribe_post": headers.get("List-Unsubscribe-Post", ""),
                "metadata": {key: expand(value) for key, value in custom.items()},
                "tags": tags,
                "batch_size": len(recipients),
                "message_id": message_id,
            }
            if self.verify_body:
                url = record["unsubscribe_url"]
                record["url_in_text"] = bool(url) and url in expand(text)
                record["url_in_html"] = bool(url) and url in expand(html)
                record["subject"] = expand(fields.get("subject", [""])[0])
                record["text"] = expand(text)
            if self.keep_html:
                record["html"] = expand(html)
            records.append(record)
        return records

    def verify(self) -> dict[str, Any]:
        """Check every accepted recipient's own data (what the integration test checks)."""
        records = self.records
        bad: Counter[str] = Counter()
        for record in records:
            url = record.get("unsubscribe_url", "")
            if not url or record["list_unsubscribe"] != f"<{url}>":
                bad["list_unsubscribe"] += 1
            if record["list_unsubscribe_post"] != "List-Unsubscribe=One-Click":
                bad["list_unsubscribe_post"] += 1
            if self.verify_body and not (record.get("url_in_text") and record.get("url_in_html")):
                bad["url_in_bodies"] += 1
            if not record["metadata"].get("delivery_id"):
                bad["delivery_id_metadata"] += 1
        return {
            "records": len(records),
            "unique_unsubscribe_urls": len({r.get("unsubscribe_url") for r in records}),
            "failures": dict(bad),
        }

    def addresses(self) -> str:
        """Every accepted address with its count (cheap: no call is expanded)."""
        with self.lock:
            return "".join(f"{address}\t{count}\n" for address, count in self.counts.items())

    def stats(self) -> dict[str, Any]:
        with self.lock:
            duplicates = {addr: n for addr, n in self.counts.items() if n > 1}
            return {
                "requests": self.requests,
                "accepted_requests": self.accepted_requests,
                "rejected_requests": self.rejected_requests,
                "rejected_by_status": dict(self.rejected_by_status),
                "held": self.held,
                "recipients": sum(self.counts.values()),
                "unique": len(self.counts),
                "duplicates": len(duplicates),
                "duplicate_sample": dict(list(duplicates.items())[:10]),
                "first_accept": self.first_accept,
                "last_accept": self.last_accept,
            }


def _addr_spec(raw: str) -> str:
    if "<" in raw and raw.endswith(">"):
        return raw[raw.rindex("<") + 1 : -1].strip()
    return raw.strip()


def _split_addresses(values: list[str]) -> list[str]:
    return [_addr_spec(addr) for value in values for addr in value.split(",") if addr.strip()]


def _recipients_and_from(content_type: str, body: bytes) -> tuple[list[str], bool]:
    """The `to` addresses and whether `from` is present, decoding nothing else of a
    url-encoded body (keys are plain ASCII: `to`, `from`; values of other fields stay encoded)."""
    if content_type.startswith("multipart/form-data"):  # attachments: rare, parse it all
        fields = _parse_form(content_type, body)
        return _split_addresses(fields.get("to", [])), bool(fields.get("from"))
    to: list[str] = []
    has_from = False
    for pair in body.split(b"&"):
        if pair.startswith(b"to="):
            to.append(unquote_plus(pair[3:].decode("latin-1")))
        elif pair.startswith(b"from="):
            has_from = True
    return _split_addresses(to), has_from


def _parse_form(content_type: str, body: bytes) -> dict[str, list[str]]:
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields: dict[str, list[str]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            payload = part.get_payload(decode=True) or b""
            fields.setdefault(str(name), []).append(payload.decode(part.get_content_charset() or "utf-8"))
        return fields
    return parse_qs(body.decode("utf-8"), keep_blank_values=True)


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: anymail's requests session reuses it
        # The headers and the body are two writes: with Nagle's algorithm on, the body waited for
        # the client's delayed ACK of the headers, 40 ms per call on Linux (measured: 44 ms per
        # call, 1.1 ms without). A real API server answers without that stall (nginx sets
        # TCP_NODELAY); a real ESP's round trip is modelled by --latency-ms instead.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a read-timeout fault): it was still accepted

        def _text(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            if self.path.startswith("/_stats"):
                self._json(200, state.stats())
            elif self.path.startswith("/_addresses"):
                self._text(200, state.addresses())
            elif self.path.startswith("/_recipients"):
                self._json(200, state.records)
            elif self.path.startswith("/_verify"):
                self._json(200, state.verify())
            else:
                self._json(404, {"message": "not found"})

        def do_POST(self) -> None:
            body = self._body()
            if self.path.startswith("/_faults"):
                state.set_faults(json.loads(body or b"{}"))
                self._json(200, {"ok": True})
                return
            if self.path.startswith("/_release"):
                state.release()
                self._json(200, {"ok": True})
                return
            if self.path.startswith("/_reset"):
                state.reset()
                self._json(200, {"ok": True})
                return
            match = re.fullmatch(r"/v3/([^/]+)/messages", self.path.split("?")[0])
            if not match:
                self._json(404, {"message": "not found"})
                return
            if not self.headers.get("Authorization", "").startswith("Basic "):
                self._json(401, {"message": "Forbidden"})
                return
            status = state.fault_for_request()
            if status:
                self._json(status, {"message": f"emulated {status}"})
                return
            message_id = state.accept(self.headers.get("Content-Type", ""), body, match.group(1))
            if message_id is None:
                self._json(400, {"message": "'to' and 'from' are required"})
                return
            state.wait_at_gate(message_id)
            if state.latency_seconds:
                time.sleep(state.latency_seconds)  # the ESP's own round trip (--latency-ms)
            delay = state.take_delay()
            if delay:
                time.sleep(delay)  # accepted and recorded: the client times out reading
            self._json(200, {"id": message_id, "message": "Queued. Thank you."})

    return Handler


class Emulator:
    """Run the emulator in a background thread (tests) or in the foreground (CLI)."""

    def __init__(
        self, *, port: int = 0, verify_body: bool = True, keep_html: bool = False, bind: str = "127.0.0.1"
    ) -> None:
        self.state = State(verify_body=verify_body, keep_html=keep_html)
        self.server = ThreadingHTTPServer((bind, port), make_handler(self.state))
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://{self.server.server_address[0]!s}:{self.port}/v3"

    def start(self) -> Emulator:
        self.thread = threading.Thread(target=self.server.serve_forever, name="esp-emulator", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--bind", default="127.0.0.1", help="127.0.0.1, or an address of a namespace of your own")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="answer each accepted send this much later, as a distant ESP would (default 0)",
    )
    parser.add_argument(
        "--no-verify-body",
        action="store_true",
        help="records without the body checks (url_in_text/url_in_html, subject)",
    )
    args = parser.parse_args()
    emulator = Emulator(port=args.port, verify_body=not args.no_verify_body, bind=args.bind)
    emulator.state.latency_seconds = args.latency_ms / 1000
    print(f"ESP emulator (Mailgun API) on {emulator.api_url}", flush=True)
    try:
        emulator.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.server.server_close()


if __name__ == "__main__":
    main()
