"""The catalog (real SQLite), the scan and the job hash, without developing anything."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from rawlux.batch.catalog import SCHEMA_VERSION, Catalog
from rawlux.batch.engine import BatchOptions, RecipeMaker
from rawlux.batch.scan import output_paths, scan
from rawlux.errors import OutputError, ParameterError


def test_catalog_lifecycle_and_crash_recovery(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.begin_run(["x"])
    cat.mark_pending([("/a.dng", 10, 1, "J1", "a.jpg"), ("/b.dng", 20, 2, "J1", "b.jpg")])
    cat.mark_running("/a.dng", "w1")
    cat.mark_running("/b.dng", "w2")
    cat.mark_done("/a.dng", content_hash="H", size=10, mtime_ns=1, out_size=5, out_checksum="C", worker="w1",
                  seconds=0.5, timings={"decode": 0.1}, notes=["no lens"])
    # a second connection (another process) sees committed rows at once (WAL, autocommit)
    other = sqlite3.connect(tmp_path / ".rawlux" / "catalog.sqlite")
    assert dict(other.execute("SELECT src, status FROM files").fetchall()) == {"/a.dng": "done", "/b.dng": "running"}
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()
    # the process "dies" here; a new run puts the in-flight row back to pending, keeps the done one
    del cat
    cat2 = Catalog(tmp_path)
    assert cat2.release_running() == 1
    assert cat2.counts() == {"pending": 1, "running": 0, "done": 1, "failed": 0}
    a = cat2.get("/a.dng")
    assert a.as_dict()["notes"] == ["no lens"] and a.as_dict()["timings"] == {"decode": 0.1} and a.attempts == 1
    cat2.mark_failed("/b.dng", error="/b.dng: corrupt", error_code=3)
    assert [r.src for r in cat2.rows("failed")] == ["/b.dng"]
    cat2.close()


def test_catalog_refuses_newer_schema_and_readonly_is_harmless(tmp_path: Path) -> None:
    ro = Catalog(tmp_path / "none", readonly=True)
    assert ro.get("/x") is None and ro.counts()["done"] == 0 and not (tmp_path / "none").exists()
    Catalog(tmp_path).close()
    db = sqlite3.connect(tmp_path / ".rawlux" / "catalog.sqlite")
    db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(OutputError, match="newer rawlux"):
        Catalog(tmp_path)


def test_concurrent_writers_do_not_lose_rows(tmp_path: Path) -> None:
    """Several connections updating at once (as a client and a watcher could) all land."""
    Catalog(tmp_path).mark_pending([(f"/f{i}", i, i, "J", f"f{i}.jpg") for i in range(40)])

    def work(k: int) -> None:
        c = Catalog(tmp_path)
        for i in range(k, 40, 4):
            c.mark_done(f"/f{i}", content_hash="h", size=i, mtime_ns=i, out_size=1, out_checksum="c",
                        worker=f"t{k}", seconds=0.0, timings=None)
        c.close()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert Catalog(tmp_path).counts()["done"] == 40


def test_scan_and_output_names(tmp_path: Path) -> None:
    (tmp_path / "a" / "sub").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    for p in ("a/IMG_1.dng", "a/IMG_1.NEF", "a/sub/IMG_2.dng", "a/.hidden.dng", "a/readme.txt", "b/IMG_1.dng"):
        (tmp_path / p).write_bytes(b"x")
    out = tmp_path / "a" / "out"
    out.mkdir()
    (out / "old.dng").write_bytes(b"x")                 # the output folder is never scanned
    flat = scan([str(tmp_path / "a")], out_dir=out)
    assert [i.rel.as_posix() for i in flat] == ["IMG_1.NEF", "IMG_1.dng"]
    deep = scan([str(tmp_path / "a"), str(tmp_path / "b")], out_dir=out, recursive=True)
    assert [i.rel.as_posix() for i in deep] == ["IMG_1.NEF", "IMG_1.dng", "sub/IMG_2.dng", "IMG_1.dng"]
    names = [p.relative_to(out).as_posix() for p in output_paths(deep, out, ".jpg")]
    assert names == ["IMG_1_nef.jpg", "IMG_1_dng.jpg", "sub/IMG_2.jpg", "IMG_1_dng_2.jpg"]
    assert len(set(names)) == len(names)
    only = scan([str(tmp_path / "a")], out_dir=out, recursive=True, globs=("*.DNG",))
    assert [i.rel.as_posix() for i in only] == ["IMG_1.dng", "sub/IMG_2.dng"]
    with pytest.raises(ParameterError, match="no such file"):
        scan([str(tmp_path / "missing")], out_dir=out)


def test_job_hash_tracks_recipe_output_settings_and_sidecars(tmp_path: Path) -> None:
    img = tmp_path / "x.dng"
    img.write_bytes(b"x")
    base = RecipeMaker(BatchOptions())
    h0 = base.job_hash(base.for_input(img))
    assert h0 == RecipeMaker(BatchOptions()).job_hash(RecipeMaker(BatchOptions()).for_input(img))   # stable
    for opts in (BatchOptions(sets=("tone.contrast=1.2",)), BatchOptions(quality=80), BatchOptions(fmt="png"),
                 BatchOptions(frame="bar"),
                 BatchOptions(look="vivid") if _has_look("vivid") else BatchOptions(bits=16, fmt="png")):
        m = RecipeMaker(opts)
        assert m.job_hash(m.for_input(img)) != h0
    (tmp_path / "x.dng.rawlux.toml").write_text("[tone]\ncontrast = 1.3\n")
    assert base.job_hash(base.for_input(img)) != h0
    assert RecipeMaker(BatchOptions(sidecars=False)).job_hash(RecipeMaker(BatchOptions(sidecars=False)).for_input(img)) == h0
    rf = tmp_path / "recipe.toml"
    rf.write_text("[tone]\ncontrast = 1.3\n")
    m = RecipeMaker(BatchOptions(recipe_file=str(rf), sidecars=False))
    assert m.for_input(img).params["tone"].contrast == pytest.approx(1.3)
    with pytest.raises(ParameterError):
        RecipeMaker(BatchOptions(sets=("tone.nonsense=1",)))


def _has_look(name: str) -> bool:
    from importlib.resources import files
    return (files("rawlux.looks") / "builtin" / f"{name}.toml").is_file()
