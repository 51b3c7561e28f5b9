"""Lightroom/Camera Raw develop presets (.xmp) imported as looks: each field family moves the picture the
documented way, nothing is dropped silently, hostile XML is refused quickly."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rawlux
from rawlux.errors import LookError
from rawlux.frame import Frame, Metadata, State
from rawlux.looks.xmp import import_preset, parse_fields

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lookdata import de00, lab_of_srgb, mcmaster_paths  # noqa: E402

HEAD = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" '
        'crs:PresetType="Normal" crs:Version="15.0" crs:ProcessVersion="11.0" ')
TAIL = '</rdf:Description></rdf:RDF></x:xmpmeta>'


def preset(tmp_path, name="p", body="", **attrs) -> Path:
    a = " ".join(f'crs:{k}="{v}"' for k, v in attrs.items())
    p = tmp_path / f"{name}.xmp"
    p.write_text(HEAD + a + ">" + body + TAIL, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A real photograph (McMaster 1, 160 px) as an 8-bit PNG: display-referred input."""
    import cv2
    import tifffile

    im = tifffile.imread(str(mcmaster_paths((1,))[0]))
    im = cv2.resize(im, (160, 160), interpolation=cv2.INTER_AREA)
    p = tmp_path_factory.mktemp("photo") / "m1.png"
    cv2.imwrite(str(p), im[..., ::-1])
    return p


def render(src, look) -> np.ndarray:
    return rawlux.develop(str(src), look=str(look), sidecar=False).pixels


def lab(px):
    return lab_of_srgb(px)


# ----------------------------------------------------------------------------- the acceptance cases

def test_saturation_minus_100_is_grey(tmp_path, photo):
    out = lab(render(photo, preset(tmp_path, Saturation="-100")))
    chroma = np.hypot(out[..., 1], out[..., 2])
    assert chroma.mean() < 1.0 and np.percentile(chroma, 99) < 1.0, (chroma.mean(), chroma.max())
    before = lab(render(photo, "natural"))
    assert np.hypot(before[..., 1], before[..., 2]).mean() > 10     # it was a colourful picture


def test_exposure_plus_one_doubles_mid_grey_linear_light(tmp_path):
    px = np.full((16, 16, 3), 0.18, np.float32)
    px[:4] = [0.3, 0.1, 0.05]                     # some colour too: exposure is a plain gain

    def dev(look):
        f = Frame(px.copy(), State.SCENE_LINEAR, Metadata(kind="raw"))
        return rawlux.develop(f, look=str(look), exposure__auto=False, tone__method="none", linear=True,
                              output__space="rec2020").pixels
    zero = dev(preset(tmp_path, "z", Exposure2012="0.00"))
    plus = dev(preset(tmp_path, "p", Exposure2012="+1.00"))
    ratio = plus[8:, :, 1].mean() / zero[8:, :, 1].mean()
    assert ratio == pytest.approx(2.0, rel=0.05)
    np.testing.assert_allclose(plus[:4], 2 * zero[:4], rtol=0.05)


def test_blue_hue_shift_moves_blues_and_spares_skin(tmp_path):
    import cv2

    blues = [(0.10, 0.20, 0.80), (0.20, 0.35, 0.75), (0.05, 0.10, 0.55), (0.30, 0.40, 0.90)]
    skin = [(0.85, 0.62, 0.50), (0.60, 0.40, 0.30), (0.95, 0.76, 0.65), (0.45, 0.30, 0.22), (0.78, 0.57, 0.45)]
    cols = np.array(blues + skin)
    img = np.repeat(np.repeat(cols[None], 8, 0), 8, 1)      # 8 × 72 patches
    src = tmp_path / "patches.png"
    cv2.imwrite(str(src), np.round(img[..., ::-1] * 255).astype(np.uint8))
    base = lab(render(src, "natural"))
    moved = lab(render(src, preset(tmp_path, HueAdjustmentBlue="+60")))
    hue = lambda L: np.degrees(np.arctan2(L[..., 2], L[..., 1]))
    dh = (hue(moved) - hue(base) + 180) % 360 - 180
    nb = len(blues)
    blue_dh = np.array([dh[:, 8 * i:8 * i + 8].mean() for i in range(nb)])
    assert np.all(np.abs(blue_dh) > 4.0), blue_dh
    assert np.all(np.sign(blue_dh) == np.sign(blue_dh[0]))       # one direction (toward purple)
    skin_de = de00(moved[:, 8 * nb:], base[:, 8 * nb:])
    assert skin_de.max() < 1.0, skin_de.max()


