"""GPU tier, nightly: SGLang's own kernels give the verdicts properties.real_code records for them,
each gated in a fresh process (a kernel's sticky fault stays its own). A kernel whose code is not in
the peers' cache skips, saying the command that fetches it. Nightly: fourteen gates take minutes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch

from properties.real_code import REAL_CODE, judge_by_index

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.nightly,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

MAX_EXAMPLES = 8


@pytest.mark.parametrize("index", range(len(REAL_CODE)), ids=[f"{r.kernel}-{r.forward_mode}".replace(" ", "_") for r in REAL_CODE])
def test_sglangs_kernels_give_their_recorded_verdicts(index):
    record = REAL_CODE[index]
    if (why := record.missing()) is not None:
        pytest.skip(why)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        judged = pool.submit(judge_by_index, index, MAX_EXAMPLES).result()
    assert not judged.differences, f"{record.kernel} ({record.forward_mode}): " + "; ".join(judged.differences)
