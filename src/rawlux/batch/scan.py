"""Find the inputs of a batch and give each one an output path.

A folder contributes the files whose names match ``--glob`` (fnmatch, case-insensitive, repeatable), or by
default the camera-raw extensions (plus PNG/TIFF with ``--cfa`` and .raw/.bin dumps with ``--raw``). A file
named on the command line is always taken. Hidden files, ``.rawlux`` folders and the output folder itself are
never scanned. Outputs mirror the inputs' folders below each source folder; two inputs that would share an
output name (``IMG_1.dng`` and ``IMG_1.nef``) get their extension in the name (``IMG_1_dng.jpg``).
"""
from __future__ import annotations

import fnmatch
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError

from ..io.formats import DUMP_EXTENSIONS, MOSAIC_IMAGE_EXTENSIONS, RAW_EXTENSIONS  # noqa: E402,F401


@dataclass(frozen=True)
class Input:
    path: Path          # absolute
    rel: Path           # relative to its source root (drives the output path)


def default_extensions(cfa: bool = False, raw_dump: bool = False) -> frozenset[str]:
    if raw_dump:
        return DUMP_EXTENSIONS
    if cfa:
        return MOSAIC_IMAGE_EXTENSIONS
    return RAW_EXTENSIONS


def _wanted(name: str, globs: tuple[str, ...], exts: frozenset[str]) -> bool:
    if name.startswith("."):
        return False
    low = name.lower()
    if globs:
        return any(fnmatch.fnmatch(low, g.lower()) for g in globs)
    return low.rsplit(".", 1)[-1] in exts if "." in low else False


def scan(sources: list[str] | tuple[str, ...], *, out_dir: str | os.PathLike[str], recursive: bool = False,
         globs: tuple[str, ...] = (), cfa: bool = False, raw_dump: bool = False) -> list[Input]:
    """The inputs, in a stable order (sources as given, files sorted within each folder)."""
    exts = default_extensions(cfa, raw_dump)
    out = Path(out_dir).resolve()
    found: list[Input] = []
    seen: set[Path] = set()
    for s in sources:
        p = Path(s).expanduser()
        if not p.exists():
            raise ParameterError(f"{s}: no such file or folder")
        p = p.resolve()
        if p.is_file():
            if p not in seen:
                seen.add(p)
                found.append(Input(p, Path(p.name)))
            continue
        if not p.is_dir():
            raise ParameterError(f"{s}: not a file or folder")
        for folder, dirs, files in os.walk(p):
            fp = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (fp / d).resolve() != out) \
                if recursive else []
            if fp.resolve() == out and fp != p:
                continue
            for name in sorted(files):
                if not _wanted(name, globs, exts):
                    continue
                f = fp / name
                if f in seen or not f.is_file():
                    continue
                seen.add(f)
                found.append(Input(f, f.relative_to(p)))
    return found


def output_paths(inputs: list[Input], out_dir: str | os.PathLike[str], ext: str) -> list[Path]:
    """One output path per input (absolute), unique across the batch."""
    out = Path(out_dir).resolve()
    plain = [inp.rel.with_suffix(ext) for inp in inputs]
    clashes = Counter(str(r).lower() for r in plain)
    paths = []
    for inp, r in zip(inputs, plain):
        if clashes[str(r).lower()] > 1:
            src_ext = inp.rel.suffix.lstrip(".").lower() or "noext"
            r = inp.rel.with_name(f"{inp.rel.stem}_{src_ext}{ext}")
        paths.append(out / r)
    # the same relative name under two source folders: number the later ones
    used: set[str] = set()
    for i, q in enumerate(paths):
        k, n = str(q).lower(), 2
        while k in used:
            q = paths[i].with_name(f"{paths[i].stem}_{n}{ext}")
            k, n = str(q).lower(), n + 1
        used.add(k)
        paths[i] = q
    return paths
