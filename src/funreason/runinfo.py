"""What every run saves next to its outputs: config, versions, git commit, hardware, time."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from funreason import __version__


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The commit of the source tree funreason runs from (None outside a git checkout)."""
    folder = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def hardware(accelerator: bool = True) -> str:
    """The accelerator if there is one, else the CPU, in words.

    `accelerator=False` describes the CPU without importing torch (about a second), for runs that
    only read and score files.
    """
    if not accelerator:
        return f"CPU ({platform.machine()}, {os.cpu_count()} cores)"
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}"
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def run_info(config: dict[str, Any] | None = None, *, accelerator: bool = True) -> dict[str, Any]:
    """A self-describing header for a run's outputs; `accelerator`: as in `hardware`."""
    return {
        "funreason": __version__,
        "git_commit": git_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "transformers": package_version("transformers"),
        "hardware": hardware(accelerator),
        "config": config or {},
    }
