"""The shipped kernel under tile shapes of one's choosing, as `--against` columns of the benchmark:
how kernel.geometry's tables are retuned for a new device kind, or a bucket's choice is checked.

A name `FILL_rREQS_sSCAN_cCOLUMNS_wWARPS_tTARGET` is the forward mode's fill (`fill_decode_metadata`,
..) with every call of every bucket on those tiles (kernel.geometry.Tiles), its own plan cache and the
shipped jit body:

    python -m benchmarks.replay_metadata --forward-mode decode --extend one --batch-sizes 512,4096 \\
        --against r32=benchmarks.tile_variants:fill_decode_metadata_r32_s1024_c128_w4_t2048

The shipped tiles then sit beside them in the same run (the `kernel` column), on the same inputs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kernel.call import public_fills
from kernel.dsa_metadata import dsa_metadata_kernel
from kernel.geometry import Tiles, geometry_of
from kernel.launch import Launcher
from reference.modes import FORWARD_MODES

_NAME = re.compile(r"(?P<fill>fill_[a-z_]+_metadata)_r(?P<reqs>\d+)_s(?P<scan>\d+)_c(?P<cols>\d+)_w(?P<warps>\d+)_t(?P<target>\d+)")


def _power_of_two(value: int, what: str, name: str) -> int:
    if value < 1 or value & (value - 1):
        raise AttributeError(f"{name}: {what} must be a power of two, got {value}")
    return value


@lru_cache(maxsize=None)
def tile_fills(tiles: Tiles) -> dict:
    """The three public fills, by name, with every call on `tiles`."""
    launcher = Launcher(dsa_metadata_kernel, lambda bs, max_seqlen_k, device, mode_name, tokens: geometry_of(tiles, bs, max_seqlen_k))
    return {fill.__name__: fill for fill in public_fills(launcher.fill, __name__)}


def __getattr__(name: str):
    match = _NAME.fullmatch(name)
    if match is None or match["fill"] not in {mode.fill_name for mode in FORWARD_MODES.values()}:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: a tile variant is named FILL_rREQS_sSCAN_cCOLUMNS_wWARPS_tTARGET")
    tiles = Tiles(
        reqs=_power_of_two(int(match["reqs"]), "REQS", name),
        scan_block=_power_of_two(int(match["scan"]), "SCAN", name),
        col_tile=_power_of_two(int(match["cols"]), "COLUMNS", name),
        num_warps=_power_of_two(int(match["warps"]), "WARPS", name),
        target=int(match["target"]),
    )
    return tile_fills(tiles)[match["fill"]]
