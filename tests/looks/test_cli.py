"""`rawlux looks` / `rawlux look`: list, contact sheet, export, fit, one-line errors."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lookdata import mcmaster_paths  # noqa: E402

import rawlux.cli as cli  # noqa: E402


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "looks", "rawlux.looks.cli:looks")
    monkeypatch.setitem(cli.COMMANDS, "look", "rawlux.looks.cli:look")

    def go(*args):
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err
    return go


def test_list_preview_export(run, tmp_path):
    code, out, _ = run("looks")
    assert code == 0 and "authentic" in out and "Documentary" in out and len(out.splitlines()) >= 16
    img = mcmaster_paths((1,))[0]
    code, out, err = run("looks", "preview", str(img), "-o", str(tmp_path / "sheet.png"), "--size", "96",
                         "--looks", "natural,mono,vivid")
    assert code == 0, err
    from PIL import Image
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("RGB")).astype(float)
    assert sheet.shape[1] >= 3 * 96
    tiles = [sheet[8:8 + 96, 8 + c * 104:8 + c * 104 + 96] for c in range(3)]
    assert np.abs(tiles[1][..., 0] - tiles[1][..., 2]).max() < 3          # the mono tile is grey
    assert np.abs(tiles[0] - tiles[2]).mean() > 5                          # vivid differs from natural
    code, out, err = run("look", "export", "cinema", "--cube", "17", "-o", str(tmp_path / "c.cube"))
    assert code == 0 and "LUT_3D_SIZE 17" in (tmp_path / "c.cube").read_text()


@pytest.mark.parametrize("args,needle", [
    (("look", "export", "nope", "-o", "x.cube"), "unknown look 'nope'"),
    (("look", "export", "vivid", "--cube", "99", "-o", "x.cube"), "out of range [2, 65]"),
    (("look", "fit", "--pairs", "/nonexistent-dir", "-o", "m.toml"), "not a folder"),
    (("look", "fit", "--pairs", ".", "-o", "m.txt"), ".toml"),
])
def test_bad_input_is_one_line(run, args, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("name", ["vivid@0.5", "authentic", "mono-warm"])
def test_look_show_prints_a_look_file_that_loads_back(run, tmp_path, name):
    from rawlux.pipeline.recipe import Recipe

    code, out, err = run("look", "show", name)
    assert code == 0, err
    p = tmp_path / "shown.toml"
    p.write_text(out)
    assert Recipe.build(str(p)).to_dict() == Recipe.build(name).to_dict()
