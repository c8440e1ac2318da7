"""Keeps the token -> request map of its first call, keyed by the address, shape and strides of
extend_seq_lens (a call signature), and reuses it whenever that tensor comes back: right on every first call, wrong once a captured tensor
is refilled with other lengths. Models a launch plan that caches values along with the signature
(the state-across-calls law)."""

import torch

from properties.mutants._contract import contract
from reference import eager

_OWNERS: dict[tuple, torch.Tensor] = {}


def body(*, seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers, nsa_index_topk, page_size, max_seqlen_k):
    eager.fill_draft_extend_metadata(
        seq_lens, extend_seq_lens, req_pool_indices, req_to_token, buffers,
        nsa_index_topk=nsa_index_topk, page_size=page_size, max_seqlen_k=max_seqlen_k,
    )
    # Defect: the map is cached by address, not recomputed from the tensor's current values.
    owners = _OWNERS.setdefault(
        (extend_seq_lens.data_ptr(), extend_seq_lens.shape, extend_seq_lens.stride()),
        torch.repeat_interleave(torch.arange(seq_lens.shape[0], device=seq_lens.device), extend_seq_lens),
    )
    total = min(owners.shape[0], int(extend_seq_lens.sum()))
    rows = req_to_token[req_pool_indices[owners[:total]], :max_seqlen_k]
    buffers.page_table_1[:total, :max_seqlen_k].copy_(rows)


fill_draft_extend_metadata = contract(body)
