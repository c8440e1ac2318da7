"""Engine profiles: the contract as each serving engine states it today, one record each.

The forward modes (`reference.modes`) say which lengths and rows a call fills; an engine profile says
the few rules on which the engines that ship these kernels differ, and which of their inputs a kernel
must take:

- `padding_floor`: the least causal length of a draft-extend graph-bucket padding request (seq_len 1
  or 0 with the draft width as extend length, whose lengths kv - qo + 1 + s go to 0 and below).
  SGLang's DSA kernels clamp them to 0 (sgl-project/sglang#30378, merged July 2026 and in v0.5.15:
  consumers read lengths as uint32, and 0 is an empty row); vLLM's indexer clamps to 0 as well;
  SGLang's DeepSeek-V4 backend clamps to 1 (sgl-project/sglang#31270).
- `live_prefix`: page rows are defined only on each token row's live prefix, the columns below its
  request's kv length (sgl-project/sglang#31981 and #32109 skip every column block at or past it).
  A cell past it, a tail cell, may keep its old contents or hold what the full-width rule writes
  there; anything else is a defect. Without it, every column below max_seqlen_k is written.
- `page_table_1_optional`: with a page size above 1 the caller may pass no `page_table_1` at all;
  only `real_page_table` is then written (SGLang's fused decode graphs never materialise it).
- `index_kpools`: the KPool sizes k the engine sends (GLM's KPool, sgl-project/sglang#38845): a
  token's sparse length is min(floor(len / k) * k, topk) + len % k, where `kpool_supported` holds.
"""

from __future__ import annotations

from dataclasses import dataclass

KPOOL_PAGE_SIZE = 64  # the page size at which an engine pools top-k lengths
KPOOL_SIZES = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class EngineProfile:
    name: str  # as the suite's command lines spell it: --profile sglang-dsa|sglang-dsv4|full-width
    padding_floor: int
    live_prefix: bool
    page_table_1_optional: bool
    index_kpools: tuple[int, ...]
    engine: str  # who states this contract, and where

    def kernel_options(self, pads_below_one: bool) -> dict[str, int | bool]:
        """The keyword options a kernel that serves several profiles takes to follow this one, in a
        forward mode that pads below one (draft-extend's padding floor) or not."""
        floor = {"padding_floor": self.padding_floor} if pads_below_one else {}
        return {**floor, "live_prefix": self.live_prefix}


def kpool_supported(index_kpool: int, page_size: int, nsa_index_topk: int) -> bool:
    """Where an engine pools top-k lengths by k: k = 1 everywhere (no pooling); k > 1 at page size 64,
    with k dividing both 64 and the top-k."""
    if index_kpool == 1:
        return True
    return (
        index_kpool in KPOOL_SIZES
        and page_size == KPOOL_PAGE_SIZE
        and KPOOL_PAGE_SIZE % index_kpool == 0
        and nsa_index_topk % index_kpool == 0
    )


def sparse_length(length: int, nsa_index_topk: int, index_kpool: int = 1) -> int:
    """A token's sparse (clipped) length: min(length, topk) for k = 1; for KPool k,
    min(floor(length / k) * k, topk) + length % k. The rule's one statement in plain Python."""
    return min(length // index_kpool * index_kpool, nsa_index_topk) + length % index_kpool


SGLANG_DSA = EngineProfile(
    name="sglang-dsa",
    padding_floor=0,
    live_prefix=True,
    page_table_1_optional=True,
    index_kpools=KPOOL_SIZES,
    engine="SGLang 0.5.23's DSA kernels (dsa/metadata.py, and dsa/kpool_metadata/, on by default where index_kpool > 1), as SGLang main's at b4ff2431; vLLM's indexer pads with 0 too",
)
SGLANG_DSV4 = EngineProfile(
    name="sglang-dsv4",
    padding_floor=1,
    live_prefix=True,
    page_table_1_optional=False,
    index_kpools=(1,),
    engine="SGLang's DeepSeek-V4 backend (sgl-project/sglang#31270)",
)
FULL_WIDTH = EngineProfile(
    name="full-width",
    padding_floor=1,
    live_prefix=False,
    page_table_1_optional=False,
    index_kpools=(1,),
    engine="no engine's today: the strictest reading, this suite's contract before engine profiles",
)

ENGINE_PROFILES: dict[str, EngineProfile] = {profile.name: profile for profile in (SGLANG_DSA, SGLANG_DSV4, FULL_WIDTH)}
DEFAULT_PROFILE = SGLANG_DSA.name


def profile_table() -> str:
    """The profiles as the Markdown table README.md shows (tests/test_docs.py holds the two together)."""
    rows = [
        "| profile | padding floor (draft-extend) | page rows written | `page_table_1=None` | `index_kpool` | whose contract |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in ENGINE_PROFILES.values():
        pages = "each row's live prefix (columns below its kv length)" if p.live_prefix else "every column below `max_seqlen_k`"
        kpools = ", ".join(map(str, p.index_kpools))
        optional = "allowed (page size > 1)" if p.page_table_1_optional else "not sent"
        rows.append(f"| `{p.name}`{' (default)' if p.name == DEFAULT_PROFILE else ''} | {p.padding_floor} | {pages} | {optional} | {kpools} | {p.engine} |")
    return "\n".join(rows)


def engine_profile(name: str | EngineProfile) -> EngineProfile:
    """The profile named `name` (a profile is returned as it is)."""
    if isinstance(name, EngineProfile):
        return name
    if name not in ENGINE_PROFILES:
        raise ValueError(f"unknown engine profile {name!r}; known: {', '.join(ENGINE_PROFILES)}")
    return ENGINE_PROFILES[name]
