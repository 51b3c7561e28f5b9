"""The registry of ``rawlux`` commands (no imports: the worker's client loads it for nothing)."""
from __future__ import annotations

#: command name → "module:attribute" (loaded when invoked, so `rawlux --help` stays fast). The one registry.
COMMANDS: dict[str, str] = {
    "develop": "rawlux.cli.develop:develop_cmd",
    "demo": "rawlux.cli.demo:demo_cmd",
    "frame": "rawlux.cli.frame:frame",
    "studio": "rawlux.studio.cli:studio",
    "looks": "rawlux.looks.cli:looks",
    "look": "rawlux.looks.cli:look",
    "batch": "rawlux.batch.cli:batch",
    "calibrate": "rawlux.colour.cli:calibrate",
    "profile": "rawlux.colour.profile_cli:profile",
    "burst": "rawlux.burst.cli:burst",
    "video": "rawlux.video.cli:video",
    "worker": "rawlux.cli.worker_cmd:worker",
}
