"""Hostile inputs for looks: malformed ``.cube`` files and HaldCLUT images, look TOMLs whose ``[lut] path``
escapes the look's folder, and bad arguments to the ``look`` / ``looks`` commands.

``build_looks(dest)`` writes every case under ``dest`` and returns a list of :class:`corpus.Case`; nothing is
large on disk (the 2 GB ``.cube`` is a sparse file). Each LUT is named by a look TOML in its own folder, so the
path rules are the real ones, and is run through ``rawlux develop --look X.toml`` (a few also through
``look show``, ``look export`` and ``looks preview``).
"""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from corpus import Case, png_bomb

# ----------------------------------------------------------------------------- .cube texts


def _rows(n: int, fmt: str = "{:.6f} {:.6f} {:.6f}") -> list[str]:
    g = np.linspace(0, 1, n)
    return [fmt.format(g[r], g[gg], g[b]) for b in range(n) for gg in range(n) for r in range(n)]


def _cube(n: int = 2, head: str = "", rows: list[str] | None = None, nl: str = "\n") -> str:
    body = rows if rows is not None else _rows(n)
    return nl.join([*(h for h in head.split("\n") if h), *body]) + nl


IDENT2 = _rows(2)

#: name → (file bytes or text, expected outcome)
CUBES: dict[str, tuple[str | bytes, str]] = {
    # must succeed
    "ok-identity": (_cube(2, "LUT_3D_SIZE 2"), "ok"),
    "ok-crlf": (_cube(2, "LUT_3D_SIZE 2", nl="\r\n"), "ok"),
    "ok-cr-only": (_cube(2, "LUT_3D_SIZE 2", nl="\r"), "ok"),
    "ok-bom": ("\ufeff" + _cube(2, "LUT_3D_SIZE 2"), "ok"),
    "ok-bom-crlf": ("\ufeff" + _cube(2, 'TITLE "crlf"\nLUT_3D_SIZE 2', nl="\r\n"), "ok"),
    "ok-comments-tabs": ("# a comment\n\n" + _cube(2, "TITLE \"t # not a comment\"\nLUT_3D_SIZE\t2\n# more",
                                                   [r.replace(" ", "\t") + "   # row" for r in IDENT2]), "ok"),
    "ok-no-final-newline": (_cube(2, "LUT_3D_SIZE 2").rstrip("\n"), "ok"),
    "ok-lowercase-keywords": (_cube(2, "lut_3d_size 2\ndomain_min 0 0 0\ndomain_max 1 1 1"), "ok"),
    "ok-scientific": (_cube(2, "LUT_3D_SIZE 2", _rows(2, "{:.3e} {:.3e} {:.3e}")), "ok"),
    "ok-domain": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN -0.5 -0.5 -0.5\nDOMAIN_MAX 2 2 2"), "ok"),
    "ok-input-range": (_cube(2, "LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 0 1"), "ok"),
    "ok-unicode-title": (_cube(2, 'TITLE "Füm ☀ 日本"\nLUT_3D_SIZE 2'), "ok"),
    "ok-1d": (_cube(2, "LUT_1D_SIZE 4", _rows(4, "{0:.4f} {0:.4f} {0:.4f}")[:4]), "ok"),
    "ok-shaper-1d-3d": ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n0 0 0\n1 1 1\n" + "\n".join(IDENT2) + "\n", "ok"),
    "ok-size-33": (_cube(33, "LUT_3D_SIZE 33"), "ok"),
    # sizes
    "missing-size": (_cube(2), "error"),
    "size-0": (_cube(2, "LUT_3D_SIZE 0", []), "error"),
    "size-1": (_cube(1, "LUT_3D_SIZE 1"), "error"),
    "size-negative": (_cube(2, "LUT_3D_SIZE -2"), "error"),
    "size-66": (_cube(2, "LUT_3D_SIZE 66"), "error"),
    "size-fraction": (_cube(2, "LUT_3D_SIZE 2.5"), "error"),
    "size-word": (_cube(2, "LUT_3D_SIZE two"), "error"),
    "size-missing-value": (_cube(2, "LUT_3D_SIZE"), "error"),
    "size-2gb-claimed": (_cube(2, "LUT_3D_SIZE 556"), "error"),       # 556³ × 3 × 4 bytes ≈ 2.06 GB
    "size-1d-huge": (_cube(2, "LUT_1D_SIZE 4000000000", ["0 0 0", "1 1 1"]), "error"),
    "size-given-twice": (_cube(2, "LUT_3D_SIZE 2\nLUT_3D_SIZE 3"), "error"),
    "size-1d-65536-short": (_cube(2, "LUT_1D_SIZE 65536", ["0 0 0", "1 1 1"]), "error"),
    # rows
    "too-few-rows": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:7]), "error"),
    "too-many-rows": (_cube(2, "LUT_3D_SIZE 2", IDENT2 + ["0 0 0"]), "error"),
    "no-rows": ("LUT_3D_SIZE 2\n", "error"),
    "row-two-numbers": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:7] + ["1 1"]), "error"),
    "row-four-numbers": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:7] + ["1 1 1 1"]), "error"),
    "row-nan": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["nan 0 0"] + IDENT2[4:]), "error"),
    "row-inf": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["0 inf 0"] + IDENT2[4:]), "error"),
    "row-minus-inf": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["0 0 -inf"] + IDENT2[4:]), "error"),
    "row-overflow": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["1e999 0 0"] + IDENT2[4:]), "error"),
    "row-float32-overflow": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["1e39 0 0"] + IDENT2[4:]), "error"),
    "row-word": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["0.5 abc 1"] + IDENT2[4:]), "error"),
    "row-comma-decimal": (_cube(2, "LUT_3D_SIZE 2", [r.replace(".", ",") for r in IDENT2]), "error"),
    "row-hex": (_cube(2, "LUT_3D_SIZE 2", IDENT2[:3] + ["0x1p-1 0 0"] + IDENT2[4:]), "error"),
    "keyword-after-data": (_cube(2, "LUT_3D_SIZE 2", IDENT2 + ["DOMAIN_MIN 0 0 0"]), "error"),
    "unknown-keyword": (_cube(2, "LUT_3D_SIZE 2\nLUT_SPACE magic"), "error"),
    # domains
    "domain-equal": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN 0.5 0.5 0.5\nDOMAIN_MAX 0.5 0.5 0.5"), "error"),
    "domain-reversed": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0"), "error"),
    "domain-one-reversed": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 1\nDOMAIN_MAX 1 1 0"), "error"),
    "domain-two-numbers": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN 0 0"), "error"),
    "domain-nan": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MAX nan 1 1"), "error"),
    "domain-float32-overflow": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN -1e39 -1e39 -1e39\nDOMAIN_MAX 1e39 1e39 1e39"), "error"),
    "domain-denormal": (_cube(2, "LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1e-46 1e-46 1e-46"), "error"),
    "input-range-reversed": (_cube(2, "LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 1 0"), "error"),
    # not text / not a cube
    "empty": ("", "error"),
    "whitespace-only": ("  \n\t\n\r\n", "error"),
    "comments-only": ("# LUT_3D_SIZE 2\n# nothing else\n", "error"),
    "binary-junk": (np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "error"),
    "nul-bytes": (_cube(2, "LUT_3D_SIZE 2").encode().replace(b"\n", b"\n\x00", 1), "error"),
    "utf16": (_cube(2, "LUT_3D_SIZE 2").encode("utf-16"), "error"),
    "latin1-title": (_cube(2, 'TITLE "caf\xe9"\nLUT_3D_SIZE 2').encode("latin-1"), "error"),
    "a-png-named-cube": (b"\x89PNG\r\n\x1a\n" + bytes(200), "error"),
    "long-line": ("LUT_3D_SIZE 2\n" + "0 " * 2_000_000 + "\n", "error"),
}


