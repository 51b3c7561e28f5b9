"""Look files: inheritance, global strength, and one clear LookError for each kind of bad input."""
from __future__ import annotations

import numpy as np
import pytest

from rawlux.errors import LookError
from rawlux.looks import builtin_names, load_look
from rawlux.looks.lutfiles import Lut, write_cube
from rawlux.pipeline.recipe import Recipe


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_at_least_fourteen_looks_with_descriptions():
    names = builtin_names()
    for n in ("natural", "reference", "authentic", "vibrant", "vivid", "soft", "mono", "mono-hc", "mono-warm",
              "sepia", "blue", "chrome", "negative", "slide", "cinema", "fade"):
        assert n in names
    for n in names:
        lf = load_look(n)
        assert lf.description, n
        Recipe.build(n)                      # every built-in validates


def test_inherits_and_overrides(tmp_path):
    p = _write(tmp_path, "mine.toml", 'schema_version = 1\ninherits = "vivid"\n[saturation]\nsaturation = 1.1\n')
    rec = Recipe.build(str(p))
    assert rec["saturation"].saturation == pytest.approx(1.1)
    assert rec["curve"].contrast == pytest.approx(Recipe.build("vivid")["curve"].contrast)


def test_global_strength_blends_toward_neutral(tmp_path):
    half = Recipe.build("vivid@0.5")
    assert half["saturation"].strength == pytest.approx(0.5)
    p = _write(tmp_path, "s.toml", 'inherits = "vivid"\nstrength = 0.25\n[tone]\ncontrast = 1.4\n')
    rec = Recipe.build(str(p))
    assert rec["curve"].strength == pytest.approx(0.25)
    assert rec["tone"].contrast == pytest.approx(1.0 + 0.25 * 0.4)    # spine numbers move toward the default
    zero = Recipe.build("sepia@0")
    assert zero["mixer"].is_identity() and zero["split"].is_identity()


def test_strength_is_inherited_and_applied_once_to_parent_and_child_values(tmp_path):
    _write(tmp_path, "parent.toml", 'strength = 0.5\n[curve]\ncontrast = 0.2\n[exposure]\nev = 1.0\n')
    child = _write(tmp_path, "child.toml", 'inherits = "parent.toml"\n[curve]\ncontrast = 0.8\n'
                   '[exposure]\nev = 2.0\n[saturation]\nsaturation = 1.4\n')
    rec = Recipe.build(str(child))
    # the parent's strength carries over and blends the child's overrides like the parent's own values
    assert rec["curve"].contrast == pytest.approx(0.8) and rec["curve"].strength == pytest.approx(0.5)
    assert rec["saturation"].strength == pytest.approx(0.5)
    assert rec["exposure"].ev == pytest.approx(0.5 * 2.0)
    # a child that sets its own strength gets the parent's values unblended
    full = _write(tmp_path, "full.toml", 'inherits = "parent.toml"\nstrength = 1.0\n')
    rec = Recipe.build(str(full))
    assert rec["curve"].strength == pytest.approx(1.0) and rec["exposure"].ev == pytest.approx(1.0)
    # NAME@s multiplies whatever strength the look has
    rec = Recipe.build(f"{child}@0.5")
    assert rec["curve"].strength == pytest.approx(0.25) and rec["exposure"].ev == pytest.approx(0.5)


def test_inherits_may_not_leave_the_looks_folder(tmp_path):
    (tmp_path / "outside.toml").write_text("schema_version = 1\n[curve]\ncontrast = 0.2\n")
    sub = tmp_path / "looks"
    sub.mkdir()
    (sub / "base.toml").write_text("[curve]\ncontrast = 0.3\n")
    ok = _write(sub, "ok.toml", 'inherits = "base.toml"\n')
    assert Recipe.build(str(ok))["curve"].contrast == pytest.approx(0.3)
    for target in ("../outside.toml", str(tmp_path / "outside.toml")):
        bad = _write(sub, "bad.toml", f'inherits = "{target}"\n')
        with pytest.raises(LookError, match="inherits .* leaves the look's folder"):
            Recipe.build(str(bad))
    with pytest.raises(LookError, match="tags must be a list of strings"):
        Recipe.build(str(_write(sub, "tags.toml", 'tags = "x"\n')))


@pytest.mark.parametrize("text,needle", [
    ("[curve\ncontrast = 1", "invalid TOML"),
    ("[curve]\ncontrast = \"high\"", "curve.contrast must be a number"),
    ("[curve]\ncontrast = nan", "finite"),
    ("[curve]\ncontrast = \"0.5\"", "not the string '0.5' (write it without quotes)"),
    ("[curve]\ncontrast = 5.0", "out of range [-1.0, 1.0]"),
    ("[curve]\nwobble = 1", "unknown parameter curve.wobble"),
    ("[sparkle]\namount = 1", "unknown stage 'sparkle'"),
    ("strength = 2", "strength=2 is out of range [0, 1]"),
    ("strength = \"full\"", "strength must be a number"),
    ("inherits = \"nope\"", "unknown look 'nope'"),
    ("[curve]\npoints = [[0.5, 0.2], [0.4, 0.6]]", "x values must increase"),
    ("[mixer]\nfilter = \"purple\"", "mixer.filter='purple' is not one of"),
    ("[mixer]\nmonochrome = true\nweights = [50, -49, 0.5]", "each weight must be in [-2.0, 3.0]"),
    ("[mixer]\nmonochrome = true\nweights = [-1, 0.5, 0.2]", "they must sum to at least 0.05"),
    ("[lut]\npath = \"../outside.cube\"", "leaves the look's folder"),
    ("[lut]\npath = \"/etc/passwd\"", "leaves the look's folder"),
    ("[lut]\npath = \"missing.cube\"", "does not exist"),
    ("[lut]\npath = \"broken.cube\"", "expected 2³"),
])
def test_bad_look_files_raise_one_clear_error(tmp_path, text, needle):
    (tmp_path / "broken.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n")
    (tmp_path / "sub").mkdir()
    p = _write(tmp_path / "sub", "bad.toml", text) if "outside" in text else _write(tmp_path, "bad.toml", text)
    with pytest.raises(LookError) as e:
        Recipe.build(str(p))
    assert needle in str(e.value)
    assert "bad.toml" in str(e.value)


def test_unknown_look_lists_valid_names():
    with pytest.raises(LookError) as e:
        load_look("vivdi")
    assert "vivid" in str(e.value) and "natural" in str(e.value)


def test_self_inheritance_is_an_error(tmp_path):
    p = _write(tmp_path, "loop.toml", 'inherits = "loop.toml"\n')
    with pytest.raises(LookError, match="inherits from itself"):
        load_look(str(p))


def test_lut_in_look_folder_is_resolved_and_applied(tmp_path):
    g = Lut.identity(9)
    write_cube(tmp_path / "invert.cube", Lut(1.0 - g.table))
    p = _write(tmp_path, "inv.toml", '[lut]\npath = "invert.cube"\nspace = "srgb"\nstrength = 1.0\n')
    rec = Recipe.build(str(p))
    assert rec["lut"].path == str((tmp_path / "invert.cube").resolve())
    from rawlux.looks.ingredients import lut as lutmod
    x = np.array([[0.2, 0.5, 0.8]])
    v = lutmod.to_space(lutmod.apply(x, rec["lut"]), "srgb")
    assert np.allclose(v, 1.0 - lutmod.to_space(x, "srgb"), atol=1e-4)
