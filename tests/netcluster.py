"""Several hosts on one machine: a Linux network namespace per host, each with its own veth link to one bridge.

Each host has its own address, loopback and hostname (a UTS namespace per process tree), so a process bound to
its host's address is reachable only across the bridge: traffic between hosts never touches the loopback of the
machine. The machine itself (the test process) is the bridge's first address, like an operator's laptop on the
cluster's network.

Every namespace, link and process made here is removed by `close()`, also when a test fails; namespaces a killed
run left behind (their owner's PID is gone) are removed by the next run. Needs root (or CAP_NET_ADMIN) and iproute2:
`unavailable()` says why not, for a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import Proc, spawn

PREFIX = "s2sc"  # namespaces are named s2sc<pid><letter>-<host>; links s2sc<pid><letter>b (bridge), ...v<n>, ...w<n>
_made = 0  # clusters made by this process: the letter


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=20)


def unavailable() -> str | None:
    """Why hosts cannot be built here (None: they can)."""
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "iproute2 (ip) and util-linux (unshare) are needed for network namespaces"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create network namespaces here: {made.stderr.strip()} (run as root or with CAP_NET_ADMIN)"
    _ip("netns", "del", probe, check=False)
    bridge = f"{PREFIX}{os.getpid()}p"
    made = _ip("link", "add", bridge, "type", "bridge", check=False)
    if made.returncode != 0:
        return f"cannot create a bridge here: {made.stderr.strip()}"
    _ip("link", "del", bridge, check=False)
    return None


def _pids_in(ns: str) -> list[int]:
    out = _ip("netns", "pids", ns, check=False).stdout.split()
    return [int(p) for p in out if p.isdigit()]


def _owner(name: str) -> str | None:
    """The PID of the process that made a namespace or link of ours (None: not ours)."""
    if not name.startswith(PREFIX):
        return None
    digits = name[len(PREFIX) :]
    owner = digits[: len(digits) - len(digits.lstrip("0123456789"))]
    return owner or None


def remove_stale() -> None:
    """Namespaces and bridges of earlier runs whose process is gone (a run killed before it could clean up)."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        owner = _owner(name)
        if owner and not Path(f"/proc/{owner}").exists():
            for pid in _pids_in(name):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _ip("netns", "del", name, check=False)
    for line in _ip("-o", "link", "show", "type", "bridge", check=False).stdout.splitlines():
        owner = _owner(line.split(":")[1].strip().split("@")[0])
        if owner and not Path(f"/proc/{owner}").exists():
            _ip("link", "del", name, check=False)


@dataclass
class Host:
    name: str
    ns: str
    ip: str
    link: str  # the machine's end of its veth pair: set it down to cut the host off
    procs: list[Proc] = field(default_factory=list)

    def argv(self, argv: list[str]) -> list[str]:
        """A command line that runs on this host: in its network namespace, with its own hostname."""
        return ["ip", "netns", "exec", self.ns, "unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"',
                self.name, *argv]  # fmt: skip

    def spawn(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Proc:
        proc = spawn(f"{self.name}-{name}", self.argv(argv), log_dir, env)
        self.procs.append(proc)
        return proc

    def kill_all(self) -> int:
        """SIGKILL every process on the host (as when its machine dies); how many there were."""
        pids = _pids_in(self.ns)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=10)
        self.procs.clear()
        return len(pids)

    def set_link(self, up: bool) -> None:
        _ip("link", "set", self.link, "up" if up else "down")


class NetCluster:
    """A bridge on the machine and a host per name, on a /24 of its own (10.<a>.<b>.0/24, from the PID)."""

    def __init__(self) -> None:
        global _made
        remove_stale()
        pid = os.getpid()
        self.tag = f"{PREFIX}{pid}{'abcdefghijklmnopqrstuvwxyz'[_made % 26]}"
        _made += 1
        self.bridge = f"{self.tag}b"
        self.subnet = f"10.{200 + pid % 50}.{(pid // 50 + _made * 37) % 250}"
        self.gateway = f"{self.subnet}.1"
        self.hosts: dict[str, Host] = {}
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def add_host(self, name: str) -> Host:
        index = len(self.hosts) + 1
        ns, link, peer = f"{self.tag}-{name}", f"{self.tag}v{index}", f"{self.tag}w{index}"
        ip = f"{self.subnet}.{10 + index}"
        _ip("netns", "add", ns)
        host = Host(name, ns, ip, link)
        self.hosts[name] = host
        _ip("link", "add", link, "type", "veth", "peer", "name", peer)
        _ip("link", "set", peer, "netns", ns)
        _ip("link", "set", link, "master", self.bridge)
        _ip("link", "set", link, "up")
        for args in (
            ["link", "set", "lo", "up"],
            ["link", "set", peer, "name", "eth0"],
            ["addr", "add", f"{ip}/24", "dev", "eth0"],
            ["link", "set", "eth0", "up"],
            ["route", "add", "default", "via", self.gateway],
        ):
            _ip("-n", ns, *args)
        return host

    def close(self) -> None:
        for host in self.hosts.values():
            host.kill_all()
        deadline = time.monotonic() + 10
        for host in self.hosts.values():
            while _pids_in(host.ns) and time.monotonic() < deadline:
                time.sleep(0.1)
            _ip("netns", "del", host.ns, check=False)  # its veth pair goes with it
        _ip("link", "del", self.bridge, check=False)
        self.hosts.clear()

    def __enter__(self) -> NetCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
