"""The bugs the engines really had: one pinned case per class of a public upstream thread.

A record names its threads, the forward modes its case runs in, the tier where it can run (`gpu`:
only a GPU affords the case) and its check. A check takes the fills under test, by forward mode (the
contract's signature), and raises LawBroken (or what the variant raised) where the bug is back.
tests/regressions/upstream_bugs.py gives each the planted defect of its class that must fail it,
and the pytest plugin's per-pr tier runs every one against the variant it gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from properties.cases import ReplayCase
from properties.failures import require
from properties.harness import run, run_reference
from properties.laws import calls_match_reference, differential, memory_outside_views_untouched
from properties.compare import compare, report
from properties.host import on_host
from reference.eager import FILLS


@dataclass(frozen=True)
class UpstreamBug:
    name: str
    threads: tuple[str, ...]
    what: str
    modes: tuple[str, ...]
    check: Callable[[dict, torch.device], None]
    tier: str = "cpu"  # where the case can run: cpu (every tier) or gpu


def _case(mode: str, seq_lens, *, extend=None, next_n: int = 1, topk: int = 2048, page_size: int = 64, width=None, **extra) -> ReplayCase:
    bs = len(seq_lens)
    extend = tuple(extend) if extend is not None else (1,) * bs
    kv = max((s + (next_n if mode == "target-verify" else 0) for s in seq_lens), default=0)
    width = kv if width is None else width
    layout = dict(req_pool_indices=tuple(range(bs, 0, -1)), spare_requests=2, spare_tokens=3, spare_cols=5, row_pad=3, cu_head_zero=True)
    return ReplayCase(
        forward_mode=mode, next_n=next_n, seq_lens=tuple(seq_lens), extend_seq_lens=extend, pool_size=bs + 1,
        context_len=max(width, kv) + 2, nsa_index_topk=topk, page_size=page_size, max_seqlen_k=width, **{**layout, **extra},
    )


# 1. int32 page-table row offsets (SGLang July and b4ff2431; fixed in 0.5.23).
def _past_int32(bs: int, per: int, mode: str):
    def check(fills, device):
        from properties import past_int32

        width = 2**20
        first_past = -(-(2**31) // width) // per  # the first request whose token rows start past 2^31 cells
        seq_lens = [width - per if b >= first_past - 1 else 64 + b for b in range(bs)]
        past_int32.run_case(fills[mode], mode, bs + 1, list(range(bs, 0, -1)), seq_lens, columns=width, per=per)

    return check


def _int32(fills, device):
    for bs, per, mode in ((513, 4, "target-verify"), (530, 4, "draft-extend"), (2049, 1, "decode")):
        if mode in fills:
            _past_int32(bs, per, mode)(fills, device)


# 2. Negative expanded lengths for padded draft-extend rows (sgl-project/sglang#30378, #30427).
PADDED_30378 = _case("draft-extend", [300, 300, 300, 0], extend=[2, 2, 2, 2], topk=2048, req_pool_indices=(3, 2, 1, 0))


def _negative_lengths(fills, device):
    differential(fills["draft-extend"], PADDED_30378, device)
    r = run(fills["draft-extend"], PADDED_30378, device)
    got = r.after.nsa_seqlens_expanded[:8].cpu().tolist()
    require(got == [299, 300] * 3 + [0, 0], f"nsa_seqlens_expanded = {got}, want [299, 300] x 3 + [0, 0] (sglang#30378)")


# 3. Width below seq + next_n at the context limit (sgl-project/sglang#19016).
CONTEXT = 4096
AT_LIMIT = _case("target-verify", [CONTEXT - 1, 700], next_n=3, width=CONTEXT, page_size=64)


def _width_below_kv(fills, device):
    """The hot path truncates at the width and writes nothing past it (validation mode, which names
    the request, is the shipped kernel's: tests/test_upstream_bugs.py)."""
    if "target-verify" not in fills:
        return
    differential(fills["target-verify"], AT_LIMIT, device)
    memory_outside_views_untouched(fills["target-verify"], AT_LIMIT, device)


# 4. Consumers that trust a stale tail after the live-prefix switch (#31981, #32109; vllm#55692; #33479),
# and 6. stale cu_seqlens pad rows after a big batch and then a smaller one (ROCm/ATOM#2148).
def _big_then_small(mode: str, padded: bool) -> tuple[ReplayCase, ReplayCase]:
    big = _case(mode, [900 + 37 * b for b in range(8)], extend=[3] * 8 if mode == "draft-extend" else None, next_n=2, topk=64)
    live = 3
    if padded:  # the same bucket of 8, 3 live requests and 5 padding ones (seq_len 0, pool row 0)
        seq = (*big.seq_lens[:live], *(0,) * (8 - live))
        pools = (*big.req_pool_indices[:live], *(0,) * (8 - live))
        small = big.with_changes(seq_lens=seq, req_pool_indices=pools, padding=8 - live)
    else:  # fewer requests, reusing the big batch's first pool rows at the same lengths, with new slots
        small = big.with_changes(
            seq_lens=big.seq_lens[:live], extend_seq_lens=big.extend_seq_lens[:live], req_pool_indices=big.req_pool_indices[:live],
        )
    return big, small.with_changes(req_to_token_seed=big.req_to_token_seed + 1)


def _steps(big_then_small: Callable[[str], tuple[ReplayCase, ReplayCase]]):
    def check(fills, device):
        for mode, fill in fills.items():
            big, small = big_then_small(mode)
            calls_match_reference(fill, (big, small), big.inputs(device), big.buffers(device), device, f"{mode} call")

    return check


# 5. An idle padded speculative rank gets too few metadata rows (sgl-project/sglang#34455).
def _idle_rank(fills, device):
    for mode, fill in fills.items():
        if mode == "decode":
            continue
        case = _case(mode, [0, 0, 0], extend=[4, 4, 4] if mode == "draft-extend" else None, next_n=4, width=8, req_pool_indices=(0, 0, 0),
                     padding=3)
        differential(fill, case, device)
        r = run(fill, case, device)
        expected = run_reference(case, device).after
        require(torch.equal(r.after.nsa_cache_seqlens_int32[:12], expected.nsa_cache_seqlens_int32[:12]),
                f"{mode}: an idle rank padded to bs 3 x 4 tokens must fill 12 token rows (sglang#34455)")


# 7. Capture-time row stride against the runtime layout (vllm#51318), non-contiguous table views (vllm#55692).
def _strides(fills, device):
    for mode, fill in fills.items():
        case = _case(mode, [9, 30, 4, 17], extend=[2, 1, 3, 2] if mode == "draft-extend" else None, next_n=2, topk=16, page_size=16,
                     req_to_token_row_pad=7, row_pad=5, input_spare=3)
        differential(fill, case, device)
        memory_outside_views_untouched(fill, case, device)


# 8. Draft-extend and target-verify buffers aliased at the same bs (SGLang keys them apart since
# test_dsa_graph_metadata.py): each call on the other mode's buffers equals the reference.
def _aliased(fills, device):
    if not {"draft-extend", "target-verify"} <= set(fills):
        return
    verify = _case("target-verify", [40, 9, 77, 31], next_n=3, topk=16)
    draft = _case("draft-extend", [41, 10, 78, 32], extend=[3, 3, 3, 3], topk=16, req_to_token_seed=5)
    buffers = verify.buffers(device)
    mirror = buffers.clone()
    for index, case in enumerate((verify, draft, verify.with_changes(req_to_token_seed=9))):
        inputs = case.inputs(device)
        before = buffers.clone()
        with on_host(case):
            fills[case.forward_mode](*inputs, buffers, **case.options())
        FILLS[case.forward_mode](*case.inputs(device), mirror, **case.options())
        mismatches = compare(case, mirror, buffers, before)
        require(not mismatches, f"call {index} ({case.forward_mode}) on buffers shared at bs 4 differs:\n" + report(mismatches))


# 9. Static against variable extend lengths (sgl-project/sglang#15429, #27545): a width of 0 divides
# nothing (a broken promise is the caller's: the shipped kernel's validation mode names it,
# tests/test_upstream_bugs.py).
STATIC_ZERO = _case("draft-extend", [7, 12, 3], extend=[0, 0, 0], topk=8, static_extend_len=True)
STATIC_EQUAL = _case("draft-extend", [7, 12, 30], extend=[3, 3, 3], topk=8, static_extend_len=True)


def _static(fills, device):
    fill = fills.get("draft-extend")
    if fill is None:
        return
    differential(fill, STATIC_ZERO, device)
    differential(fill, STATIC_EQUAL, device)


ALL_MODES = ("decode", "target-verify", "draft-extend")
UPSTREAM_BUGS: tuple[UpstreamBug, ...] = (
    UpstreamBug("int32_row_offsets", ("sgl-project/sglang b4ff2431", "sgl-project/sglang#34725", "sgl-project/sglang#37671", "vllm-project/vllm#57030"),
                "page-table row offsets in int32 wrap once rows x width pass 2^31 cells: TV bs 513 x 4, DE 530 x 4, decode bs 2,049, width 2^20",
                ALL_MODES, _int32, tier="gpu"),
    UpstreamBug("negative_padded_lengths", ("sgl-project/sglang#30378", "sgl-project/sglang#30427", "vllm-project/vllm#51593"),
                "3 requests at ctx 300 and one padding request (seq 0, width 2) in an 8-row bucket: [299, 300] x 3 + [0, 0]",
                ("draft-extend",), _negative_lengths),
    UpstreamBug("width_below_kv_at_the_limit", ("sgl-project/sglang#19016",),
                "target-verify at seq = ctx - 1, next_n 3, width ctx: truncated at the width, nothing written out of bounds",
                ("target-verify",), _width_below_kv),
    UpstreamBug("stale_tail_after_live_prefix", ("sgl-project/sglang#31981", "sgl-project/sglang#32109", "sgl-project/sglang#33479", "vllm-project/vllm#55692"),
                "a big batch, then a smaller one on the same buffers reusing its pool rows at their lengths with new slots: every defined cell rewritten",
                ALL_MODES, _steps(lambda mode: _big_then_small(mode, padded=False))),
    UpstreamBug("idle_rank_rows", ("sgl-project/sglang#34455",),
                "an idle rank padded to bs 3 with 4 tokens each fills 12 token rows",
                ("target-verify", "draft-extend"), _idle_rank),
    UpstreamBug("stale_cu_pad_rows", ("ROCm/ATOM#2148",),
                "a bucket of 8 live requests, then 3 live and 5 padding on the same buffers: the padding rows' cu entries rewritten",
                ALL_MODES, _steps(lambda mode: _big_then_small(mode, padded=True))),
    UpstreamBug("row_stride_and_views", ("vllm-project/vllm#51318", "vllm-project/vllm#55692"),
                "req_to_token rows padded past their width, page tables with row padding, per-request inputs as prefix views",
                ALL_MODES, _strides),
    UpstreamBug("draft_extend_and_verify_aliased", ("sgl-project/sglang test_dsa_graph_metadata.py",),
                "target-verify, draft-extend, target-verify again on one set of buffers at bs 4",
                ("target-verify", "draft-extend"), _aliased),
    UpstreamBug("static_against_variable_extend", ("sgl-project/sglang#15429", "sgl-project/sglang#27545"),
                "static width 0 and 3",
                ("draft-extend",), _static),
)
