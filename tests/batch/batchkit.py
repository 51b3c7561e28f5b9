"""Helpers for the batch tests: small real inputs copied under tmp, a subprocess runner, output checks."""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".." / "shared" / "data"
RAW = DATA / "raw"
KDC = RAW / "kodak-dc50.kdc"              # 768×512 Bayer GRBG
LG = RAW / "lg-g4-linear-raw.dng"         # 600×338 LinearRaw DNG (87 KB)
GPR = RAW / "gopro-hero6-vc5.gpr"         # VC-5 compressed: LibRaw cannot decode it
N900 = RAW / "nokia-n900-bayer-grbg-10bit.png"


def need_data() -> None:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} is absent")
    for p in (KDC, LG, GPR):
        if not p.exists():
            pytest.skip(f"{p} is absent from the shared data")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("RAWLUX_DEBUG", None)
    return e


def batch_cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "rawlux.batch", *map(str, args)]


def run_batch_cli(*args: object, timeout: float = 150) -> subprocess.CompletedProcess:
    return subprocess.run(batch_cmd(*args), capture_output=True, text=True, timeout=timeout, env=env())


def read_image(path: Path) -> np.ndarray:
    """Fully decode an output (raises if it is truncated or corrupt)."""
    from PIL import Image
    with Image.open(path) as im:
        im.load()
        return np.asarray(im.convert("RGB"))


def rows(out_dir: Path) -> dict[str, dict]:
    db = sqlite3.connect(f"file:{out_dir / '.rawlux' / 'catalog.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return {r["src"]: dict(r) for r in db.execute("SELECT * FROM files")}
    finally:
        db.close()


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a crash could leave (``.NAME.xxxx.part``)."""
    return [p for p in folder.rglob("*.part")]


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """Good raws, one with a sidecar, a truncated DNG, garbage with a raw extension, an unsupported codec,
    and files the scan must ignore."""
    need_data()
    src = tmp_path / "card"
    src.mkdir()
    shutil.copy(KDC, src / "a.kdc")
    shutil.copy(KDC, src / "b.kdc")
    (src / "b.kdc.rawlux.toml").write_text("schema_version = 1\n[exposure]\ntarget = 0.3\n")
    shutil.copy(LG, src / "c.dng")
    data = LG.read_bytes()
    (src / "truncated.dng").write_bytes(data[: len(data) // 3])
    (src / "garbage.nef").write_bytes(os.urandom(50_000))
    shutil.copy(GPR, src / "vc5.gpr")
    (src / "notes.txt").write_text("not a photo")
    (src / ".hidden.dng").write_bytes(b"ignored")
    return src


def copies(folder: Path, n: int, sources: tuple[Path, ...] = (KDC, LG)) -> list[Path]:
    need_data()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        s = sources[i % len(sources)]
        p = folder / f"img_{i:03d}{s.suffix}"
        shutil.copy(s, p)
        out.append(p)
    return out
