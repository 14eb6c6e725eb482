"""Which machine a timing ran on, in words: the CPU's model name where the system says it
(Linux's /proc/cpuinfo), else what ``platform`` knows (10_bytes_not_parameters prints it beside
its latency table)."""

from __future__ import annotations

import platform
from pathlib import Path


def machine_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name and the number of logical CPUs, e.g. "AMD EPYC 7B13, 2 logical CPUs";
    ``platform.processor()`` or ``platform.machine()`` where /proc/cpuinfo is missing."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return platform.processor() or platform.machine() or "unknown machine"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    if not names:
        return platform.processor() or platform.machine() or "unknown machine"
    return f"{names[0]}, {len(names)} logical CPUs"
