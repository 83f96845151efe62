"""Listening TCP sockets of this machine, read from Linux's /proc (the Ray tests and the
Ray benchmark check that Ray listens on the loopback address only).

Addresses are /proc/net's: little-endian hex, 8 digits for IPv4, 32 for IPv6.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

LISTEN = "0A"  # /proc/net/tcp's state of a listening socket


@dataclasses.dataclass(frozen=True)
class Listener:
    """One listening socket: ``address`` as /proc/net writes it, ``port``, ``inode``."""

    address: str
    port: int
    inode: str

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)

    def __str__(self) -> str:
        """``127.0.0.1:6379``, ``[::]:8265``."""
        if len(self.address) == 8:
            shown = ".".join(str(b) for b in bytes.fromhex(self.address)[::-1])
        else:
            shown = "[::]" if set(self.address) == {"0"} else f"[{self.address}]"
        return f"{shown}:{self.port}"


def listening() -> set[Listener]:
    """Every listening TCP socket of this machine (IPv4 and IPv6); empty where there is
    no /proc/net."""
    out = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == LISTEN:
                address, port = fields[1].split(":")
                out.add(Listener(address, int(port, 16), fields[9]))
    return out


def is_loopback(hex_address: str) -> bool:
    """A /proc/net address (little-endian hex) that is 127.0.0.0/8, ::1 or ::ffff:127.x."""
    if len(hex_address) == 8:
        return bytes.fromhex(hex_address)[::-1][0] == 127
    words = [bytes.fromhex(hex_address[i:i + 8])[::-1] for i in range(0, 32, 8)]
    raw = b"".join(words)
    return raw == bytes(15) + b"\x01" or (raw[:12] == bytes(10) + b"\xff\xff" and raw[12] == 127)


def descendants(pid: int | None = None) -> set[int]:
    """Process ``pid`` (default this one) and every process below it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    mine, grew = {os.getpid() if pid is None else pid}, True
    while grew:
        more = {p for p, pp in parents.items() if pp in mine} - mine
        mine |= more
        grew = bool(more)
    return mine


def exposed_by_this_tree() -> list[str]:
    """The sockets (as ``str(Listener)``) that this process or a descendant (Ray's
    daemons and workers) listens on at an address other than loopback, sorted."""
    outside = {f"socket:[{s.inode}]": str(s) for s in listening() if not s.loopback}
    found = set()
    for pid in descendants() if outside else ():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in outside:
                found.add(outside[target])
    return sorted(found)
