"""Separate hosts on this one machine, for the deployment rehearsal (issue 26): one Linux network
namespace per host, each with its own hostname (a UTS namespace per process tree) and one
address on a bridge of this run's own, on an address range the run creates and removes.

Nothing leaves the range: the namespaces have no default route and the machine's own namespace
gets no address on the bridge, so a host can reach only the other hosts, and the test reaches
them only by running commands inside one (`Network.run(host, ...)`). Cutting a host off pulls
its cable: the bridge-side end of its link goes down, so its packets go nowhere and nothing is
refused, as in a real partition.

Names carry the pid of the process that made them (`nl26-<pid>-web`, bridge `n26<pid>br`):
`down()` removes everything this run made, also after a failure, and `reap_stale()` removes
what a run killed before its teardown left behind (its pid is gone), nothing else. Root only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PREFIX = "nl26"
# RFC 2544's benchmarking range: never routed on the internet, and here only ever inside the
# namespaces of one run (two runs use two bridges that never meet).
DEFAULT_SUBNET = "198.18.26"
_STALE = re.compile(rf"^{PREFIX}-(\d+)-")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def namespace_pids(namespace: str) -> list[int]:
    result = ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in result.stdout.split()]


@dataclass(frozen=True)
class Host:
    name: str  # its role: data, web, worker1, ...
    namespace: str
    address: str
    link: str  # the bridge-side end of its cable


class Network:
    def __init__(self, names: Sequence[str], *, subnet: str = DEFAULT_SUBNET) -> None:
        pid = os.getpid()
        self.subnet = subnet
        self.bridge = f"n26{pid}br"
        self.hosts = {
            name: Host(name, f"{PREFIX}-{pid}-{name}", f"{subnet}.{index + 2}", f"n26{pid}h{index}")
            for index, name in enumerate(names)
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def cidr(self) -> str:
        return f"{self.subnet}.0/24"

    def address(self, name: str) -> str:
        return self.hosts[name].address

    def up(self) -> None:
        reap_stale()
        ip("link", "add", self.bridge, "type", "bridge")
        ip("link", "set", self.bridge, "up")
        for host in self.hosts.values():
            ip("netns", "add", host.namespace)
            ip("-n", host.namespace, "link", "set", "lo", "up")
            ip("link", "add", host.link, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
            ip("link", "set", host.link, "master", self.bridge, "up")
            ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
            ip("-n", host.namespace, "link", "set", "eth0", "up")

    def add_address(self, name: str, address: str) -> None:
        """One more address on host `name` (a readers' host with several clients)."""
        ip("-n", self.hosts[name].namespace, "addr", "add", f"{address}/24", "dev", "eth0")

    def command(self, name: str, argv: Sequence[str], *, user: str | None = None) -> list[str]:
        """argv run on host `name`, under its own hostname (and as `user`, when given)."""
        host = self.hosts[name]
        as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] if user else []
        shell = 'hostname "$0" && exec "$@"'
        return ["ip", "netns", "exec", host.namespace, "unshare", "--uts", "sh", "-c", shell, name, *as_user, *argv]

    def spawn(
        self, name: str, argv: Sequence[str], *, env: dict[str, str], log: Path, cwd: Path, user: str | None = None
    ) -> subprocess.Popen[bytes]:
        """A long-running process on host `name`, logging to `log`; stopped by down()."""
        with log.open("ab") as handle:
            process = subprocess.Popen(
                self.command(name, argv, user=user),
                cwd=cwd,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        timeout: float,
        user: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """A command on host `name`, run to its end; its output is returned, not raised."""
        return subprocess.run(
            self.command(name, argv, user=user),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def cut(self, name: str) -> None:
        ip("link", "set", self.hosts[name].link, "down")

    def restore(self, name: str) -> None:
        ip("link", "set", self.hosts[name].link, "up")

    def kill_host(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to every process on host `name` (all of them ours); returns how many."""
        pids = namespace_pids(self.hosts[name].namespace)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        self._reap()
        return len(pids)

    def _reap(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass

    def down(self) -> None:
        """Stop every process on every host, then remove the namespaces, links and bridge."""
        for host in self.hosts.values():
            for pid in namespace_pids(host.namespace):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for host in self.hosts.values():
            ip("link", "del", host.link, check=False)
            ip("netns", "del", host.namespace, check=False)
        ip("link", "del", self.bridge, check=False)

    def __enter__(self) -> Network:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()


def reap_stale() -> list[str]:
    """Remove the namespaces (and bridge) of earlier runs of this module whose process is gone."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _STALE.match(name)
        if not match or Path(f"/proc/{match.group(1)}").exists():
            continue
        for pid in namespace_pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        ip("netns", "del", name, check=False)
        ip("link", "del", f"n26{match.group(1)}br", check=False)
        removed.append(name)
    return removed