@pytest.mark.parametrize("text, msg", [
    ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
     '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
     '<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol4;</x:xmpmeta>', "unsafe XML"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     '<x:xmpmeta xmlns:x="adobe:ns:meta/">&xxe;</x:xmpmeta>', "unsafe XML"),
    ('<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>', "unsafe XML"),
    (HEAD + 'crs:Exposure2012="' + "1" * 300_000 + '">' + TAIL, "longer than"),
    (HEAD + 'crs:Exposure2012="+1.0"' + ">" + "<a>" * 10, "not well-formed"),
    ("this is not xml at all", "not well-formed"),
    ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><other/></x:xmpmeta>', "no Camera Raw settings"),
    ("", "empty"),
    (HEAD + 'crs:Exposure2012="lots">' + TAIL, "not a number"),
    (HEAD + 'crs:Exposure2012="nan">' + TAIL, "out of range"),
    (HEAD + '><crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 0</rdf:li><rdf:li>300, 2</rdf:li></rdf:Seq>'
     '</crs:ToneCurvePV2012>' + TAIL, "outside 0..255"),
])
def test_hostile_or_malformed_xmp_refused_quickly(tmp_path, text, msg):
    p = tmp_path / "bad.xmp"
    p.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(LookError, match=msg) as ei:
        import_preset(p)
    assert time.perf_counter() - t0 < 2.0
    assert "bad.xmp" in str(ei.value) and "\n" not in str(ei.value)


def test_huge_file_refused_before_reading(tmp_path):
    p = tmp_path / "big.xmp"
    with open(p, "wb") as f:
        f.truncate(50 << 20)
    t0 = time.perf_counter()
    with pytest.raises(LookError, match="larger than"):
        import_preset(p)
    assert time.perf_counter() - t0 < 1.0


def test_develop_cli_with_hostile_preset_is_one_line(tmp_path, photo):
    from click.testing import CliRunner

    from rawlux.cli import cli
    bomb = tmp_path / "bomb.xmp"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
                    '<x>&b;</x>')
    r = CliRunner().invoke(cli, ["develop", str(photo), "-o", str(tmp_path / "o.jpg"), "--look", str(bomb)])
    assert r.exit_code == 2, r.output
    assert "bomb.xmp" in r.output and "Traceback" not in r.output


# ----------------------------------------------------------------------------- field families

def _mean_L(px):
    return lab(px)[..., 0]


