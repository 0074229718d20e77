"""The deployment rehearsal (issue 26): the README's "Deploying on several machines" followed host
by host on separate hosts, an edition of N subscribers sent through it, and the faults a
newsroom will meet on the way. tests/integration/test_rehearsal.py runs it in CI
(REHEARSAL_SUBSCRIBERS, 20,000 by default); bench/rehearsal_bench.py with 200,000.

Hosts (netns.py, one address each on a bridge of the run's own): `data` (PostgreSQL, Redis,
RabbitMQ: datahost.py), `web` (gunicorn behind tls_proxy.py), `worker1`, `worker2`, `beat`,
`esp` (bench/esp_emulator.py, the only stand-in), `readers` (readers.py), `ops` (where the test
looks from, with psql and curl, as an operator would; rehearsal_outcome.py says what it looks at). Every web, worker and beat host gets the
README's environment file (checklist.py) with the run's own values, and runs the README's steps
and service for its role, word for word.

The run, on a clock shared by every app host (clock_shift/): 06:50 in the newsroom's zone on
Tuesday 5 March 2030 when the web host's first step runs, 06:59:30 when the services start; a
second beat starts by mistake beside the first and runs for a minute; at 07:00 the beat's scheduled run dispatches the edition (its UTC+3 wave);
once a third of the audience is settled, worker1's link goes down for 30 s and worker2's
processes are killed (SIGKILL) and its service started again; the beat's sweeper settles what
they left. Readers ask for article pages and sign up throughout.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import checklist
from .datahost import DataHost
from .netns import Network
from .rehearsal_outcome import EDITION_DAY, Outcome, collect

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CLOCK_SHIFT = Path(__file__).resolve().parent / "clock_shift"
HOSTS = ("data", "web", "worker1", "worker2", "beat", "esp", "readers", "ops")
SITE = "news.rehearsal.test"
# The app hosts' clock: 06:50 when the web host's first step runs (migrate, the newsroom's data:
# ten minutes of room), 06:59:30 when the services start, so both beats are up for 07:00.
PREPARE_CLOCK = datetime(2030, 3, 5, 6, 50, 0, tzinfo=ZoneInfo("Asia/Baghdad"))
SERVICES_CLOCK = datetime(2030, 3, 5, 6, 59, 30, tzinfo=ZoneInfo("Asia/Baghdad"))
READER_SOURCES = 8
PENDING = ("queued", "claimed", "sending")


@dataclass
class Options:
    subscribers: int
    workdir: Path
    cut_seconds: float = 30
    second_beat_seconds: float = 60
    finish_timeout: float = 900
    worker_env: dict[str, str] = field(default_factory=dict)  # a deliberate mistake on the worker hosts
    pages_per_second: float = 5


def web_entry_point() -> str:
    """The one entry point the README names: Django behind the click and beacon fast paths."""
    return "config.wsgi:application"


class Rehearsal:
    def __init__(self, network: Network, options: Options) -> None:
        self.net = network
        self.options = options
        self.logs = options.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.checklist = checklist.read()
        token = secrets.token_hex
        self.values = {
            "DATA_HOST": network.address("data"),
            "APP_NETWORK": network.cidr,
            "DB_PASSWORD": token(12),
            "REDIS_PASSWORD": token(12),
            "AMQP_PASSWORD": token(12),
            "LONG_RANDOM_SECRET_KEY": token(32),
            "LONG_RANDOM_HASH_KEY": token(32),
            "WEBHOOK_PASSWORD": token(12),
            "MAILGUN_API_KEY": "rehearsal-key",
            "news.example.com": SITE,
        }
        self.dsn = f"postgres://newsletter:{self.values['DB_PASSWORD']}@{network.address('data')}:5432/newsletter"
        self.clock_offset: float | None = None
        self.started = time.monotonic()
        self.outcome = Outcome()
        self.services: dict[str, subprocess.Popen[bytes]] = {}

    def event(self, what: str) -> None:
        self.outcome.events.append((round(time.monotonic() - self.started, 1), what))

    # --- hosts -----------------------------------------------------------------------------

    def environment(self, host: str) -> dict[str, str]:
        """The README's environment file with the run's values, on `host`'s own disk."""
        env = {name: checklist.substitute(value, self.values) for name, value in self.checklist.environment().items()}
        env["ANYMAIL_MAILGUN_API_URL"] = f"http://{self.net.address('esp')}/v3"  # the ESP is the emulator
        env["VAR_DIR"] = str(self.options.workdir / host / "var")  # each machine its own disk
        if host.startswith("worker"):
            env.update(self.options.worker_env)
        env.update(
            PATH=f"{VENV_BIN}:/usr/bin:/bin:/usr/sbin:/sbin",
            HOME=str(self.options.workdir / host),
            LANG="C.UTF-8",
            PYTHONPATH=f"{ROOT}:{CLOCK_SHIFT}",
        )
        if self.clock_offset is not None:
            env["TEST_CLOCK_OFFSET"] = str(self.clock_offset)
        return env

    def command(self, line: str) -> str:
        return checklist.substitute(line, self.values).replace("config.wsgi:application", web_entry_point())

    def step(self, host: str, line: str, *, timeout: float = 600) -> str:
        result = self.net.run(
            host, ["sh", "-c", self.command(line)], env=self.environment(host), cwd=ROOT, timeout=timeout
        )
        output = (result.stdout + result.stderr).strip()
        assert result.returncode == 0, f"{host}: `{line}` failed (exit {result.returncode}):\n{output[-3000:]}"
        self.event(f"{host}: {line.split('#')[0].strip()}")
        return result.stdout

    def start(self, host: str, line: str, *, name: str | None = None) -> subprocess.Popen[bytes]:
        name = name or host
        process = self.net.spawn(
            host, ["sh", "-c", self.command(line)], env=self.environment(host), log=self.logs / f"{name}.log", cwd=ROOT
        )
        self.services[name] = process
        self.event(f"{host}: started `{line}`")
        return process

    def role(self, host: str, role: str) -> None:
        steps, service = self.checklist.steps(role)
        for line in steps:
            self.step(host, line)
        self.start(host, service)

    def log_tail(self, name: str, lines: int = 25) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- what the operator sees from the ops host ----------------------------------------

    def sql(self, query: str) -> list[list[str]]:
        result = self.net.run(
            "ops",
            ["psql", self.dsn, "-AtX", "-F", "\t", "-c", query],
            env={"PATH": "/usr/bin:/bin"},
            cwd=ROOT,
            timeout=120,
        )
        assert result.returncode == 0, f"psql from the ops host: {result.stderr}"
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def http(self, url: str, *extra: str, check: bool = True) -> str:
        result = self.net.run("ops", ["curl", "-sS", "--max-time", "30", *extra, url], env={}, cwd=ROOT, timeout=60)
        assert result.returncode == 0 or not check, f"curl {url} from the ops host: {result.stderr}"
        return result.stdout

    def wait(self, what: str, condition: Any, *, timeout: float, every: float = 1.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(every)
        logs = "\n".join(f"--- {name}\n{self.log_tail(name)}" for name in self.services)
        raise AssertionError(f"rehearsal: timed out after {timeout:.0f} s waiting for {what}\n{logs}")

    # --- the run ---------------------------------------------------------------------------

    def prepare(self, data: DataHost) -> list[str]:
        data.start_servers()
        data.run_checklist(self.checklist, self.values)
        self.event("data host: PostgreSQL, Redis, RabbitMQ up; README data block run")
        emulator = [sys.executable, "bench/esp_emulator.py", "--bind", self.net.address("esp"), "--port", "80"]
        self.net.spawn("esp", [*emulator, "--no-verify-body"], env={}, log=self.logs / "esp.log", cwd=ROOT)
        # From the first app host's first step on, every app host runs on the moved clock.
        self.clock_offset = PREPARE_CLOCK.timestamp() - time.time()
        steps, _service = self.checklist.steps("web")
        for line in steps:
            self.step("web", line)
        seeded = self.step(
            "web",
            f"python -m tests.integration.rehearsal_seed --subscribers {self.options.subscribers} "
            f"--day {(EDITION_DAY - timedelta(days=1)).isoformat()}",
        )
        return list(json.loads(seeded.splitlines()[-1]))

    def start_services(self) -> subprocess.Popen[bytes]:
        """Every host's service; returns the second beat (started by mistake)."""
        # The clock jumps forward once, between the one-off steps and the services (none runs across it).
        self.clock_offset = SERVICES_CLOCK.timestamp() - time.time()
        self.start("web", self.checklist.steps("web")[1])
        proxy = [sys.executable, "-m", "tests.integration.tls_proxy", "--listen", f"{self.net.address('web')}:443"]
        certificate = self.options.workdir / "tls"
        proxy += [
            "--upstream",
            "127.0.0.1:8000",
            "--cert",
            str(certificate / "cert.pem"),
            "--key",
            str(certificate / "key.pem"),
        ]
        self.net.spawn("web", proxy, env={"PYTHONPATH": str(ROOT)}, log=self.logs / "proxy.log", cwd=ROOT)
        for host in ("worker1", "worker2"):
            self.role(host, "worker")
        self.role("beat", "beat")
        mistaken = self.start("web", self.checklist.steps("beat")[1], name="second-beat")
        timer = threading.Timer(self.options.second_beat_seconds, self.stop_second_beat, args=(mistaken,))
        timer.daemon = True
        timer.start()
        healthy = lambda: '"ok"' in self.http(*self.site("/healthz"), check=False)  # noqa: E731
        self.wait("the site through the proxy (/healthz)", healthy, timeout=60)
        return mistaken

    def site(self, path: str) -> tuple[str, ...]:
        """curl arguments for `path` on the site, through the web host's proxy."""
        return f"https://{SITE}{path}", "-k", "--resolve", f"{SITE}:443:{self.net.address('web')}"

    def make_certificate(self) -> None:
        folder = self.options.workdir / "tls"
        folder.mkdir(exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", f"/CN={SITE}"]
            + ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start_readers(self, paths: list[str]) -> tuple[subprocess.Popen[bytes], Path, Path]:
        sources = [f"{self.net.subnet}.{200 + n}" for n in range(READER_SOURCES)]
        for address in sources:
            self.net.add_address("readers", address)
        stop, out = self.options.workdir / "readers.stop", self.options.workdir / "readers.json"
        argv = [sys.executable, "-m", "tests.integration.readers", "--base", f"https://{self.net.address('web')}"]
        argv += ["--host", SITE, "--paths", *paths, "--sources", *sources, "--stop", str(stop), "--out", str(out)]
        argv += ["--pages-per-second", str(self.options.pages_per_second)]
        process = self.net.spawn(
            "readers", argv, env={"PYTHONPATH": str(ROOT)}, log=self.logs / "readers.log", cwd=ROOT
        )
        return process, stop, out

    def edition(self) -> list[str] | None:
        rows = self.sql(
            "SELECT id, status, audience_count, sent_count + failed_count + unknown_count + skipped_count "
            f"FROM newsletter_digest WHERE frequency = 'daily' AND edition_date = '{EDITION_DAY}' "
            "AND utc_offset IS NOT NULL AND status IN ('sending', 'sent')"
        )
        return rows[0] if rows else None

    def faults(self, digest: list[str]) -> None:
        audience = int(digest[2])
        self.wait(
            "a third of the audience settled", lambda: int((self.edition() or digest)[3]) >= audience // 3, timeout=600
        )
        counts = dict(
            self.sql(f"SELECT status, count(*) FROM newsletter_delivery WHERE digest_id = {digest[0]} GROUP BY 1")
        )
        self.net.cut("worker1")
        self.event(f"worker1: link down (deliveries then: {counts})")
        killed = self.net.kill_host("worker2")
        self.event(f"worker2: its {killed} processes killed (SIGKILL)")
        time.sleep(2)
        self.start("worker2", self.checklist.steps("worker")[1])
        time.sleep(max(self.options.cut_seconds - 2, 0))
        self.net.restore("worker1")
        self.event("worker1: link up")

    def finished(self, digest_id: str) -> bool:
        status = self.sql(f"SELECT status FROM newsletter_digest WHERE id = {digest_id}")[0][0]
        pending = self.sql(
            f"SELECT count(*) FROM newsletter_delivery WHERE digest_id = {digest_id} "
            f"AND status IN ({', '.join(repr(s) for s in PENDING)})"
        )[0][0]
        return status == "sent" and pending == "0"

    def run(self, data: DataHost) -> Outcome:
        self.make_certificate()
        paths = self.prepare(data)
        mistaken = self.start_services()
        readers, stop, out = self.start_readers(paths)
        self.event("readers: started")
        try:
            until_seven = SERVICES_CLOCK.timestamp() + 30 - (time.time() + (self.clock_offset or 0))
            digest = self.wait("the beat's 07:00 run to dispatch the edition", self.edition, timeout=until_seven + 120)
            sending_seen = time.monotonic()
            self.event(f"edition {digest[0]} dispatched to {digest[2]} subscribers")
            self.faults(digest)
            self.wait(
                "the edition to be sent", lambda: self.finished(digest[0]), timeout=self.options.finish_timeout, every=2
            )
            self.outcome.send_seconds = round(time.monotonic() - sending_seen, 1)
            self.event("edition sent")
        finally:
            stop.touch()
            try:
                readers.wait(timeout=90)
            except subprocess.TimeoutExpired:
                pass
            self.stop_second_beat(mistaken)
        self.outcome.readers = json.loads(out.read_text()) if out.exists() else {}
        collect(self.outcome, digest[0], sql=self.sql, http=self.http, esp=self.net.address("esp"), logs=self.logs)
        return self.outcome

    def stop_second_beat(self, process: subprocess.Popen[bytes]) -> None:
        """Stop the beat started by mistake (its own process group: ours)."""
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return  # stopped meanwhile (the timer and the teardown both ask)
        self.event("web: the second beat stopped")


def rehearse(options: Options) -> Outcome:
    """Build the hosts, run the rehearsal, tear everything down (also when it fails)."""
    with Network(HOSTS) as network:
        data = DataHost(network)
        try:
            return Rehearsal(network, options).run(data)
        finally:
            data.remove()
