"""Readers of the rehearsal's site (issue 26), run on the readers' host: article pages and signups
through the web host's reverse proxy, over HTTPS, from several addresses, until told to stop.

    python -m tests.integration.readers --base https://198.18.26.3 --host news.rehearsal.test \
        --paths /articles/a/ /articles/b/ --sources 198.18.26.200 198.18.26.201 \
        --stop /tmp/stop --out /tmp/readers.json

Each answer is timed from the request to the last byte. A page or a signup is answered when it
comes back 200 (a signup: the form's page, then the POST with its CSRF token); anything else (a
status, a refused or timed-out connection) is an error, kept with a sample. At the end (the stop
file exists, or --max-seconds passed) it writes counts, errors and p50/p99/max per kind as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the run's own certificate
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 30


class SourceAddress(HTTPAdapter):
    """Connections from one of the readers' addresses (behind the proxy: one client each)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Readers:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = {"page": [], "signup": []}
        self.errors: dict[str, list[str]] = {"page": [], "signup": []}
        self.sources = itertools.cycle(args.sources)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = False
        session.headers.update({"Host": self.args.host, "User-Agent": "Mozilla/5.0 (rehearsal reader)"})
        session.mount("https://", SourceAddress(next(self.sources)))
        return session

    def record(self, kind: str, started: float, problem: str | None) -> None:
        with self.lock:
            if problem is None:
                self.timings[kind].append(time.perf_counter() - started)
            else:
                self.errors[kind].append(problem)

    def page(self, path: str) -> None:
        started = time.perf_counter()
        try:
            response = self.session().get(f"{self.args.base}{path}", timeout=TIMEOUT)
            self.record("page", started, None if response.status_code == 200 else f"{path}: {response.status_code}")
        except requests.RequestException as error:
            self.record("page", started, f"{path}: {type(error).__name__} {error}")

    def signup(self) -> None:
        session = self.session()
        started = time.perf_counter()
        try:
            form = session.get(f"{self.args.base}/newsletter/", timeout=TIMEOUT)
            token = TOKEN.search(form.text)
            if form.status_code != 200 or not token:
                self.record("signup", started, f"form: {form.status_code}")
                return
            answer = session.post(
                f"{self.args.base}/newsletter/",
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "email": f"reader-{uuid.uuid4().hex[:12]}@rehearsal.test",
                    "frequency": "daily",
                },
                headers={"Referer": f"https://{self.args.host}/newsletter/"},
                timeout=TIMEOUT,
            )
            self.record("signup", started, None if answer.status_code == 200 else f"POST: {answer.status_code}")
        except requests.RequestException as error:
            self.record("signup", started, f"{type(error).__name__} {error}")

    def loop(self, action: Any, every: float, stop: threading.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            action()
            # A slow answer delays the next request; it does not cause a burst to catch up.
            next_at = max(next_at + every, time.monotonic() - every)
            stop.wait(max(next_at - time.monotonic(), 0))

    def run(self) -> dict[str, Any]:
        stop = threading.Event()
        paths = itertools.cycle(self.args.paths)
        threads = [
            threading.Thread(
                target=self.loop, args=(lambda: self.page(next(paths)), 1 / self.args.pages_per_second, stop)
            )
            for _ in range(self.args.threads)
        ]
        threads.append(threading.Thread(target=self.loop, args=(self.signup, self.args.signup_every, stop)))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + self.args.max_seconds
        stop_file = Path(self.args.stop)
        while not stop_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
        return {kind: summary(self.timings[kind], self.errors[kind]) for kind in self.timings}


def summary(timings: list[float], errors: list[str]) -> dict[str, Any]:
    ordered = sorted(timings)

    def percentile(fraction: float) -> float | None:
        return round(ordered[min(int(len(ordered) * fraction), len(ordered) - 1)] * 1000, 1) if ordered else None

    return {
        "answered": len(ordered),
        "errors": len(errors),
        "error_samples": errors[:10],
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--paths", nargs="+", required=True)
    parser.add_argument("--sources", nargs="+", required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pages-per-second", type=float, default=5, help="per thread")
    parser.add_argument("--signup-every", type=float, default=4.0, help="seconds between signups")
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    Path(args.out).write_text(json.dumps(Readers(args).run(), indent=2))


if __name__ == "__main__":
    main()
