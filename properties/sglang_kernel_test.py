"""SGLang's own kernel test, run on any kernels, with each failed assertion judged against the
live-prefix contract.

SGLang's `test/registered/kernels/test_dsa_metadata.py` compares every page-table row over the whole
width, while SGLang's kernels (and ours, under sglang-dsa) define only each row's live prefix, the
columns below its kv length. This module runs that test file (fetched at run time: `python -m
properties peers add sglang-test path/to/test_dsa_metadata.py`) on the kernels named, in a process
of its own, with the SGLang modules it imports stood in for: `sglang.kernels.ops.attention.
dsa_metadata` is the kernels under test (a kernel that spells the page size `physical_page_size` is
given it under that name), the CI registration is a no-op and its test case class is unittest's.
Every failed assertion is then one of

- `stale`: every differing cell of a page table lies at or past its row's live prefix, which the
  contract leaves to the kernel (the kv lengths are read from the call itself);
- `wrong`: some differing cell is one the contract defines.

    python -m properties.sglang_kernel_test --test FILE --kernels kernel.sglang --json out.json
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import types
import unittest
from pathlib import Path

import torch

STALE, WRONG = "stale", "wrong"
NAMES = ("fused_dsa_decode_metadata", "fused_dsa_target_verify_metadata", "fused_dsa_draft_extend_metadata")


class Judged(AssertionError):
    """A failed assertion of the test, with its kind (STALE or WRONG) first in its message."""


_LAST_CALL: dict = {}  # the per-token-row kv lengths and page size of the last kernel call


def _token_kv(name: str, kwargs: dict) -> list[int]:
    seq = kwargs["seq_lens"][: kwargs["bs"]].to(torch.int64).cpu().tolist()
    if name == "fused_dsa_target_verify_metadata":
        next_n = kwargs["next_n"]
        return [s + next_n for s in seq for _ in range(next_n)]
    if name == "fused_dsa_draft_extend_metadata":
        extend = kwargs["extend_seq_lens"][: kwargs["bs"]].to(torch.int64).cpu().tolist()
        if kwargs.get("static_extend_len"):
            extend = [extend[0]] * len(extend) if extend else []
        return [s for s, q in zip(seq, extend) for _ in range(q)]
    return seq


def _kernels_module(spec: str) -> types.ModuleType:
    """The three kernels `spec` names (a module, a file, or a fetched release sglang==VERSION) under
    the test's keywords: the page size given as `physical_page_size` where the kernel spells it so,
    and each call's kv lengths noted for the judging of its page tables."""
    import inspect

    if spec.startswith("sglang=="):
        from properties.peers import peer_kernel

        spec = str(peer_kernel(f"{spec}:decode").path)
    if spec.endswith(".py"):
        from properties.harness import import_target

        source = import_target(spec, spec)
    else:
        source = importlib.import_module(spec)
    module = types.ModuleType("sglang.kernels.ops.attention.dsa_metadata")
    for name in NAMES:
        kernel = getattr(source, name)
        takes = inspect.signature(kernel).parameters

        def call(*args, _kernel=kernel, _name=name, _takes=takes, **kwargs):
            if "real_page_size" in kwargs and "real_page_size" not in _takes and "physical_page_size" in _takes:
                kwargs["physical_page_size"] = kwargs.pop("real_page_size")
            _LAST_CALL.update(kv=_token_kv(_name, kwargs), page_size=kwargs.get("physical_page_size", kwargs.get("real_page_size", 1)))
            return _kernel(*args, **kwargs)

        setattr(module, name, call)
    return module


