"""The forward modes whose replay metadata the DSA backend fills, each a small value.

Every fill of the family is one pair per request, a kv length and a number of tokens, with the tokens
packed by the latter: decode is one token per request over its seq_len; target-verify is next_n
tokens over seq_len + next_n (the draft tokens' KV is written before the verify pass reads it);
draft-extend is extend_seq_lens[b] tokens over seq_len. Token s of a request of (kv, qo) sees a
causal length kv - qo + 1 + s, kept at least the mode's floor under the engine profile
(`reference.engines`), clipped to the top-k for the sparse cache. What differs between the modes is
which inputs and options they take and which buffers they write; the rest of the contract is stated
once, in `reference.eager` and `reference.lists`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference.domain import NEXT_N
from reference.engines import EngineProfile


@dataclass(frozen=True)
class ForwardMode:
    name: str  # as the suite's command lines spell it: --forward-mode decode|target-verify|draft-extend
    fill_name: str  # its fill's name, the reference's and the shipped kernel's alike
    inputs: tuple[str, ...]  # the tensors a call takes, in order, before the buffers
    options: tuple[str, ...]  # the host ints it takes, by keyword
    writes: tuple[str, ...]  # the buffers it fills (reference.buffers.AXES), the optional ones included
    # Whether a graph-bucket padding request sees causal lengths below 1, which the engine profile's
    # padding floor then lifts: draft-extend's (extend_seq_lens > seq_lens) go to 0 and below.
    # Decode's eager branch clips seq_lens as they are, so a seq_len of 0 keeps 0; target-verify's
    # lengths start at seq_len + 1, so no floor ever applies.
    pads_below_one: bool

    def request_lengths(self, seq_lens, extend_seq_lens=None, next_n: int = 1) -> list[tuple[int, int]]:
        """(kv length, number of tokens) of every request, from the mode's inputs."""
        if self.name == "decode":
            return [(kv, 1) for kv in seq_lens]
        if self.name == "target-verify":
            return [(kv + next_n, next_n) for kv in seq_lens]
        return list(zip(seq_lens, extend_seq_lens, strict=True))

    def call_options(self, **values) -> dict:
        """Of the host ints `values`, those a call of this mode takes, by keyword."""
        return {name: values[name] for name in self.options}

    def length_floor(self, profile: EngineProfile) -> int:
        """The least causal length a token of this mode is given under `profile`."""
        return profile.padding_floor if self.pads_below_one else 0

    def expanded_lengths(self, kv_len: int, qo_len: int, floor: int) -> list[int]:
        """The causal length of each of a request's tokens, in order: kv-qo+1, ..., kv, each kept at
        least `floor` (`length_floor`). This is the rule's one statement in plain Python; cases,
        strategies and validation mode use it, the eager reference states it in torch.

        For draft-extend the floor matters only for a graph-bucket padding request (qo > kv):
        SGLang's CUDA-graph runners pad a replay to its captured batch size with seq_len 1 (or 0), pool
        row 0 and the draft width as extend length, whose causal lengths would go to 0 and below; the
        engine profile says whether they stop at 0 (SGLang's DSA kernels, vLLM) or at 1 (DeepSeek-V4's
        backend). For qo <= kv it changes nothing."""
        return [max(kv_len - qo_len + 1 + step, floor) for step in range(qo_len)]


_PER_REQUEST = ("cache_seqlens_int32", "cu_seqlens_k")
_PAGES = ("page_table_1", "real_page_table")
_SPARSE = ("nsa_cache_seqlens_int32", "nsa_cu_seqlens_k")

DECODE = ForwardMode(
    name="decode",
    fill_name="fill_decode_metadata",
    inputs=("seq_lens", "req_pool_indices", "req_to_token"),
    options=("nsa_index_topk", "page_size", "max_seqlen_k"),
    writes=_PER_REQUEST + _PAGES + _SPARSE,
    pads_below_one=False,
)
TARGET_VERIFY = ForwardMode(
    name="target-verify",
    fill_name="fill_target_verify_metadata",
    inputs=("seq_lens", "req_pool_indices", "req_to_token"),
    options=("nsa_index_topk", "page_size", "max_seqlen_k", "next_n"),
    writes=_PER_REQUEST + _PAGES + ("nsa_seqlens_expanded",) + _SPARSE + ("paged_mqa_ctx_lens_2d",),
    pads_below_one=False,
)
DRAFT_EXTEND = ForwardMode(
    name="draft-extend",
    fill_name="fill_draft_extend_metadata",
    inputs=("seq_lens", "extend_seq_lens", "req_pool_indices", "req_to_token"),
    options=("nsa_index_topk", "page_size", "max_seqlen_k"),
    writes=_PER_REQUEST + _PAGES + ("nsa_seqlens_expanded",) + _SPARSE,
    pads_below_one=True,
)

FORWARD_MODES: dict[str, ForwardMode] = {mode.name: mode for mode in (DECODE, TARGET_VERIFY, DRAFT_EXTEND)}
DEFAULT_FORWARD_MODE = DRAFT_EXTEND.name
MAX_NEXT_N = NEXT_N.most  # past the longest draft SGLang's configurations run (reference.domain)


def forward_mode(name: str) -> ForwardMode:
    if name not in FORWARD_MODES:
        raise ValueError(f"unknown forward mode {name!r}; known: {', '.join(FORWARD_MODES)}")
    return FORWARD_MODES[name]
