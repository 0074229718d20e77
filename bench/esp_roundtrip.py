"""One small send call's round trip to the ESP emulator, with and without Nagle's algorithm on its
socket: the stall every benchmark call paid before issue 25 (the emulator wrote its headers and
its body in two writes, and the body waited for the client's delayed ACK).

    .venv/bin/python bench/esp_roundtrip.py [--calls 50]

Prints milliseconds per call for each case (a ~20 KB form, as requests sends it, over one kept-alive
connection to an emulator in this process)."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.esp_emulator import Emulator


def per_call_ms(*, nagle: bool, calls: int) -> float:
    emulator = Emulator(port=0, verify_body=False)
    emulator.server.RequestHandlerClass.disable_nagle_algorithm = not nagle  # type: ignore[attr-defined]
    threading.Thread(target=emulator.server.serve_forever, daemon=True).start()
    session = requests.Session()
    url = f"{emulator.api_url}/bench.example/messages"
    data = {"from": "a@bench.example", "to": "b@bench.example", "subject": "s", "text": "نص " * 5000}
    session.post(url, data=data, auth=("api", "key"))  # the connection, opened once
    start = time.perf_counter()
    for _ in range(calls):
        session.post(url, data=data, auth=("api", "key")).raise_for_status()
    elapsed = time.perf_counter() - start
    emulator.stop()
    return elapsed / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    for nagle in (True, False):
        label = "Nagle on (the emulator before issue 25)" if nagle else "TCP_NODELAY (the emulator now)"
        print(f"{label:42s} {per_call_ms(nagle=nagle, calls=args.calls):6.1f} ms per call")


if __name__ == "__main__":
    main()
