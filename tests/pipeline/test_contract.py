"""The stage contract: states given and taken, typed facts, required stages, one recipe builder, develop_file."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.errors import ParameterError
from rawlux.frame import Frame, Metadata, State
from rawlux.pipeline.order import REQUIRED, get_stage, stage_names
from rawlux.pipeline.recipe import Recipe
from rawlux.pipeline.run import run_stages


def _photo(kind: str = "linear_raw") -> Frame:
    yy, xx = np.mgrid[0:24, 0:32].astype(np.float32)
    px = np.stack([xx / 32, yy / 24, (xx + yy) / 56], axis=2).astype(np.float32) * 0.6 + 0.05
    return Frame(px, State.SCENE_LINEAR, Metadata(kind=kind))


def test_tone_gives_display_linear_and_every_later_stage_takes_it():
    names = stage_names()
    assert get_stage("tone").gives is State.DISPLAY_LINEAR
    for n in names[names.index("tone") + 1:]:
        assert State.DISPLAY_LINEAR in get_stage(n).takes, n
    seen: dict[str, State] = {}
    rec = Recipe.for_photo(None, "vivid", sidecar=False)
    out = run_stages(_photo(), rec, on_stage=lambda n, f: seen.__setitem__(n, f.state))
    assert seen["tone"] is State.DISPLAY_LINEAR and seen["grade"] is State.DISPLAY_LINEAR
    assert out.state is State.DISPLAY and out.meta.facts.display_referred


def test_display_referred_input_is_marked_not_toned():
    rec = Recipe.for_photo(None, "natural", sidecar=False, overrides={"output": {"space": "rec2020"}})
    f = _photo("image")
    seen: dict[str, np.ndarray] = {}
    run_stages(f, rec, stop="tone", on_stage=lambda n, fr: seen.__setitem__(n, fr.pixels.copy()))
    assert np.allclose(seen["tone"], f.pixels)


@pytest.mark.parametrize("stage", sorted(REQUIRED))
def test_required_stage_cannot_be_switched_off(stage):
    with pytest.raises(ParameterError, match=f"{stage}.enabled = false"):
        Recipe.for_photo(None, "natural", sidecar=False, sets=[f"{stage}.enabled=false"])


@pytest.mark.parametrize("stage", ["tone", "grade", "exposure", "crop", "localtone", "highlights", "denoise"])
def test_optional_stage_honours_enabled(stage):
    st = get_stage(stage)
    p = Recipe.for_photo(None, "natural", sidecar=False, sets=[f"{stage}.enabled=false"]).params[stage]
    for state in State:
        f = Frame(np.zeros((4, 4, 3), np.float32) if state is not State.CFA else np.zeros((4, 4), np.float32), state)
        assert not st.applies(f, p), (stage, state)


def test_facts_are_copied_with_the_frame_and_notes_deduplicated():
    f = _photo()
    f.meta.note("lens: not found")
    g = f.with_pixels(f.pixels)
    g.meta.note("second")
    g.meta.note("second")
    assert f.meta.facts.notes == ["lens: not found"]
    assert g.meta.facts.notes == ["lens: not found", "second"]


def test_recipe_for_photo_layers(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"")
    (tmp_path / "a.jpg.rawlux.toml").write_text('look = "mono"\n[tone]\ncontrast = 1.3\n')
    batch = tmp_path / "batch.toml"
    batch.write_text('look = "vivid"\n[tone]\ncontrast = 0.8\n[exposure]\nev = 0.5\n')
    rec = Recipe.for_photo(photo, None, recipe_file=batch, sets=["exposure.ev=0.25"])
    assert rec.look == "mono"                                   # the sidecar's look wins over the file's
    assert rec.params["tone"].contrast == 1.3                    # sidecar over recipe file
    assert rec.params["exposure"].ev == 0.25                     # --set over both
    rec2 = Recipe.for_photo(photo, None, sidecar=False, recipe_file=batch)
    assert rec2.look == "vivid" and rec2.params["tone"].contrast == 0.8


def test_develop_file_returns_frame_and_notes(tmp_path):
    import cv2

    from rawlux.pipeline.files import develop_file

    src = tmp_path / "in.png"
    px = (np.linspace(0, 255, 48 * 64 * 3).reshape(48, 64, 3)).astype(np.uint8)
    cv2.imwrite(str(src), px)
    dst = tmp_path / "out.jpg"
    frame, notes = develop_file(src, dst, Recipe.for_photo(src, "natural"), quality=90)
    assert dst.is_file() and frame.state is State.DISPLAY and isinstance(notes, list)
    with pytest.raises(Exception, match="exists"):
        develop_file(src, dst, Recipe.for_photo(src, "natural"))
