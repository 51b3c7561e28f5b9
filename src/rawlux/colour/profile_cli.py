"""``rawlux profile show FILE``: what a camera profile holds (DCP, DNG embedded profile, or rawlux TOML)."""
from __future__ import annotations

import click

from ..cli.common import guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def profile() -> None:
    """Camera profiles: DCP files, a DNG's embedded profile, rawlux profile TOML."""


def describe_file(path: str) -> str:
    import numpy as np

    from . import dcpfile, temperature
    from .profile import CameraProfile

    if dcpfile.is_dcp(path):
        return dcpfile.describe(dcpfile.read_dcp(path))
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] in (b"II", b"MM"):
        return dcpfile.describe(dcpfile.read_dng_profile(path))
    prof = CameraProfile.from_file(path)
    lines = [f"rawlux camera profile: {path}", f"name: {prof.name}"]
    for i, c in enumerate(prof.calibrations, 1):
        t, tint = temperature.xy_to_temp_tint(c.xy)
        lines.append(f"calibration {i}: xy {c.xy[0]:.4f}, {c.xy[1]:.4f} ({t:.0f} K, tint {tint:+.1f})")
        for title, m in (("ColorMatrix (XYZ → camera)", c.color_matrix), ("ForwardMatrix (camera → XYZ D50)", c.forward_matrix)):
            if m is not None:
                lines.append(f"  {title}:")
                lines += ["    [" + ", ".join(f"{v:9.4f}" for v in row) + "]" for row in np.asarray(m)]
    h = prof.hue_sat_map
    lines.append("HueSatMap: none" if h is None else
                 f"HueSatMap: {h.hue_divisions} hue × {h.sat_divisions} sat × 1 value (2.5D), linear value encoding")
    lines += ["LookTable: none", "ProfileToneCurve: none"]
    return "\n".join(lines)


@profile.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@guarded
def show(file: str) -> int:
    """Print a profile's matrices, illuminants, table dimensions and tone curve."""
    import os

    from ..errors import ParameterError

    if not os.path.isfile(file):
        raise ParameterError(f"profile {file} does not exist")
    click.echo(describe_file(file))
    return 0
