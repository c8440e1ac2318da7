"""After its outputs are written, clamps seq_lens to topk in place: every buffer is right, the
caller's seq_lens is not. Models an input reused as scratch space (the inputs law)."""

from properties.mutants._eager import after_reference


def corrupt(*, seq_lens, nsa_index_topk, **_) -> None:
    seq_lens.clamp_(max=nsa_index_topk)


fill_draft_extend_metadata = after_reference(corrupt)
