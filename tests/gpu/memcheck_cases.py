"""Small ragged cases on tight buffers (no padding anywhere), run by tests/gpu/test_gpu.py under
`compute-sanitizer --tool memcheck`: any read or write past an allocation is reported there."""

from __future__ import annotations

import sys

import torch

import kernel
from properties.cases import DraftExtendCase
from properties.compare import compare, report
from properties.harness import run_reference

TIGHT = dict(spare_requests=0, spare_tokens=0, spare_cols=0, row_pad=0, req_to_token_row_pad=0)


def tight_cases():
    shapes = [
        ([1], [1], 1),
        ([5, 1, 9], [2, 1, 0], 64),
        ([300, 17, 64, 1], [3, 0, 4, 1], 64),
        ([33] * 40, [1, 2, 3, 0] * 10, 16),
        ([700, 1], [8, 1], 2),
    ]
    for seq_lens, extend_seq_lens, page_size in shapes:
        bs = len(seq_lens)
        yield DraftExtendCase(
            seq_lens=tuple(seq_lens),
            extend_seq_lens=tuple(extend_seq_lens),
            req_pool_indices=tuple(reversed(range(bs))),
            pool_size=bs,
            context_len=max(seq_lens),
            nsa_index_topk=7,
            page_size=page_size,
            max_seqlen_k=max(seq_lens),
            **TIGHT,
        )


def main() -> int:
    failures = 0
    for case in tight_cases():
        expected = run_reference(case, "cuda").after
        inputs = case.inputs("cuda")
        got = case.buffers("cuda")
        kernel.fill_draft_extend_metadata(*inputs, got, **case.options())
        out_expanded = torch.empty(case.total_tokens, dtype=torch.int32, device="cuda")
        out_clipped = torch.empty_like(out_expanded)
        kernel.expand_seqlens_into(inputs[1], inputs[0], case.nsa_index_topk, out_expanded, out_clipped)
        torch.cuda.synchronize()
        mismatches = compare(case, expected, got)
        if mismatches:
            failures += 1
            print(report(mismatches))
        print(f"bs={case.bs} total={case.total_tokens} page_size={case.page_size}: {'ok' if not mismatches else 'MISMATCH'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
