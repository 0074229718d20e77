"""The rehearsal's data host (issue 26): its own PostgreSQL cluster, Redis and RabbitMQ node,
bound to the data host's address in its namespace, set up by the README checklist's `data` block.

What the README says is configuration on a real machine (postgresql.conf's listen_addresses,
pg_hba.conf's line for the app network, rabbitmq.conf's listener) is written here the same way;
the block's own lines (roles, database, Redis's command line, RabbitMQ's user and vhost) run as
written, each as the user its tool runs as. Every server is a child of this process in the
foreground (nothing daemonised), so Network.down() stops all of them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .checklist import Checklist, substitute
from .netns import Network

PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/15/bin"))
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
# A tool in the data block runs as the user its server runs as.
USERS = {"psql": "postgres", "rabbitmqctl": "rabbitmq", "redis-server": "redis"}
SERVERS = ("redis-server",)  # lines that start a server rather than finish


class DataHost:
    def __init__(self, network: Network, *, name: str = "data") -> None:
        self.network = network
        self.name = name
        self.address = network.address(name)
        # Readable by the postgres, rabbitmq and redis users (pytest's tmp_path is root's only).
        self.root = Path(tempfile.mkdtemp(prefix="rehearsal-data-"))
        self.root.chmod(0o755)
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.logs.chmod(0o777)

    def _dir(self, name: str, owner: str) -> Path:
        path = self.root / name
        path.mkdir()
        shutil.chown(path, owner, owner)
        return path

    @property
    def rabbitmq_env(self) -> dict[str, str]:
        base = self.root / "rabbitmq"
        return {
            "PATH": f"{RABBITMQ_BIN}:/usr/bin:/bin",
            "HOME": "/var/lib/rabbitmq",  # the rabbitmq user's Erlang cookie
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),  # not the machine's own
            "RABBITMQ_NODENAME": "rehearsal@localhost",
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start_servers(self) -> None:
        """PostgreSQL and RabbitMQ, configured as the README says (both boot in parallel)."""
        pg = self._dir("postgres", "postgres")
        initdb = self.network.run(
            self.name,
            [str(PG_BIN / "initdb"), "-D", str(pg / "data"), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"],
            env={"PATH": "/usr/bin:/bin"},
            cwd=pg,
            timeout=120,
            user="postgres",
        )
        assert initdb.returncode == 0, initdb.stdout + initdb.stderr
        # pg_hba.conf: the app network with passwords; the local socket for the data block's psql.
        (pg / "data" / "pg_hba.conf").write_text(
            f"local all postgres trust\nhost newsletter newsletter {self.network.cidr} scram-sha-256\n"
        )
        self.network.spawn(
            self.name,
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(pg / "data"),
                "-c",
                f"listen_addresses={self.address}",
                "-c",
                f"unix_socket_directories={pg}",
                "-c",
                "max_connections=200",
            ],
            env={"PATH": "/usr/bin:/bin"},
            log=self.logs / "postgres.log",
            cwd=pg,
            user="postgres",
        )
        rabbit = self._dir("rabbitmq", "rabbitmq")
        (rabbit / "rabbitmq-env.conf").write_text("")
        (rabbit / "rabbitmq.conf").write_text(f"listeners.tcp.1 = {self.address}:5672\n")
        (rabbit / "enabled_plugins").write_text("[].\n")
        for path in rabbit.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        # epmd in the foreground first: started by the node itself it would daemonise.
        self.network.spawn(self.name, ["epmd", "-address", "127.0.0.1"], env={}, log=self.logs / "epmd.log", cwd=rabbit)
        node = self.network.spawn(
            self.name,
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            env=self.rabbitmq_env,
            log=self.logs / "rabbitmq.log",
            cwd=rabbit,
            user="rabbitmq",
        )
        self._wait_postgres(pg)
        self._wait_rabbitmq(rabbit, node)

    def _wait_rabbitmq(self, rabbit: Path, node: subprocess.Popen[bytes]) -> None:
        # await_startup waits for a booting node, but answers at once while it is not registered yet.
        deadline = time.monotonic() + 120
        while True:
            ready = self.network.run(
                self.name,
                ["rabbitmqctl", "await_startup", "--timeout", "60"],
                env=self.rabbitmq_env,
                cwd=rabbit,
                timeout=90,
                user="rabbitmq",
            )
            if ready.returncode == 0:
                return
            stopped = node.poll() is not None
            assert not stopped and time.monotonic() < deadline, (
                f"RabbitMQ did not start: {ready.stdout}{ready.stderr}\n{self.tail('rabbitmq')}"
            )
            time.sleep(1)

    def _wait_postgres(self, pg: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            probe = self.network.run(
                self.name,
                [str(PG_BIN / "pg_isready"), "-h", str(pg), "-q"],
                env={},
                cwd=pg,
                timeout=10,
                user="postgres",
            )
            if probe.returncode == 0:
                return
            time.sleep(0.3)
        raise AssertionError(f"PostgreSQL did not start\n{self.tail('postgres')}")

    def run_checklist(self, checklist: Checklist, values: dict[str, str]) -> None:
        """The README's data block, line by line; a server line is started and waited for."""
        for line in checklist.commands("data"):
            command = substitute(line, values)
            program = command.split()[0]
            user = USERS.get(program)
            env = {
                **self.rabbitmq_env,
                "PATH": f"{RABBITMQ_BIN}:{PG_BIN}:/usr/bin:/bin",
                "PGHOST": str(self.root / "postgres"),
            }
            workdir = self._dir(program, user) if program in SERVERS else self.root
            if program in SERVERS:
                self.network.spawn(
                    self.name, ["sh", "-c", command], env=env, log=self.logs / f"{program}.log", cwd=workdir, user=user
                )
                self._wait_port(6379, program)
                continue
            result = self.network.run(self.name, ["sh", "-c", command], env=env, cwd=workdir, timeout=120, user=user)
            assert result.returncode == 0, f"data host: {line!r} failed:\n{result.stdout}{result.stderr}"

    def _wait_port(self, port: int, what: str) -> None:
        deadline = time.monotonic() + 30
        probe = f"exec 3<>/dev/tcp/{self.address}/{port}"
        while time.monotonic() < deadline:
            if self.network.run(self.name, ["bash", "-c", probe], env={}, cwd=self.root, timeout=5).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"{what} does not answer on {self.address}:{port}\n{self.tail(what)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