def _hald_png(path: Path, level: int, bits: int = 8, channels: int = 3, size: tuple[int, int] | None = None) -> None:
    import cv2

    n = level * level
    g = np.linspace(0, 1, n, dtype=np.float32)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    t = np.stack([r, gg, b], -1).transpose(2, 1, 0, 3)
    side = level ** 3
    img = t.reshape(side, side, 3) if size is None else np.resize(t.reshape(-1, 3), (size[1], size[0], 3))
    scale = 255 if bits == 8 else 65535
    px = np.rint(img[..., ::-1] * scale).astype(np.uint8 if bits == 8 else np.uint16)
    if channels == 1:
        px = px[..., 0]
    elif channels == 4:
        px = np.concatenate([px, np.full(px.shape[:2] + (1,), scale, px.dtype)], -1)
    cv2.imwrite(str(path), px)


def _write_hald_cases(folder: Path) -> dict[str, tuple[Path, str]]:
    out: dict[str, tuple[Path, str]] = {}

    def add(name: str, expect: str, ext: str = ".png") -> Path:
        p = folder / f"{name}{ext}"
        out[name] = (p, expect)
        return p

    _hald_png(add("ok-level2", "ok"), 2)
    _hald_png(add("ok-level4-16bit", "ok"), 4, bits=16)
    _hald_png(add("ok-rgba", "ok"), 2, channels=4)
    _hald_png(add("ok-tiff", "ok", ".tif"), 2)
    _hald_png(add("grey", "error"), 2, channels=1)
    _hald_png(add("not-square", "error"), 2, size=(8, 16))
    _hald_png(add("not-a-cube-side", "error"), 2, size=(10, 10))
    _hald_png(add("level1", "error"), 1)
    png_bomb(add("bomb-30000", "error"), 30_000, 30_000)
    png_bomb(add("bomb-65000", "error"), 65_000, 65_000)
    png_bomb(add("bomb-cube-side", "error"), 46_656, 46_656)          # 36³: a valid Hald side, 2.2 G pixels
    good = (folder / "ok-level2.png").read_bytes()
    add("truncated", "error").write_bytes(good[: len(good) // 2])
    add("random-bytes", "error").write_bytes(np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    add("empty", "error").write_bytes(b"")
    add("text", "error").write_text("not an image\n")
    p = add("sparse-2gb", "error")
    with open(p, "wb") as fh:
        fh.write(good[:33])                       # signature + IHDR of an 8×8 image, then 2 GB of holes
        fh.truncate(2 * 1024 ** 3)
    import tifffile
    g = np.full((8, 8, 3), np.nan, np.float32)
    tifffile.imwrite(add("float-nan", "error", ".tif"), g, photometric="rgb")
    add("wrong-extension", "error", ".jpg").write_bytes(good)
    return out


# ----------------------------------------------------------------------------- the cases

def _look(folder: Path, lut_path: str, name: str = "look.toml", extra: str = "") -> Path:
    p = folder / name
    esc = lut_path.replace("\\", "\\\\").replace('"', '\\"')
    p.write_text(f'schema_version = 1\n{extra}[lut]\npath = "{esc}"\nstrength = 1.0\n', encoding="utf-8")
    return p


def build_looks(dest: Path, tiny: Path) -> list[Case]:
    """``tiny``: a small valid PNG to develop."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "out"
    out.mkdir(exist_ok=True)
    cases: list[Case] = []

    def dev(name: str, cat: str, look: Path | str, expect: str, code: int | None = None) -> None:
        o = str(out / f"{name}.jpg")
        cases.append(Case(name, cat, ["develop", str(tiny), "--look", str(look), "-o", o], expect, o,
                          code if expect == "error" else None))

    # 1. malformed .cube files, each named by a look in its own folder
    for name, (content, expect) in CUBES.items():
        d = dest / f"cube-{name}"
        d.mkdir(exist_ok=True)
        lut = d / "lut.cube"
        if isinstance(content, bytes):
            lut.write_bytes(content)
        else:
            lut.write_bytes(content.encode("utf-8"))
        dev(f"cube-{name}", "bad .cube", _look(d, "lut.cube"), expect, 2)
    d = dest / "cube-sparse-2gb"
    d.mkdir(exist_ok=True)
    with open(d / "lut.cube", "wb") as fh:
        fh.write(b"LUT_3D_SIZE 2\n")
        fh.truncate(2 * 1024 ** 3)
    dev("cube-sparse-2gb", "bad .cube", _look(d, "lut.cube"), "error", 2)
    d = dest / "cube-is-a-folder"
    (d / "lut.cube").mkdir(parents=True, exist_ok=True)
    dev("cube-is-a-folder", "bad .cube", _look(d, "lut.cube"), "error", 2)
    d = dest / "cube-missing"
    d.mkdir(exist_ok=True)
    dev("cube-missing", "bad .cube", _look(d, "nope.cube"), "error", 2)
    d = dest / "cube-unknown-ext"
    d.mkdir(exist_ok=True)
    (d / "lut.3dl").write_text(_cube(2, "LUT_3D_SIZE 2"))
    dev("cube-unknown-ext", "bad .cube", _look(d, "lut.3dl"), "error", 2)
    d = dest / "cube-upper-ext"
    d.mkdir(exist_ok=True)
    (d / "LUT.CUBE").write_text(_cube(2, "LUT_3D_SIZE 2"))
    dev("cube-upper-ext", "bad .cube", _look(d, "LUT.CUBE"), "ok")

    # 2. HaldCLUT images
    hd = dest / "hald"
    hd.mkdir(exist_ok=True)
    for name, (p, expect) in _write_hald_cases(hd).items():
        dev(f"hald-{name}", "bad HaldCLUT", _look(hd, p.name, f"{name}.toml"), expect, 2)

    # 3. [lut] path escaping the look's folder
    outside = dest / "outside.cube"
    outside.write_text(_cube(2, "LUT_3D_SIZE 2"))
    ld = dest / "looks-dir"
    (ld / "sub").mkdir(parents=True, exist_ok=True)
    (ld / "sub" / "inner.cube").write_text(_cube(2, "LUT_3D_SIZE 2"))
    (ld / "inside.cube").write_text(_cube(2, "LUT_3D_SIZE 2"))
    links = {"link-out.cube": outside, "link-dir": dest / "cube-ok-identity", "link-in.cube": ld / "inside.cube",
             "loop-a.cube": ld / "loop-b.cube", "loop-b.cube": ld / "loop-a.cube", "dangling.cube": dest / "gone.cube"}
    for name, target in links.items():
        if not (ld / name).is_symlink():
            os.symlink(target, ld / name)
    escapes = {
        "dotdot": ("../outside.cube", "error"),
        "dotdot-deep": ("sub/../../outside.cube", "error"),
        "dotdot-many": ("../" * 40 + "etc/passwd", "error"),
        "absolute": (str(outside), "error"),
        "absolute-etc": ("/etc/passwd", "error"),
        "absolute-proc": ("/proc/self/environ", "error"),
        "dev-zero": ("/dev/zero", "error"),
        "symlink-file-out": ("link-out.cube", "error"),
        "symlink-dir-out": ("link-dir/lut.cube", "error"),
        "symlink-inside": ("link-in.cube", "ok"),
        "symlink-loop": ("loop-a.cube", "error"),
        "symlink-dangling": ("dangling.cube", "error"),
        "tilde": ("~/outside.cube", "error"),
        "backslash-dotdot": ("..\\outside.cube", "error"),
        "nul-byte": ("inside.cube\\u0000.png", "error"),
        "name-too-long": ("a" * 5000 + ".cube", "error"),
        "path-too-long": ("sub/" * 1200 + "inner.cube", "error"),
        "subfolder": ("sub/inner.cube", "ok"),
        "dot-slash": ("./inside.cube", "ok"),
        "folder-itself": (".", "error"),
        "empty-path": ("", "ok"),
    }
    for name, (rel, expect) in escapes.items():
        p = ld / f"{name}.toml"
        if name == "nul-byte":      # written raw: a TOML \u0000 escape
            p.write_text(f'schema_version = 1\n[lut]\npath = "{rel}"\n', encoding="utf-8")
        else:
            _look(ld, rel, f"{name}.toml")
        dev(f"lutpath-{name}", "LUT path escape", p, expect, 2)
    for name, text in (("path-number", "[lut]\npath = 3"), ("path-table", "[lut]\npath = {a = 1}"),
                       ("path-list", '[lut]\npath = ["inside.cube"]'), ("space-bogus", '[lut]\npath = "inside.cube"\nspace = "cmyk"'),
                       ("strength-nan", '[lut]\npath = "inside.cube"\nstrength = nan'),
                       ("inherit-escape", 'inherits = "../outside.toml"'),
                       ("inherit-absolute", f'inherits = "{(dest / "outside.toml").as_posix()}"'),
                       ("inherit-long", 'inherits = "' + "b" * 5000 + '.toml"'),
                       ("inherit-nul", 'inherits = "x\\u0000.toml"')):
        p = ld / f"{name}.toml"
        p.write_text("schema_version = 1\n" + text + "\n", encoding="utf-8")
        dev(f"lutpath-{name}", "LUT path escape", p, "error", 2)
    # a valid look outside the folder: the inherit-escape case fails only because it leaves the folder
    (dest / "outside.toml").write_text("schema_version = 1\n[curve]\ncontrast = 0.2\n")

    # 4. the look / looks commands
    bad_look = ld / "dotdot.toml"
    good_look = ld / "subfolder.toml"

    def cmd(name: str, args: list[str], expect: str, code: int | None = None, output: str | None = None) -> None:
        progress = r"^(reading |held out )" if args[:2] == ["look", "fit"] else None
        cases.append(Case(name, "look commands", args, expect, output, code if expect == "error" else None,
                          progress=progress))

    for name in ("dotdot", "absolute-etc", "symlink-loop", "nul-byte", "name-too-long"):
        cmd(f"show-{name}", ["look", "show", str(ld / f"{name}.toml")], "error", 2)
    for name in ("row-nan", "size-2gb-claimed", "binary-junk", "domain-reversed"):
        cmd(f"show-cube-{name}", ["look", "show", str(dest / f"cube-{name}" / "look.toml")], "error", 2)
    cmd("show-good", ["look", "show", str(good_look)], "ok")
    cmd("show-unknown", ["look", "show", "no-such-look"], "error", 2)
    cmd("show-empty-name", ["look", "show", ""], "error", 2)
    cmd("show-at-strength-bad", ["look", "show", "vivid@2"], "error", 2)
    cmd("show-at-strength-nan", ["look", "show", "vivid@nan"], "error", 2)
    cmd("show-a-folder", ["look", "show", str(ld) + "/"], "error", 2)
    for n in ("1", "66", "0", "-3", "100000"):
        cmd(f"export-size-{n}", ["look", "export", "vivid", "--cube", n, "-o", str(out / f"e{n}.cube")], "error", 2)
    cmd("export-space-bogus", ["look", "export", "vivid", "--space", "cmyk", "-o", str(out / "es.cube")], "error", 2)
    cmd("export-bad-look", ["look", "export", str(bad_look), "-o", str(out / "eb.cube")], "error", 2)
    cmd("export-missing-folder", ["look", "export", "vivid", "--cube", "5", "-o", str(out / "nope" / "x.cube")], "error", 4)
    cmd("export-to-folder", ["look", "export", "vivid", "--cube", "5", "-o", str(out)], "error")
    cmd("export-ok", ["look", "export", str(good_look), "--cube", "5", "-o", str(out / "ok.cube")], "ok",
        output=str(out / "ok.cube"))
    cmd("export-hald-ok", ["look", "export", "vivid", "--cube", "5", "-o", str(out / "ok-hald.png")], "ok",
        output=str(out / "ok-hald.png"))
    pairs = dest / "pairs"
    (pairs / "junk").mkdir(parents=True, exist_ok=True)
    (pairs / "junk" / "a.before.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (pairs / "junk" / "a.after.png").write_bytes(b"")
    (pairs / "empty").mkdir(exist_ok=True)
    (pairs / "bomb").mkdir(exist_ok=True)
    png_bomb(pairs / "bomb" / "b.before.png", 65_000, 65_000)
    png_bomb(pairs / "bomb" / "b.after.png", 65_000, 65_000)
    (pairs / "raw").mkdir(exist_ok=True)
    for k in ("before", "after"):
        (pairs / "raw" / f"r.{k}.tif").write_bytes(b"II*\x00" + bytes(64))
    cmd("fit-missing", ["look", "fit", "--pairs", str(pairs / "nope"), "-o", str(out / "f.toml")], "error", 2)
    cmd("fit-empty", ["look", "fit", "--pairs", str(pairs / "empty"), "-o", str(out / "f.toml")], "error", 2)
    cmd("fit-junk", ["look", "fit", "--pairs", str(pairs / "junk"), "-o", str(out / "f.toml")], "error", 3)
    cmd("fit-bomb", ["look", "fit", "--pairs", str(pairs / "bomb"), "-o", str(out / "f.toml")], "error", 3)
    cmd("fit-broken-tiff", ["look", "fit", "--pairs", str(pairs / "raw"), "-o", str(out / "f.toml")], "error", 3)
    cmd("fit-not-toml", ["look", "fit", "--pairs", str(pairs / "junk"), "-o", str(out / "f.txt")], "error", 2)
    cmd("preview-junk-image", ["looks", "preview", str(dest / "cube-binary-junk" / "lut.cube"), "-o",
                               str(out / "p1.png")], "error", 3)
    cmd("preview-bomb", ["looks", "preview", str(hd / "bomb-65000.png"), "-o", str(out / "p2.png")], "error", 3)
    cmd("preview-unknown-look", ["looks", "preview", str(tiny), "--looks", "nope", "-o", str(out / "p3.png")], "error", 2)
    cmd("preview-escape-look", ["looks", "preview", str(tiny), "--looks", str(bad_look), "-o", str(out / "p4.png")],
        "error", 2)
    cmd("preview-size-bogus", ["looks", "preview", str(tiny), "--size", "5", "-o", str(out / "p5.png")], "error", 2)
    return cases
