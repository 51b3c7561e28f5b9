"""Learning a look from before/after pairs: pair discovery, robustness to misalignment, held-out ΔE00."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lookdata import de00, lab_of_srgb, mcmaster_paths  # noqa: E402

import rawlux  # noqa: E402
from rawlux.errors import ParameterError  # noqa: E402
from rawlux.looks.fit import find_pairs, fit_pairs, write_look  # noqa: E402


def _make_pairs(folder: Path, ids, look: str, shift: int = 3, scale: float = 0.8, layout: str = "names"):
    import cv2

    for i in ids:
        src = mcmaster_paths((i,))[0]
        after = rawlux.develop(str(src), look=look).pixels
        a8 = (np.clip(after, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1]
        a8 = np.roll(a8, (shift, -shift), axis=(0, 1))                      # misaligned by a few pixels
        a8 = cv2.resize(a8, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)   # and another size
        before = cv2.imread(str(src))
        if layout == "names":
            cv2.imwrite(str(folder / f"p{i}.before.png"), before)
            cv2.imwrite(str(folder / f"p{i}.after.jpg"), a8, [cv2.IMWRITE_JPEG_QUALITY, 97])
        else:
            (folder / "before").mkdir(exist_ok=True)
            (folder / "after").mkdir(exist_ok=True)
            cv2.imwrite(str(folder / "before" / f"p{i}.png"), before)
            cv2.imwrite(str(folder / "after" / f"p{i}.png"), a8)


def test_pair_discovery_and_errors(tmp_path):
    with pytest.raises(ParameterError, match="no pairs found"):
        find_pairs(tmp_path)
    with pytest.raises(ParameterError, match="not a folder"):
        find_pairs(tmp_path / "nope")
    (tmp_path / "a.before.jpg").write_bytes(b"x")
    (tmp_path / "a.after.jpg").write_bytes(b"x")
    (tmp_path / "lonely.before.jpg").write_bytes(b"x")
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    (tmp_path / "before" / "b.png").write_bytes(b"x")
    (tmp_path / "after" / "b.png").write_bytes(b"x")
    assert [p.name for p in find_pairs(tmp_path)] == ["a", "b"]


def test_fit_recovers_a_known_look_on_held_out_photos(tmp_path):
    _make_pairs(tmp_path, (2, 6, 10, 14), "cinema")
    res, pairs = fit_pairs(tmp_path)
    assert len(pairs) == 4 and len(res.held_out) == 4
    # the target is mean ΔE00 ≤ 1.5 held out; here with 8-bit JPEG afters, shifted and rescaled
    assert res.held_out_mean < 1.5, res.held_out
    toml, cube = write_look(res, tmp_path / "mine.toml", pairs)
    # the fitted look applies like any other, to a photo it never saw
    src = mcmaster_paths((17,))[0]
    want = lab_of_srgb(rawlux.develop(str(src), look="cinema").pixels)
    got = lab_of_srgb(rawlux.develop(str(src), look=str(toml)).pixels)
    natural = lab_of_srgb(rawlux.develop(str(src), look="natural").pixels)
    d_fit, d_nat = de00(want, got).mean(), de00(want, natural).mean()
    assert d_fit < 3.0 and d_fit < 0.4 * d_nat, (d_fit, d_nat)


def test_fit_source_raw_undoes_the_raw_gamut_compression(tmp_path):
    """Afters rendered by rawlux from a raw file: undoing the raw-source gamut compression fits them
    better than taking them as they are (and an unknown source is refused)."""
    import cv2

    src = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "raw" / "gopro-hero6-12mp.dng"
    if not src.is_file():
        pytest.skip("shared raw data absent")
    # a strongly saturating look (per-channel contrast, +30 % saturation): its colours reach the raw
    # gamut-compression zone, which is what this test is about
    strong = tmp_path / "strong.toml"
    strong.write_text('schema_version = 1\n[curve]\ncontrast = 0.65\ntoe = -0.45\nshoulder = -0.2\n'
                      'black = 0.02\n[saturation]\nsaturation = 1.3\n[hsl]\nblue_sat = 0.25\n'
                      'blue_lum = -0.2\nred_sat = 0.15\n[balance]\nwarmth = -6.0\n')
    nat = rawlux.develop(str(src), look="natural").pixels
    slide = rawlux.develop(str(src), look=str(strong)).pixels
    strong.unlink()                                     # the pair folder holds only the pairs
    h, w = nat.shape[:2]
    for k, (y, x) in enumerate([(0, 0), (0, w // 2), (h // 2, 0), (h // 2, w // 2)]):
        for name, im in (("before", nat), ("after", slide)):
            tile = cv2.resize(im[y:y + h // 2, x:x + w // 2], None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(tmp_path / f"t{k}.{name}.png"),
                        (np.clip(tile, 0, 1) * 65535 + 0.5).astype(np.uint16)[..., ::-1])
    as_image, _ = fit_pairs(tmp_path, source="image")
    as_raw, _ = fit_pairs(tmp_path, source="raw")
    assert as_raw.held_out_mean < as_image.held_out_mean, (as_raw.held_out, as_image.held_out)
    assert as_raw.held_out_mean < 2.0, as_raw.held_out
    with pytest.raises(ParameterError, match="fit source 'film' is not one of: image, raw"):
        fit_pairs(tmp_path, source="film")