def _stand_ins(kernels: types.ModuleType) -> None:
    """The SGLang modules the test imports, stood in for."""
    for name in ("sglang", "sglang.kernels", "sglang.kernels.ops", "sglang.kernels.ops.attention", "sglang.test", "sglang.test.ci"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["sglang.kernels.ops.attention.dsa_metadata"] = kernels
    register = types.ModuleType("sglang.test.ci.ci_register")
    register.register_cuda_ci = lambda *args, **kwargs: None
    utils = types.ModuleType("sglang.test.test_utils")
    utils.CustomTestCase = unittest.TestCase
    sys.modules["sglang.test.ci.ci_register"] = register
    sys.modules["sglang.test.test_utils"] = utils


def judge_assertion(actual: torch.Tensor, expected: torch.Tensor, name: str) -> None:
    """The test's exact comparison, and where it fails, whether the live-prefix contract defines any
    differing cell (Judged's message starts with `stale` or `wrong`)."""
    if actual.shape == expected.shape and torch.equal(actual, expected):
        return
    if actual.shape != expected.shape:
        raise Judged(f"{WRONG}: {name}: shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    differs = (actual != expected).cpu()
    cells = int(differs.sum())
    if "page_table" in name and differs.dim() == 2 and _LAST_CALL:
        per_cell = _LAST_CALL["page_size"] if "real" in name else 1
        kv = torch.tensor(_LAST_CALL["kv"][: differs.shape[0]] + [0] * max(0, differs.shape[0] - len(_LAST_CALL["kv"])))
        first_column = torch.arange(differs.shape[1]) * per_cell
        live = first_column[None, :] < kv[:, None]
        defined = int((differs & live).sum())
        if defined == 0:
            raise Judged(f"{STALE}: {name}: {cells} cell(s) differ, every one at or past its row's live prefix")
        raise Judged(f"{WRONG}: {name}: {defined} of {cells} differing cell(s) inside a row's live prefix")
    raise Judged(f"{WRONG}: {name}: {cells} cell(s) differ")


class _Collect(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes: list[dict] = []

    def _record(self, test, outcome: str, said: str = "") -> None:
        self.outcomes.append({"test": test.id().rsplit(".", 1)[-1], "outcome": outcome, "said": said})

    def addSuccess(self, test):
        self._record(test, "pass")

    def addSubTest(self, test, subtest, err):
        if err is None:
            self._record(subtest, "pass")
        else:
            self._record(subtest, *_outcome(err))

    def addFailure(self, test, err):
        self._record(test, *_outcome(err))

    def addError(self, test, err):
        self._record(test, "error", f"{err[0].__name__}: {str(err[1]).splitlines()[0] if str(err[1]) else ''}")

    def addSkip(self, test, reason):
        self._record(test, "skip", reason)


def _outcome(err) -> tuple[str, str]:
    said = str(err[1]).splitlines()[0] if str(err[1]) else err[0].__name__
    if isinstance(err[1], Judged):
        return said.split(":", 1)[0], said
    return WRONG, said


def run(test_file: Path, kernels: str) -> list[dict]:
    """Every test and subtest of `test_file` on `kernels`: [{test, outcome (pass, stale, wrong,
    error, skip), said}]."""
    _stand_ins(_kernels_module(kernels))
    module_spec = importlib.util.spec_from_file_location("sglang_test_dsa_metadata", test_file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module._assert_equal = judge_assertion
    result = _Collect()
    unittest.defaultTestLoader.loadTestsFromModule(module).run(result)
    return result.outcomes


def summary(outcomes: list[dict]) -> str:
    counts = {kind: sum(o["outcome"] == kind for o in outcomes) for kind in ("pass", STALE, WRONG, "error", "skip")}
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m properties.sglang_kernel_test", description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", required=True, metavar="FILE", help="SGLang's test_dsa_metadata.py")
    parser.add_argument("--kernels", required=True, metavar="SPEC", help="kernel.sglang, path/to/metadata.py, or sglang==VERSION")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    outcomes = run(Path(args.test), args.kernels)
    for o in outcomes:
        print(f"{o['outcome']:5}  {o['test']}  {o['said']}"[:300])
    print(f"{args.kernels}: {summary(outcomes)}")
    if args.json:
        Path(args.json).write_text(json.dumps(outcomes, indent=1))
    return 1 if any(o["outcome"] in (WRONG, "error") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
