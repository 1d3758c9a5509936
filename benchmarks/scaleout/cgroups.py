"""A CPU cgroup of its own for one process: a quota (cgroup v1 `cpu.cfs_quota_us`, v2
`cpu.max`) and the CPU its processes used (v1 `cpuacct.usage`, v2 `cpu.stat` usage_usec).
Needs root; the group is removed on close."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


def available() -> bool:
    """Whether this process may make CPU groups here."""
    if os.geteuid() != 0:
        return False
    if _v2():
        return (ROOT / "cgroup.controllers").read_text().split().count("cpu") == 1
    return (ROOT / "cpu" / "cpu.cfs_quota_us").exists() and (ROOT / "cpuacct").exists()


def _v2() -> bool:
    return (ROOT / "cgroup.controllers").exists()


class CpuGroup:
    """One group named `name`; `share` of one core (0.2: 20%), or no cap when None."""

    def __init__(self, name: str, share: float | None) -> None:
        self.name = name
        self.share = share
        if _v2():
            (ROOT / "cgroup.subtree_control").write_text("+cpu")
            self.dirs = [ROOT / name]
        else:
            # cpu and cpuacct may be mounted together (one folder) or apart.
            dirs = {(ROOT / kind).resolve() / name for kind in ("cpu", "cpuacct")}
            self.dirs = sorted(dirs)
        for folder in self.dirs:
            folder.mkdir(exist_ok=True)
        self.set_share(share)

    def set_share(self, share: float | None) -> None:
        self.share = share
        quota = -1 if share is None else round(share * PERIOD_US)
        if _v2():
            value = "max" if quota < 0 else str(quota)
            (self.dirs[0] / "cpu.max").write_text(f"{value} {PERIOD_US}")
        else:
            cpu = self._v1("cpu")
            (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(str(quota))

    def quota(self) -> float | None:
        """The share of a core the kernel holds the group to, read back."""
        if _v2():
            quota, period = (self.dirs[0] / "cpu.max").read_text().split()
            return None if quota == "max" else int(quota) / int(period)
        cpu = self._v1("cpu")
        quota_us = int((cpu / "cpu.cfs_quota_us").read_text())
        period_us = int((cpu / "cpu.cfs_period_us").read_text())
        return None if quota_us < 0 else quota_us / period_us

    def add(self, pid: int) -> None:
        for folder in self.dirs:
            (folder / "cgroup.procs").write_text(str(pid))

    def cpu_seconds(self) -> float:
        """CPU the group's processes used since it was made (the ones that left included)."""
        if _v2():
            for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
                key, value = line.split()
                if key == "usage_usec":
                    return int(value) / 1e6
            raise RuntimeError("cpu.stat has no usage_usec")
        return int((self._v1("cpuacct") / "cpuacct.usage").read_text()) / 1e9

    def throttled(self) -> int:
        """How many periods the quota stopped the group (cpu.stat nr_throttled)."""
        stat = (self._v1("cpu") if not _v2() else self.dirs[0]) / "cpu.stat"
        for line in stat.read_text().splitlines():
            key, value = line.split()
            if key == "nr_throttled":
                return int(value)
        return 0

    def _v1(self, controller: str) -> Path:
        wanted = (ROOT / controller).resolve()
        return next(folder for folder in self.dirs if folder.parent == wanted)

    def close(self) -> None:
        """Moves what is left to the root group, then removes the group."""
        for folder in self.dirs:
            if not folder.exists():
                continue
            root_procs = folder.parent / "cgroup.procs"
            for pid in (folder / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # gone meanwhile
                    root_procs.write_text(pid)
            folder.rmdir()


class MachineCpu:
    """The whole machine's CPU from /proc/stat: the share of it left idle over a window."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [
            int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        ]
        idle = fields[3] + fields[4]  # idle and iowait
        return idle, sum(fields[:8])  # guest time is already in user

    def idle_share(self) -> float:
        idle, total = self._read()
        return (idle - self._start[0]) / max(1, total - self._start[1])
