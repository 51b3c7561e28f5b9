"""Shared fixtures: the real-data folder, CLI runner, developed frames shared across modules."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# every `rawlux develop` the tests start runs in its own process: no background worker is left behind by the
# suite (tests/cli/test_worker.py turns it on, in a folder of its own, and stops it)
os.environ["RAWLUX_WORKER"] = "off"

from testdata import (COLOUR, DATA, DUMPS, HERO6, N900_PROFILE, RAW, ROOT, CliResult, need,  # noqa: F401
                      run_cli, sha256)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return need(DATA)


@pytest.fixture(scope="session")
def hero6() -> Path:
    return need(HERO6)


@pytest.fixture(scope="session")
def cli():
    return run_cli


@pytest.fixture(scope="session")
def hero6_developed(hero6):
    """The Hero6 DNG developed once per session with the default look (a DISPLAY frame)."""
    import rawlux
    return rawlux.develop(hero6)