FAMILIES = [
    # fields, check(before_lab, after_lab, before_px, after_px) -> bool
    ({"Contrast2012": "+80"}, lambda b, a, *_: a[..., 0].std() > b[..., 0].std() + 1),
    ({"Highlights2012": "-80"}, lambda b, a, *_: a[..., 0][b[..., 0] > 75].mean() < b[..., 0][b[..., 0] > 75].mean() - 0.5),
    ({"Shadows2012": "+80"}, lambda b, a, *_: a[..., 0][b[..., 0] < 35].mean() > b[..., 0][b[..., 0] < 35].mean() + 0.5),
    ({"Whites2012": "+80"}, lambda b, a, *_: a[..., 0][b[..., 0] > 60].mean() > b[..., 0][b[..., 0] > 60].mean() + 0.5),
    ({"Blacks2012": "-80"}, lambda b, a, *_: a[..., 0][b[..., 0] < 30].mean() < b[..., 0][b[..., 0] < 30].mean() - 0.5),
    ({"Vibrance": "+80"}, lambda b, a, *_: np.hypot(a[..., 1], a[..., 2]).mean() > np.hypot(b[..., 1], b[..., 2]).mean() + 1),
    ({"Saturation": "+50"}, lambda b, a, *_: np.hypot(a[..., 1], a[..., 2]).mean() > np.hypot(b[..., 1], b[..., 2]).mean() + 2),
    ({"IncrementalTemperature": "+60"}, lambda b, a, *_: a[..., 2].mean() > b[..., 2].mean() + 2),
    ({"IncrementalTint": "+60"}, lambda b, a, *_: a[..., 1].mean() > b[..., 1].mean() + 1),
    ({"Clarity2012": "+80"}, lambda b, a, bp, ap: _detail(ap) > _detail(bp) * 1.05),
    ({"Texture": "+80"}, lambda b, a, bp, ap: _detail(ap) > _detail(bp) * 1.03),
    ({"Sharpness": "+120"}, lambda b, a, bp, ap: _detail(ap) > _detail(bp) * 1.05),
    ({"GrainAmount": "60", "GrainSize": "20", "GrainFrequency": "50"},          # zero-mean noise
     lambda b, a, *_: de00(a, b).mean() > 0.15 and abs((a - b)[..., 0].mean()) < 0.1),
    ({"PostCropVignetteAmount": "-80", "PostCropVignetteMidpoint": "40", "PostCropVignetteFeather": "50",
      "PostCropVignetteRoundness": "0", "PostCropVignetteStyle": "1"},
     lambda b, a, *_: (b[:20, :20, 0] - a[:20, :20, 0]).mean() > 3 and abs((b[70:90, 70:90, 0] - a[70:90, 70:90, 0]).mean()) < 1.5),
    ({"ConvertToGrayscale": "True", "GrayMixerBlue": "-60"}, lambda b, a, *_: np.hypot(a[..., 1], a[..., 2]).mean() < 1.5),
    ({"SplitToningShadowHue": "220", "SplitToningShadowSaturation": "60", "SplitToningHighlightHue": "50",
      "SplitToningHighlightSaturation": "40", "SplitToningBalance": "0"},
     lambda b, a, *_: (a[..., 2] - b[..., 2])[b[..., 0] < 35].mean() < -1 and (a[..., 2] - b[..., 2])[b[..., 0] > 70].mean() > 1),
    ({"ColorGradeShadowHue": "220", "ColorGradeShadowSat": "60", "ColorGradeMidtoneHue": "40", "ColorGradeMidtoneSat": "40",
      "ColorGradeHighlightHue": "50", "ColorGradeHighlightSat": "30", "ColorGradeShadowLum": "+20", "ColorGradeBlending": "50"},
     lambda b, a, *_: (a[..., 2] - b[..., 2])[b[..., 0] > 70].mean() > 1 and a[..., 0][b[..., 0] < 30].mean() > b[..., 0][b[..., 0] < 30].mean()),
    ({"ParametricShadows": "+60", "ParametricDarks": "+40", "ParametricLights": "0", "ParametricHighlights": "-40",
      "ParametricShadowSplit": "25", "ParametricMidtoneSplit": "50", "ParametricHighlightSplit": "75"},
     lambda b, a, *_: a[..., 0][b[..., 0] < 35].mean() > b[..., 0][b[..., 0] < 35].mean() + 1),
    ({"SaturationAdjustmentRed": "-100", "SaturationAdjustmentOrange": "-100", "LuminanceAdjustmentGreen": "+50",
      "HueAdjustmentYellow": "+30"}, lambda b, a, *_: de00(a, b).mean() > 1.0),
]


