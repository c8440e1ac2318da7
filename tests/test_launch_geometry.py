"""The launch geometry as the host picks it: few tile shapes per forward mode (each is a compiled
variant), a grid that covers every request, and column programs that never outnumber the columns or
the target."""

from __future__ import annotations

import pytest
import torch

from benchmarks.tile_variants import tile_fills
from kernel.geometry import LATENCY_CELLS, MID_BATCH, MID_CELLS, SMALL_BATCH, Tiles, launch_geometry
from properties.compiles import LIMIT, MAX_SEQLEN_K_SPREAD
from properties.edges import EDGE_EXAMPLES_BY_MODE
from properties.laws import differential
from reference.modes import FORWARD_MODES

DEVICES = [torch.device("cuda"), torch.device("cpu")]
MODE_NAMES = list(FORWARD_MODES)


@pytest.mark.parametrize("mode_name", MODE_NAMES)
@pytest.mark.parametrize("device", DEVICES, ids=str)
def test_tile_shapes_stay_within_the_compile_limit_over_every_batch_size_and_context(device, mode_name):
    shapes = {launch_geometry(bs, k, device, mode_name).tiles for bs in range(1, 4097) for k in MAX_SEQLEN_K_SPREAD}
    assert len(shapes) <= LIMIT, shapes


@pytest.mark.parametrize("mode_name", MODE_NAMES)
@pytest.mark.parametrize("device", DEVICES, ids=str)
@pytest.mark.parametrize("bs", [1, 2, 7, 64, 65, 512, 513, 4096])
@pytest.mark.parametrize("max_seqlen_k", [1, 255, 257, 8192, 131_072, 163_840])
def test_the_grid_covers_every_request_and_no_column_program_is_idle_by_construction(device, bs, max_seqlen_k, mode_name):
    geometry = launch_geometry(bs, max_seqlen_k, device, mode_name)
    reqs = geometry.tiles.reqs
    assert geometry.req_programs * reqs >= bs > (geometry.req_programs - 1) * reqs
    col_tiles = -(-max_seqlen_k // geometry.tiles.col_tile)
    assert 1 <= geometry.col_programs <= col_tiles
    assert geometry.grid == (geometry.req_programs * geometry.col_programs,)


def test_a_small_short_call_takes_the_latency_tiles_and_a_small_long_one_the_wide_tiles():
    """At 8k every small batch is latency-bound (bs * 8192 <= LATENCY_CELLS up to SMALL_BATCH); at
    128k only the smallest are."""
    cuda = torch.device("cuda")
    for mode_name in MODE_NAMES:
        for bs in range(1, SMALL_BATCH + 1):
            short, long = (launch_geometry(bs, k, cuda, mode_name).tiles for k in (8192, 131_072))
            assert (short.num_warps, short.reqs) == (1, 1)
            if bs * 131_072 > LATENCY_CELLS:
                assert long.num_warps == 4 and long.col_tile > short.col_tile
            else:
                assert long == short


def test_mid_batches_of_draft_extend_and_target_verify_take_narrow_tiles_only_over_few_token_row_cells():
    """From bs 65 to MID_BATCH, draft-extend and target-verify run one-warp, 256-column programs
    while the call writes at most MID_CELLS token-row cells (four tokens a request at 8k up to bs
    512; one at 128k up to bs 128), and wide four- or eight-warp tiles past that (four tokens a
    request at 128k), where long live rows want bytes in flight; decode keeps its wide tiles."""
    cuda = torch.device("cuda")
    for mode_name in MODE_NAMES:
        for bs in (SMALL_BATCH + 1, 128, MID_BATCH):
            narrow = [launch_geometry(bs, 8192, cuda, mode_name, tokens=4 * bs).tiles]
            if bs * 131_072 <= MID_CELLS:
                narrow.append(launch_geometry(bs, 131_072, cuda, mode_name, tokens=bs).tiles)
            wide = launch_geometry(bs, 131_072, cuda, mode_name, tokens=4 * bs).tiles
            assert wide.num_warps >= 4 and wide.col_tile >= 1024
            for tiles in narrow:
                assert tiles == wide if mode_name == "decode" else (tiles.num_warps, tiles.col_tile) == (1, 256)


def _gpu_tile_shapes(mode_name: str) -> list:
    cuda = torch.device("cuda")
    shapes = {
        launch_geometry(bs, k, cuda, mode_name, tokens=tokens).tiles
        for bs in (1, 8, 64, 65, 128, 512, 513, 4096)
        for k in (256, 8192, 131_072)
        for tokens in (bs, 4 * bs)
    }
    return sorted(shapes, key=lambda tiles: tuple(vars(tiles).values()))


# Tiles no table holds (a benchmarks.tile_variants name spells them): blocks of 4 requests and
# one request a program, 32- and 16-column tiles, at most 12 programs. Narrow tiles put the pinned
# examples' columns both in tiles below max_seqlen_k (masked by groups of four columns) and in the
# tile max_seqlen_k cuts (masked by column), in the graph-resident mode too, where the bound is
# the block's last live column.
OFF_TABLE_TILES = (Tiles(4, 8, 32, 1, 12), Tiles(1, 8, 16, 1, 12))


@pytest.mark.parametrize(
    "mode_name, tiles", [(mode, tiles) for mode in MODE_NAMES for tiles in [*_gpu_tile_shapes(mode), *OFF_TABLE_TILES]], ids=str
)
def test_every_gpu_tile_shape_fills_the_contract_in_the_interpreter(mode_name, tiles, device):
    """The CPU tier runs the interpreter's own tiles; each shape the GPU tables hold (one request a
    program, or blocks of 32; 128- to 2,048-column tiles; one page lane or many) is a compiled
    variant only a GPU would otherwise run, and a tile variant may be any shape. Here each fills
    the pinned examples of several requests, of pages and of KPool as the reference does."""
    fill = tile_fills(tiles)[FORWARD_MODES[mode_name].fill_name]
    for edge in ("padded_bucket", "page_size_64", "index_kpool", "prefix_views"):
        differential(fill, EDGE_EXAMPLES_BY_MODE[mode_name][edge].in_domain("sglang"), device)
