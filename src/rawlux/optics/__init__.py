"""Optics: lens correction (lensfun, DNG opcode lists), fisheye reprojection, crops, synthetic bokeh.

Stages (see ``pipeline/order.py``): ``opcodes1``, ``opcodes2`` (DNG opcode lists on raw data),
``lens`` (lensfun + OpcodeList3 + reprojection, one resample), ``crop`` (35 mm-equivalent focal
length and aspect) and ``bokeh`` (depth-aware depth of field, presets in ``bokeh_stage.PRESETS``).
"""
from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "parse_opcode_list", "render_bokeh", "coc_radius"]


def __getattr__(name: str) -> Any:
    if name == "PRESETS":
        from .bokeh_stage import PRESETS
        return PRESETS
    if name == "parse_opcode_list":
        from .opcodes import parse_opcode_list
        return parse_opcode_list
    if name == "render_bokeh":
        from .bokeh import render
        return render
    if name == "coc_radius":
        from .bokeh import coc_radius
        return coc_radius
    raise AttributeError(name)
