"""Batch test fixtures (the helpers live in batchkit.py)."""
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from batchkit import mixed_folder  # noqa: E402,F401 - re-exported as a fixture
