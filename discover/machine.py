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


def blas_description() -> str:
    """numpy's BLAS and the threads it may use, e.g. ``BLAS scipy-openblas 0.3.31 (threads: default)``."""
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # numpy's config layout is not a stable API: say so rather than fail a benchmark
        name = "unknown"
    threads = next((f"{var}={os.environ[var]}" for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                    if os.environ.get(var)), "default")
    return f"BLAS {name} (threads: {threads})"


def describe_machine(*extras: str) -> str:
    """``CPU model, N cores, Python x.y, BLAS ..., <extras>, load L`` (the load shows a busy machine)."""
    parts = [cpu_model(), f"{os.cpu_count()} cores", f"Python {platform.python_version()}", blas_description(),
             *[e for e in extras if e]]
    try:
        parts.append(f"load {os.getloadavg()[0]:.1f}")
    except OSError:
        pass
    return ", ".join(parts)
