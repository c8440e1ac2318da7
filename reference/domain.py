"""The contract's domain: each argument's declared range, one record each.

A range's ends are what the suite draws to, on every tier: the strategies (`properties.strategies`)
reach the small ends and the cheap large ones on the CPU, and the pinned extremes
(`properties.edges.EXTREMES`) reach the costly ones on a GPU. Each range reaches past what the
engines send today, so that a variant wrong only beyond today's configurations is still caught;
tests/test_domain.py holds the strategies and the edge examples to these ends, and README.md's
table is generated from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from reference.engines import ENGINE_PROFILES, KPOOL_SIZES


@dataclass(frozen=True)
class ArgumentRange:
    argument: str
    least: int
    most: int
    engines: str  # what the engines send, and so why the range ends where it does

    def row(self) -> str:
        return f"| `{self.argument}` | {self.least:,} | {self.most:,} | {self.engines} |"


PAGE_SIZE = ArgumentRange(
    "page_size", 1, 1024,
    "powers of two; SGLang's DSA kernels run 1 and 64 (FlashMLA's page), KPool 64; drawn to 1,024",
)
EXTEND_LEN = ArgumentRange(
    "extend_seq_lens[b]", 0, 16,
    "draft-extend's accepted tokens, at most the draft width; SGLang's EAGLE configurations run widths to 8",
)
NEXT_N = ArgumentRange(
    "next_n", 1, 16, "target-verify's draft tokens (speculative_num_draft_tokens); SGLang's configurations run to 8",
)
BATCH_SIZE = ArgumentRange(
    "bs", 0, 16_384, "0 is a data-parallel rank's idle batch; SGLang's large-batch kernel test runs 16,384",
)
COLUMNS = ArgumentRange(
    "max_seqlen_k", 0, 1_000_003, "a 1M-token context; SGLang's large-shape kernel test runs 1,000,003 columns",
)
DOMAIN: dict[str, ArgumentRange] = {r.argument: r for r in (PAGE_SIZE, EXTEND_LEN, NEXT_N, BATCH_SIZE, COLUMNS)}


@dataclass(frozen=True)
class MemberSet:
    """An argument whose domain is a finite set: every member must be judged, each by a pinned edge
    example on which computing it as another member changes a cell (tests/test_domain.py)."""

    argument: str
    members: tuple
    engines: str


KPOOL_SIZE = MemberSet("index_kpool", KPOOL_SIZES, "SGLang 0.5.23 pools top-k lengths by k where k > 1, page size 64, k dividing the top-k")
PAGE_SIZES = MemberSet(
    "page_size", tuple(2**i for i in range(PAGE_SIZE.most.bit_length())), "the powers of two of PAGE_SIZE's range"
)
INDEX_DTYPE = MemberSet("index dtype", ("int32", "int64"), "seq_lens, extend_seq_lens and req_pool_indices come as either")
PADDING_FLOOR = MemberSet(
    "padding_floor", tuple(sorted({p.padding_floor for p in ENGINE_PROFILES.values()})),
    "draft-extend's padding floor, one per engine profile's rule",
)
MEMBER_SETS: dict[str, MemberSet] = {m.argument: m for m in (KPOOL_SIZE, PAGE_SIZES, INDEX_DTYPE, PADDING_FLOOR)}


def domain_table() -> str:
    """The ranges as the Markdown table README.md shows (tests/test_docs.py holds the two together)."""
    return "\n".join(["| argument | least | most drawn | what the engines send |", "| --- | --- | --- | --- |"] + [r.row() for r in DOMAIN.values()])