def _detail(px):
    import cv2
    g = cv2.cvtColor(np.clip(px, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)
    return float(np.abs(g - cv2.GaussianBlur(g, (0, 0), 2.0)).mean())


@pytest.mark.parametrize("fields, check", FAMILIES, ids=[",".join(f)[:40] for f, _ in FAMILIES])
def test_field_family_moves_the_picture(tmp_path, photo, fields, check):
    base = render(photo, "natural")
    out = render(photo, preset(tmp_path, **fields))
    assert check(lab(base), lab(out), base, out)


def test_tone_curve_points_and_per_channel_curve_reported(tmp_path, photo):
    body = ('<crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 30</rdf:li><rdf:li>128, 150</rdf:li><rdf:li>255, 255</rdf:li>'
            '</rdf:Seq></crs:ToneCurvePV2012><crs:ToneCurvePV2012Red><rdf:Seq><rdf:li>0, 0</rdf:li>'
            '<rdf:li>128, 110</rdf:li><rdf:li>255, 255</rdf:li></rdf:Seq></crs:ToneCurvePV2012Red>')
    p = preset(tmp_path, body=body, Dehaze="+25", LensProfileEnable="1", Exposure2012="0", AutoLateralCA="0")
    imp = import_preset(p)
    pts = np.asarray(imp.tables["curve"]["points"])
    assert pts[0, 1] == pytest.approx(30 / 255, abs=1e-3) and pts[8, 1] > 0.55
    n = imp.notice()
    assert "Dehaze=+25" in n and "ToneCurvePV2012Red" in n and "LensProfileEnable" in n
    assert "at their neutral value (nothing to apply): AutoLateralCA" in n     # unmapped but neutral: named too
    a, b = lab(render(photo, p)), lab(render(photo, "natural"))
    assert a[..., 0].mean() > b[..., 0].mean() + 2


def test_full_preset_imports_to_readable_toml_with_complete_notice(tmp_path, photo):
    from click.testing import CliRunner

    from rawlux.looks.cli import look
    fields = {"Exposure2012": "+0.35", "Contrast2012": "+20", "Highlights2012": "-40", "Shadows2012": "+30",
              "Whites2012": "+10", "Blacks2012": "-15", "Texture": "+10", "Clarity2012": "+15", "Dehaze": "+5",
              "Vibrance": "+20", "Saturation": "-10", "HueAdjustmentBlue": "-20", "SaturationAdjustmentAqua": "+10",
              "LuminanceAdjustmentOrange": "+10", "SplitToningShadowHue": "210", "SplitToningShadowSaturation": "15",
              "SplitToningHighlightHue": "45", "SplitToningHighlightSaturation": "10", "SplitToningBalance": "+10",
              "ColorGradeMidtoneHue": "30", "ColorGradeMidtoneSat": "8", "ColorGradeGlobalHue": "200",
              "ColorGradeGlobalSat": "5", "ColorGradeBlending": "60", "IncrementalTemperature": "+5",
              "IncrementalTint": "-3", "GrainAmount": "25", "GrainSize": "30", "GrainFrequency": "50",
              "PostCropVignetteAmount": "-20", "PostCropVignetteMidpoint": "40", "PostCropVignetteRoundness": "0",
              "PostCropVignetteFeather": "60", "PostCropVignetteStyle": "2", "Sharpness": "40",
              "ConvertToGrayscale": "False", "AutoLateralCA": "1", "SomethingNew2030": "7"}
    p = preset(tmp_path, **fields)
    out = tmp_path / "mine.toml"
    r = CliRunner().invoke(look, ["import", str(p), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "# Exposure +0.35 EV" in text and 'inherits = "natural"' in text
    note = r.output
    for k in ("Dehaze=+5", "AutoLateralCA=1", "SomethingNew2030=7", "PostCropVignetteStyle", "ColorGradeBlending",
              "GrainFrequency", "PresetType"):
        assert k in note, k
    # every field is accounted for: used, approximated, unmapped, neutral or metadata
    imp = import_preset(p)
    named = " ".join([imp.notice()] + list(imp.comments.values()))
    for k in fields:
        if fields[k] in ("0", "False"):           # mapped fields at their neutral value need no mention
            continue
        stem = k.rstrip("0123456789")
        assert k in named or stem in named or k.replace("2012", "") in named, k
    # it develops, and the same preset works directly as --look
    a = render(photo, out)
    b = render(photo, p)
    assert de00(lab(a), lab(b)).mean() < 0.5           # grain is seeded: same picture


def test_grayscale_ignores_colour_hsl_and_says_so(tmp_path):
    imp = import_preset(preset(tmp_path, ConvertToGrayscale="True", GrayMixerRed="+30",
                               SaturationAdjustmentBlue="+50"))
    assert imp.tables["mixer"]["monochrome"] is True and imp.tables["hsl"]["red_lum"] == pytest.approx(0.3)
    assert "blue_sat" not in imp.tables["hsl"]
    assert "SaturationAdjustmentBlue (ignored in black and white" in imp.notice()


def test_child_element_values_and_rdf_alt_name(tmp_path):
    p = tmp_path / "c.xmp"
    p.write_text(HEAD + '><crs:Exposure2012>+0.50</crs:Exposure2012><crs:Name><rdf:Alt><rdf:li xml:lang="x-default">'
                 'Warm &amp; Soft</rdf:li></rdf:Alt></crs:Name>' + TAIL)
    imp = import_preset(p)
    assert imp.name == "Warm & Soft" and imp.tables["exposure"]["ev"] == pytest.approx(0.5)


def test_fuzzed_presets_give_look_errors_only():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    good = (HEAD + 'crs:Exposure2012="+0.50" crs:Contrast2012="+20" crs:HueAdjustmentBlue="-10">'
            '<crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 10</rdf:li><rdf:li>255, 250</rdf:li></rdf:Seq>'
            '</crs:ToneCurvePV2012>' + TAIL).encode()
    from rawlux.looks.xmp import import_fields

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(0, 255)), min_size=1, max_size=6))
    def run(edits):
        b = bytearray(good)
        for i, v in edits:
            b[i] = v
        try:
            fields, name = parse_fields(bytes(b), "f.xmp")
            import_fields(fields, name, "f.xmp")
        except LookError:
            pass

    run()


