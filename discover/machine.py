"""One line describing the machine a benchmark ran on (every benchmark table starts with it)."""
from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(*extras: str) -> str:
    """``CPU model, N cores, Python x.y, <extras>, load L`` (the load average shows a busy machine)."""
    parts = [cpu_model(), f"{os.cpu_count()} cores", f"Python {platform.python_version()}", *[e for e in extras if e]]
    try:
        parts.append(f"load {os.getloadavg()[0]:.1f}")
    except OSError:
        pass
    return ", ".join(parts)
