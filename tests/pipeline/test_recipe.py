"""Recipes: layering (defaults < look < sidecar < --set < kwargs), validation before decoding, --set parsing."""
from __future__ import annotations

import pytest

import rawlux
from rawlux.errors import InputError, LookError, ParameterError
from rawlux.pipeline.recipe import Recipe, parse_set, sidecar_path
from rawlux.pipeline.run import build_recipe


@pytest.mark.parametrize("expr,expect", [
    ("tone.contrast=1.2", ("tone", "contrast", 1.2)),
    ("tone.contrast = 2", ("tone", "contrast", 2)),
    ("geometry.orient=false", ("geometry", "orient", False)),
    ("output.space=display-p3", ("output", "space", "display-p3")),
    ('output.space="rec2020"', ("output", "space", "rec2020")),
    ("exposure.ev=-1.5", ("exposure", "ev", -1.5)),
    ("whitebalance.mode=as-shot", ("whitebalance", "mode", "as-shot")),
])
def test_parse_set(expr, expect):
    assert parse_set(expr) == expect


@pytest.mark.parametrize("expr", ["tone.contrast", "contrast=1", "a.b.c=1", ".x=1", "tone.=1", "=3"])
def test_parse_set_rejects(expr):
    with pytest.raises(ParameterError, match="--set"):
        parse_set(expr)


def _look(tmp_path, text, name="mine.toml"):
    p = tmp_path / name
    p.write_text("schema_version = 1\n" + text)
    return p


def test_layering_order(tmp_path):
    src = tmp_path / "IMG.dng"
    src.write_bytes(b"not decoded: recipes are built before decoding")
    look = _look(tmp_path, "[tone]\ncontrast = 1.1\ngrey_out = 0.2\n[exposure]\nev = 0.5\n")
    # defaults
    r0 = build_recipe(src, "natural", sidecar=False)
    assert r0["tone"].contrast == 1.0 and r0["exposure"].ev == 0.0
    # look
    r1 = build_recipe(src, str(look), sidecar=False)
    assert (r1["tone"].contrast, r1["tone"].grey_out, r1["exposure"].ev) == (1.1, 0.2, 0.5)
    # sidecar over look
    sidecar_path(src).write_text('schema_version = 1\n[tone]\ncontrast = 1.2\n')
    r2 = build_recipe(src, str(look))
    assert (r2["tone"].contrast, r2["tone"].grey_out) == (1.2, 0.2)
    # --set over sidecar
    r3 = build_recipe(src, str(look), sets=["tone.contrast=1.3"])
    assert r3["tone"].contrast == 1.3 and r3["exposure"].ev == 0.5
    # keyword arguments over --set, in all three spellings
    for kw in ({"tone": {"contrast": 1.4}}, {"tone__contrast": 1.4}, {"tone.contrast": 1.4}):
        r4 = build_recipe(src, str(look), sets=["tone.contrast=1.3"], overrides=kw)
        assert r4["tone"].contrast == 1.4 and r4["tone"].grey_out == 0.2
    assert [w.split()[0] for w, _ in r4.layers] == ["look", "sidecar", "--set", "arguments"]
    # sidecar ignored when asked
    assert build_recipe(src, str(look), sidecar=False)["tone"].contrast == 1.1


def test_sidecar_names_the_look(tmp_path):
    src = tmp_path / "a.dng"
    src.write_bytes(b"x")
    sidecar_path(src).write_text('schema_version = 1\nlook = "reference"\n')
    r = build_recipe(src, None)
    assert r.look == "reference" and r["tone"].method == "none" and r["exposure"].auto is False


def test_look_inherits(tmp_path):
    look = _look(tmp_path, 'inherits = "reference"\n[exposure]\nev = 1.0\n')
    r = Recipe.build(str(look))
    assert r["tone"].method == "none" and r["exposure"].ev == 1.0


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"sets": ["tone.bogus=1"]}, ParameterError, "tone.bogus"),
    ({"sets": ["nostage.x=1"]}, ParameterError, "nostage"),
    ({"sets": ["tone.contrast=9"]}, ParameterError, r"tone.contrast=9 is out of range"),
    ({"sets": ["tone.contrast=high"]}, ParameterError, "must be a number"),
    ({"sets": ["geometry.orient=maybe"]}, ParameterError, "true or false"),
    ({"sets": ["output.space=adobe"]}, ParameterError, "srgb"),
    ({"sets": ["tone.contrast=nan"]}, ParameterError, "finite"),
    ({"overrides": {"tone": {"contrast": True}}}, ParameterError, "number"),
    ({"overrides": {"tone": 3}}, ParameterError, "tone"),
])
def test_bad_values_rejected(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Recipe.build("natural", **kwargs)


def test_bad_looks(tmp_path):
    with pytest.raises(LookError, match="unknown look 'vivid-ultra'"):
        Recipe.build("vivid-ultra")
    with pytest.raises(LookError, match="does not exist"):
        Recipe.build(str(tmp_path / "none.toml"))
    with pytest.raises(LookError, match="unknown stage 'sparkle'"):
        Recipe.build(str(_look(tmp_path, "[sparkle]\namount = 1\n", "a.toml")))
    with pytest.raises(LookError, match="tone.contrast"):
        Recipe.build(str(_look(tmp_path, "[tone]\ncontrast = 7\n", "b.toml")))
    with pytest.raises(LookError, match="invalid TOML"):
        Recipe.build(str(_look(tmp_path, "[tone\n", "c.toml")))
    with pytest.raises(LookError, match="inherits from itself"):
        Recipe.build(str(_look(tmp_path, 'inherits = "d.toml"\n', "d.toml")))


def test_unknown_keys_rejected_before_decoding(tmp_path, monkeypatch):
    """develop() validates the whole recipe before it opens the file."""
    import rawlux.io.decode as decode

    def boom(*a, **k):
        raise AssertionError("the file was decoded before the recipe was validated")
    monkeypatch.setattr(decode, "open_image", boom)
    missing = tmp_path / "missing.dng"
    with pytest.raises(ParameterError, match="tone.sparkle"):
        rawlux.develop(missing, tone={"sparkle": 1})
    with pytest.raises(ParameterError, match="exposure.ev"):
        rawlux.develop(missing, sets=["exposure.ev=99"])
    with pytest.raises(LookError):
        rawlux.develop(missing, look="no-such-look")
    monkeypatch.undo()
    with pytest.raises(InputError, match="no such file"):   # a valid recipe reaches the decoder
        rawlux.develop(missing, tone={"contrast": 1.2})


def test_recipe_toml_round_trip(tmp_path):
    r = Recipe.build("natural", sets=["tone.contrast=1.25", "output.space=display-p3", "geometry.orient=false"])
    side = tmp_path / "x.toml"
    side.write_text(r.to_toml())
    r2 = Recipe.build("natural", sidecar=side)
    assert r2.to_dict() == r.to_dict() and r2.digest() == r.digest()
    assert Recipe.build("natural").digest() != r.digest()
