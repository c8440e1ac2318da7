"""After its outputs are written, turns extend_seq_lens into its running sum in place (token
offsets computed into the input itself). Models an input reused as scratch space (the inputs law)."""

import torch

from properties.mutants._eager import after_reference


def corrupt(*, extend_seq_lens, **_) -> None:
    torch.cumsum(extend_seq_lens, 0, out=extend_seq_lens)


fill_draft_extend_metadata = after_reference(corrupt)
