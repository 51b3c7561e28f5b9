"""``rawlux develop --timings``: a per-stage time table that lists the stages that ran and adds up."""
from __future__ import annotations

import re

from testdata import N900_PROFILE, RAW, need, run_cli

from rawlux.cli.develop import timings_table
from rawlux.pipeline.order import stage_names

N900 = RAW / "nokia-n900-bayer-grbg-10bit.png"
LG_LINEAR = RAW / "lg-g4-linear-raw.dng"
ROW = re.compile(r"^  (.+?)\s+(\d+\.\d{3})(?:\s+(\d+\.\d)%)?$")
PROCESS_ROWS = {"start-up (interpreter + imports)", "setup (options, look, stage modules)", "process so far"}


def parse_tables(stdout: str) -> list[dict[str, float]]:
    tables: list[dict[str, float]] = []
    for line in stdout.splitlines():
        if line.startswith("timings: "):
            tables.append({})
        elif tables and (m := ROW.match(line)):
            tables[-1][m.group(1).strip()] = float(m.group(2))
    return tables


def check_table(t: dict[str, float], must: set[str]) -> None:
    total = t["total (this file)"]
    steps = {k: v for k, v in t.items() if k != "total (this file)" and k not in PROCESS_ROWS}
    # point-wise stages fused into one pass are one row, named "colour+exposure+tone+output"
    ran = [name for k in steps for name in k.split("+")]
    assert must <= set(ran), (must - set(ran), t)
    assert all(v >= 0 for v in t.values()), t
    # the rows are each rounded to 1 ms: together they never exceed the total by more than the rounding
    assert sum(steps.values()) <= total + 0.0005 * len(steps) + 1e-9, (sum(steps.values()), total)
    stages = [k for k in ran if k in stage_names()]
    assert stages == sorted(stages, key=stage_names().index), stages     # in the order they ran
    assert list(steps)[:2] == ["recipe", "decode"] and list(steps)[-2:] == ["encode", "other (notes, checks)"]
    assert t["process so far"] >= total


def test_timings_table_of_a_bayer_develop(tmp_path):
    need(N900)
    res = run_cli("develop", N900, "--cfa", "GRBG,50,1023", "--profile", N900_PROFILE, "-o", tmp_path / "n.jpg",
                  "--timings", "-q")
    assert res.returncode == 0, res.stderr
    (t,) = parse_tables(res.stdout)
    check_table(t, {"decode", "levels", "whitebalance", "demosaic", "colour", "tone", "output", "encode"})
    assert "colour+exposure+tone+output" in t                          # one pass
    assert "opcodes1" not in t and "bokeh" not in t                    # stages that did not run are not listed
    assert t["start-up (interpreter + imports)"] > 0 and t["setup (options, look, stage modules)"] > 0
    assert (tmp_path / "n.jpg").stat().st_size > 0


def test_timings_per_file_and_for_linear_output(tmp_path):
    need(LG_LINEAR)
    need(N900)
    res = run_cli("develop", LG_LINEAR, "--out-dir", tmp_path, "--bits", "32", "--format", "tiff", "--timings")
    assert res.returncode == 0, res.stderr
    (t,) = parse_tables(res.stdout)
    check_table(t, {"decode", "levels", "colour", "tone", "output (linear)", "encode"})
    assert "demosaic" not in t and "output" not in t                   # linear raw: no mosaic; 32-bit: no encoding
    assert str(tmp_path) in res.stdout                                 # -q not given: the file line is there too


def test_timings_table_rows_add_up():
    text = timings_table("a.dng", {"recipe": 0.01, "decode": 0.2, "levels": 0.3, "encode": 0.1}, 0.7,
                         {"process so far": 1.0})
    t = parse_tables(text)[0]
    assert t["other (notes, checks)"] == 0.09 and t["total (this file)"] == 0.7 and t["process so far"] == 1.0
    # a total smaller than the sum (clock granularity) never gives a negative row
    assert parse_tables(timings_table("a", {"decode": 0.2}, 0.1))[0]["other (notes, checks)"] == 0.0
