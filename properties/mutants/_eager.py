"""Factories for the eager mutants: the reference's own computation with one defect planted around it.

Each factory takes `corrupt`, a function that receives the call's tensors and options as keyword
arguments (seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, nsa_index_topk,
page_size, max_seqlen_k), takes the ones its defect needs plus `**_`, and writes into `buffers`.
"""

from __future__ import annotations

from typing import Callable

from properties.harness import Contract
from properties.mutants._contract import contract
from reference import eager

Corruption = Callable[..., None]


def after_reference(corrupt: Corruption) -> Contract:
    """The contract: reference.fill_draft_extend_metadata, then `corrupt` over its result."""

    def body(**call) -> None:
        eager.fill_draft_extend_metadata(**call)
        corrupt(**call)

    return contract(body)


def before_reference(corrupt: Corruption) -> Contract:
    """The contract: `corrupt` over the buffers' old contents, then reference.fill_draft_extend_metadata."""

    def body(**call) -> None:
        corrupt(**call)
        eager.fill_draft_extend_metadata(**call)

    return contract(body)