def test_embedded_creative_profile_is_named_not_merged(tmp_path):
    body = ('<crs:Look><rdf:Description crs:Name="Adobe Color" crs:Amount="1" crs:UUID="B952C231">'
            '<crs:Parameters><rdf:Description crs:Version="15.0" crs:ProcessVersion="11.0" crs:Saturation="+90" '
            'crs:ConvertToGrayscale="True"/></crs:Parameters></rdf:Description></crs:Look>')
    imp = import_preset(preset(tmp_path, body=body, Saturation="-20"))
    assert imp.tables["saturation"]["saturation"] == pytest.approx(0.8)      # the preset's, not the Look's
    assert "mixer" not in imp.tables
    assert "Look=Adobe Color" in imp.notice()


def test_per_channel_curves_become_a_1d_lut_beside_the_look(tmp_path, photo):
    from rawlux.looks.xmp import write_look

    body = ('<crs:ToneCurvePV2012Red><rdf:Seq><rdf:li>0, 0</rdf:li><rdf:li>128, 170</rdf:li><rdf:li>255, 255</rdf:li>'
            '</rdf:Seq></crs:ToneCurvePV2012Red>')
    p = preset(tmp_path, body=body)
    out = write_look(import_preset(p), tmp_path / "warm.toml")
    cube = tmp_path / "warm-curves.cube"
    assert cube.exists() and 'path = "warm-curves.cube"' in out.read_text()
    a = render(photo, out)
    b = render(photo, "natural")
    assert a[..., 0].mean() > b[..., 0].mean() + 0.03                 # red lifted
    assert abs(a[..., 1].mean() - b[..., 1].mean()) < 0.01           # green untouched
    assert "ToneCurvePV2012Red" in import_preset(p).notice()          # and said so for --look preset.xmp
