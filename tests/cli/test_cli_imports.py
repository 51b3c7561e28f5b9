"""Imports only where used: the CLI, the recipe and a whole develop pull no library they do not need.

Checked in a fresh interpreter (the test process has imported everything already)."""
from __future__ import annotations

import json
import subprocess
import sys

from testdata import RAW, need

HEAVY = {"colour", "scipy", "cv2", "fastapi", "distributed", "skimage", "rich", "matplotlib", "numba", "PIL",
         "uvicorn", "dask", "torch"}
LG_LINEAR = RAW / "lg-g4-linear-raw.dng"
N900 = RAW / "nokia-n900-bayer-grbg-10bit.png"


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return set(json.loads(p.stdout.strip().splitlines()[-1]))


def roots(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


def test_cli_import_pulls_no_heavy_library():
    assert not roots(loaded_after("import rawlux.cli, rawlux.cli.develop")) & HEAVY


def test_building_any_builtin_recipe_pulls_no_heavy_library():
    # what `rawlux develop` checks before decoding: options, look, every stage's parameters
    code = ("from rawlux.pipeline.recipe import Recipe\nfrom rawlux.looks import builtin_names\n"
            "for n in builtin_names(): Recipe.for_photo(None, n, sidecar=False)")
    assert not roots(loaded_after(code)) & HEAVY


def test_a_whole_develop_pulls_only_what_it_uses(tmp_path):
    need(N900)
    code = ("from rawlux.cli import main\n"
            f"try: main(['develop', {str(N900)!r}, '--cfa', 'GRBG,50,1023', '-o', {str(tmp_path / 'n.jpg')!r}, '-q'])\n"
            "except SystemExit as e: assert not e.code, e.code")
    mods = loaded_after(code)
    assert not roots(mods) & {"colour", "skimage", "fastapi", "distributed", "rich", "matplotlib", "dask"}
    # scipy is there only because numba probes scipy.linalg's BLAS when its CPU target starts; nothing else of it
    assert {".".join(m.split(".")[:2]) for m in mods if m.startswith("scipy.")} <= {
        "scipy.linalg", "scipy._lib", "scipy.__config__", "scipy.version", "scipy._distributor_init",
        "scipy._cyutility", "scipy._distributor_init_local"}
