"""The launch geometry as the host picks it: few tile shapes (each is a compiled variant), a grid
that covers every request, and column programs that never outnumber the columns or the target."""

from __future__ import annotations

import pytest
import torch

from kernel.dsa_metadata import LATENCY_CELLS, SMALL_BATCH, launch_geometry
from properties.compiles import LIMIT, MAX_SEQLEN_K_SPREAD

DEVICES = [torch.device("cuda"), torch.device("cpu")]


def tiles(geometry):
    return (geometry.reqs, geometry.scan_block, geometry.step_tile, geometry.col_tile, geometry.num_warps)


@pytest.mark.parametrize("device", DEVICES, ids=str)
def test_tile_shapes_stay_within_the_compile_limit_over_every_batch_size_and_context(device):
    shapes = {tiles(launch_geometry(bs, k, device)) for bs in range(1, 4097) for k in MAX_SEQLEN_K_SPREAD}
    assert len(shapes) < LIMIT, shapes


@pytest.mark.parametrize("device", DEVICES, ids=str)
@pytest.mark.parametrize("bs", [1, 2, 7, 64, 65, 512, 4096])
@pytest.mark.parametrize("max_seqlen_k", [1, 255, 257, 8192, 131_072, 163_840])
def test_the_grid_covers_every_request_and_no_column_program_is_idle_by_construction(device, bs, max_seqlen_k):
    geometry = launch_geometry(bs, max_seqlen_k, device)
    assert geometry.req_programs * geometry.reqs >= bs > (geometry.req_programs - 1) * geometry.reqs
    col_tiles = -(-max_seqlen_k // geometry.col_tile)
    assert 1 <= geometry.col_programs <= col_tiles


def test_a_small_short_call_takes_the_latency_tiles_and_a_small_long_one_the_wide_tiles():
    """At 8k every small batch is latency-bound (bs * 8192 <= LATENCY_CELLS up to SMALL_BATCH); at
    128k only the smallest are."""
    cuda = torch.device("cuda")
    for bs in range(1, SMALL_BATCH + 1):
        short, long = launch_geometry(bs, 8192, cuda), launch_geometry(bs, 131_072, cuda)
        assert (short.num_warps, short.reqs) == (1, 1)
        if bs * 131_072 > LATENCY_CELLS:
            assert long.num_warps == 4 and long.col_tile > short.col_tile
        else:
            assert tiles(long) == tiles(short)
