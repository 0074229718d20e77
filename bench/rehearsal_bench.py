"""The deployment rehearsal at a newsroom's size (issue 26): the README's "Deploying on several
machines" on separate hosts (Linux network namespaces), an edition of 200,000 subscribers sent by
the beat's 07:00 run, worker1 cut off for 30 s and worker2 killed (SIGKILL) and restarted
midway, a second beat for a minute, readers asking for pages and signing up throughout.
tests/integration/rehearsal.py does the work (the CI test runs it with fewer subscribers).

    sudo .venv/bin/python bench/rehearsal_bench.py --subscribers 200000

Root only (network namespaces). Everything it starts lives in namespaces of its own on
198.18.26.0/24 and is removed at the end, also after a failure. Prints the load average before
and after, the outcome (statuses, unknowns and their reasons, duplicates, the readers' p50/p99)
and the timeline as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--pages-per-second", type=float, default=10, help="per reader thread (two threads)")
    parser.add_argument("--workdir", default="", help="keep the hosts' logs here (default: a temporary folder)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("the rehearsal builds hosts from network namespaces: run it as root")

    from tests.integration.rehearsal import Options, rehearse

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="rehearsal-bench-"))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.monotonic()
    outcome = rehearse(
        Options(
            subscribers=args.subscribers,
            workdir=workdir,
            pages_per_second=args.pages_per_second,
            finish_timeout=3600,
        )
    )
    result = asdict(outcome)
    for name in ("accepted_twice", "lost", "sent_not_accepted"):
        result[name] = {"count": len(result[name]), "sample": result[name][:5]}
    result["load_average_before"] = load_before
    result["load_average_after"] = Path("/proc/loadavg").read_text().split()[:3]
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    result["logs"] = str(workdir / "logs")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
