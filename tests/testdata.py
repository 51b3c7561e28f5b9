"""Shared test helpers (paths to ../shared/data, skip when absent, CLI runner). A plain module with a unique
name, importable from any test folder (pytest's pythonpath includes tests/)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
RAW = DATA / "raw"
DUMPS = DATA / "sensor-dumps"
COLOUR = DATA / "colour"
N900_PROFILE = ROOT / "src" / "rawlux" / "data" / "demo-n900-profile.toml"
HERO6 = RAW / "gopro-hero6-12mp.dng"

def need(path: Path) -> Path:
    """Skip the test cleanly when the shared data folder (or this file in it) is absent."""
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} is absent")
    if not path.exists():
        pytest.skip(f"{path} is absent from the shared data")
    return path


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def err_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


def run_cli(*args: str | os.PathLike[str], cwd: Path | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> CliResult:
    """Run ``python -m rawlux.cli ARGS`` in a fresh process (what a user's shell does)."""
    e = dict(os.environ)
    e.pop("RAWLUX_DEBUG", None)
    if env:
        e.update(env)
    p = subprocess.run([sys.executable, "-m", "rawlux.cli", *map(str, args)], cwd=cwd, env=e,
                       capture_output=True, text=True, timeout=timeout)
    return CliResult(p.returncode, p.stdout, p.stderr)


