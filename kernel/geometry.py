"""The launch geometry of the metadata kernel: how many programs a call takes, and the tile shape
each one runs (kernel.dsa_metadata says what a program does with it).

Program i * col_programs + j owns request block i and every j-th column tile. Tile sizes are fixed
per device kind, bucket and forward mode, so batch size and context length change only the grid
within a bucket, and one compiled variant serves the whole bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference.modes import FORWARD_MODES


@dataclass(frozen=True)
class Tiles:
    """A compiled variant's tile shape: requests per program, the prefix-sum block, the columns per
    tile, warps per program, and how many programs the grid aims for."""

    reqs: int
    scan_block: int
    col_tile: int
    num_warps: int
    target: int


@dataclass(frozen=True)
class LaunchGeometry:
    tiles: Tiles
    req_programs: int
    col_programs: int

    @property
    def grid(self) -> tuple[int]:
        return (self.req_programs * self.col_programs,)


# Tiles per device kind, bucket and forward mode, each the fastest of those timed over that bucket's
# cells (benchmarks/README.md; benchmarks.tile_variants times any other). A small call that copies
# at most LATENCY_CELLS page-table cells (bs * max_seqlen_k) is latency-bound: one-warp programs of
# 256 columns spread it over the most SMs. So do draft-extend's and target-verify's mid batches that
# write at most MID_CELLS token-row cells (tokens * max_seqlen_k; the host knows target-verify's
# tokens, bs * next_n, and bounds draft-extend's by its buffers' rows): on an H100 those tiles took
# up to 54% off such cells (8k at bs 128 to 512, and 128k at bs 128 with next_n 1), most in serving
# mixes, where a live prefix ends within a few hundred columns; with four tokens a request at 128k
# the wide tiles were up to 20% faster. A small batch of a long context takes four-warp programs of
# 1024 columns in every mode: at 128k and bs 32, draft-extend's 512-column tiles were 5% faster with
# `half` lengths at page 64, but up to 29% slower in serving mixes, and slower than SGLang's kernels
# there. Past that, one request per program and four-warp programs of wide tiles keep bytes in
# flight, the prefix sums a vector load of the earlier lengths at a time.
# Target-verify past MID_BATCH takes blocks of 32 requests: its tiles of one request were up to 1.5x
# slower there, at next_n 1 most. The interpreter pays per program and per reduction rather than per
# element, so it runs few, wide programs, several requests each (which also puts the in-block prefix
# sums under the CPU tier's checks), and scans in short blocks so that the CPU tier walks the scan's
# loop.
SMALL_BATCH = 64
MID_BATCH = 512
LATENCY_CELLS = 1 << 19
MID_CELLS = 1 << 24
_GPU_TILES = {
    "latency": {mode: Tiles(1, 64, 256, 1, 8192) for mode in FORWARD_MODES},
    "small": {mode: Tiles(1, 64, 1024, 4, 16384) for mode in FORWARD_MODES},
    "mid": {
        "draft-extend": Tiles(1, 64, 256, 1, 8192),
        "decode": Tiles(1, 1024, 1024, 4, 8192),
        "target-verify": Tiles(1, 64, 256, 1, 8192),
    },
    "mid-wide": {
        "draft-extend": Tiles(1, 1024, 1024, 4, 8192),
        "decode": Tiles(1, 1024, 1024, 4, 8192),
        "target-verify": Tiles(1, 1024, 2048, 8, 8192),
    },
    "large": {
        "draft-extend": Tiles(1, 1024, 1024, 4, 8192),
        "decode": Tiles(1, 1024, 1024, 4, 8192),
        "target-verify": Tiles(32, 1024, 128, 4, 2048),
    },
}
_INTERPRETER_TILES = {"small": Tiles(8, 64, 1024, 1, 8), "large": Tiles(256, 64, 1024, 1, 4)}


def bucket_of(bs: int, max_seqlen_k: int, device: torch.device, tokens: int | None = None) -> str:
    """Which tiles a call takes: on a GPU latency, small, mid, mid-wide or large; in the interpreter
    small or large. `tokens` is how many token rows the call may write (default bs)."""
    if device.type != "cuda":
        return "small" if bs <= SMALL_BATCH else "large"
    if bs <= SMALL_BATCH:
        return "latency" if bs * max_seqlen_k <= LATENCY_CELLS else "small"
    if bs <= MID_BATCH:
        return "mid" if (tokens or bs) * max_seqlen_k <= MID_CELLS else "mid-wide"
    return "large"


def launch_geometry(
    bs: int, max_seqlen_k: int, device: torch.device, mode_name: str, tokens: int | None = None
) -> LaunchGeometry:
    """The grid and tile sizes for a call. Tile sizes are fixed per device kind, bucket and forward
    mode, so batch size and context length change only the grid within a bucket: at most four tile
    shapes per mode, each a compiled variant (`properties.compiles` counts them all). `tokens`, the
    token rows the call may write, picks a mid batch's bucket. Column programs never outnumber what
    the target leaves per request block, however wide max_seqlen_k (or, in graph-resident mode, the
    buffers) may be."""
    bucket = bucket_of(bs, max_seqlen_k, device, tokens)
    tiles = _GPU_TILES[bucket][mode_name] if device.type == "cuda" else _INTERPRETER_TILES[bucket]
    return geometry_of(tiles, bs, max_seqlen_k)


def geometry_of(tiles: Tiles, bs: int, max_seqlen_k: int) -> LaunchGeometry:
    """The grid of a call under `tiles`: one program per request block and column program, the
    column programs at most the tiles' target per request block."""
    req_programs = max(1, -(-bs // tiles.reqs))
    col_tiles = max(1, -(-max_seqlen_k // tiles.col_tile))
    col_programs = max(1, min(col_tiles, tiles.target // req_programs))
    return LaunchGeometry(tiles, req_programs, col_programs)
