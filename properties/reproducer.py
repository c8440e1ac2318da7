"""Self-contained JSON reproducers of failures, and replaying them.

A reproducer holds the forward mode, every input tensor (values, dtype, shape, strides), every buffer
(shape, strides, the sentinel it starts filled with, and whether real_page_table is page_table_1),
the host ints, the variant and law that failed, and where it failed (torch and Triton versions,
device). Replaying needs nothing else: not the strategies, not the seed. Reproducers written before
the forward mode was recorded are draft-extend's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import torch

from properties.cases import ReplayCase
from properties.compare import compare, report
from properties.harness import GRAPH_RESIDENT, HOST_SIZED, Contract, graph_resident, on_host
from properties.laws import CONTRACT_LAWS, first_broken_law
from reference.buffers import MetadataBuffers, whole_storage
from reference.eager import FILLS
from reference.engines import FULL_WIDTH
from reference.modes import DEFAULT_FORWARD_MODE, forward_mode

FORMAT = "dsa-replay-reproducer/2"
FORMATS = (FORMAT, "nsa-draft-extend-reproducer/1")
LAWS_BY_NAME = {law.__name__: law for law in CONTRACT_LAWS}


def environment(device: torch.device) -> dict:
    import triton

    name = "cpu (Triton interpreter)"
    if device.type == "cuda":
        try:
            name = torch.cuda.get_device_name(device)
        except Exception:  # a CUDA context lost to a sticky fault may refuse even this
            name = "cuda"
    return {"torch": torch.__version__, "triton": triton.__version__, "device": name}


def _tensor(t: torch.Tensor) -> dict:
    return {
        "dtype": str(t.dtype).removeprefix("torch."),
        "shape": list(t.shape),
        "strides": list(t.stride()),
        "values": t.cpu().tolist(),
    }


def _buffer(t: torch.Tensor) -> dict:
    return {"shape": list(t.shape), "strides": list(t.stride())}


def to_json(
    case: ReplayCase, *, variant: str, law: str, message: str, device: torch.device, mode: str = HOST_SIZED,
    convention: str = "contract",
) -> dict:
    inputs = case.inputs("cpu")
    buffers = case.buffers("cpu")
    return {
        "format": FORMAT,
        "forward_mode": case.forward_mode,
        "variant": variant,
        "convention": convention,
        "mode": mode,
        "domain": "sglang" if case.cu_head_zero else "strict",
        "law": law,
        "message": message,
        "environment": environment(device),
        "inputs": {name: _tensor(t) for name, t in case.named_inputs(inputs).items()},
        "buffers": {name: _buffer(getattr(buffers, name)) for name in case.buffer_names()},
        "real_page_table_is_page_table_1": buffers.real_page_table is buffers.page_table_1,
        "sentinel": case.sentinel,
        "options": case.options(),
        "case": dataclasses.asdict(case),
    }


def write(directory: Path, record: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps(record["case"], sort_keys=True).encode()).hexdigest()[:12]
    target = record["variant"].rpartition(":")[0] or record["variant"]
    if record["variant"].startswith("sglang=="):  # a released kernel's short spec (properties.peers)
        variant = record["variant"].replace("==", "-").replace(":", "-")
    else:
        variant = Path(target).stem if target.endswith(".py") else target.rsplit(".", 1)[-1]
    mode = record.get("forward_mode", DEFAULT_FORWARD_MODE)
    variant += "" if mode == DEFAULT_FORWARD_MODE else f"-{mode}"
    path = directory / f"{variant}-{record['law']}-{digest}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def _strided(spec: dict, fill: int, device: torch.device) -> torch.Tensor:
    dtype = getattr(torch, spec.get("dtype", "int32"))
    t = torch.empty_strided(spec["shape"], spec["strides"], dtype=dtype, device=device)
    whole_storage(t).fill_(fill)
    if "values" in spec:
        t.copy_(torch.tensor(spec["values"], dtype=dtype).reshape(spec["shape"]))
    return t


def materialize(record: dict, device: torch.device) -> tuple[tuple[torch.Tensor, ...], MetadataBuffers]:
    """The recorded inputs and the buffers as they stood before the failing call."""
    sentinel = record["sentinel"]
    mode = forward_mode(record.get("forward_mode", DEFAULT_FORWARD_MODE))
    inputs = tuple(_strided(record["inputs"][name], sentinel, device) for name in mode.inputs)
    tensors = {name: _strided(spec, sentinel, device) for name, spec in record["buffers"].items()}
    tensors.setdefault("nsa_seqlens_expanded", None)
    tensors.setdefault("page_table_1", None)
    if record["real_page_table_is_page_table_1"]:
        tensors["real_page_table"] = tensors["page_table_1"]
    if record.get("domain", "strict") == "sglang":
        # SGLang allocates its cu buffers zeroed.
        tensors["cu_seqlens_k"][0] = 0
        tensors["nsa_cu_seqlens_k"][0] = 0
    return inputs, MetadataBuffers(**tensors)


def load(path: Path) -> dict:
    record = json.loads(Path(path).read_text())
    if record.get("format") not in FORMATS:
        raise ValueError(f"{path}: not a reproducer of this suite (format {record.get('format')!r})")
    return record


def recorded_case(record: dict) -> ReplayCase:
    """The recorded case; one recorded before engine profiles is the full-width contract's, which was
    the suite's only one then."""
    fields = {"profile": FULL_WIDTH.name, **record["case"]}
    return ReplayCase(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def replay(record: dict, fill: Contract, device: torch.device) -> str | None:
    """Rerun the recorded failure (in the recorded mode and domain): None when `fill` now holds,
    else the account of what is still wrong. A differential failure replays from the recorded tensors
    alone (every cell where `fill` and the reference differ); any other law is rerun on the recorded
    case."""
    if record.get("mode", HOST_SIZED) == GRAPH_RESIDENT:
        fill = graph_resident(fill)
    case = recorded_case(record)
    reference = FILLS[case.forward_mode]
    if record["law"] != "differential" and record["law"] in LAWS_BY_NAME:
        failure = first_broken_law(fill, case, device, (LAWS_BY_NAME[record["law"]],))
        return failure.message if failure else None
    inputs, expected = materialize(record, device)
    before = expected.clone()
    got = expected.clone()
    reference(*inputs, expected, **case.options())
    with on_host(case):
        fill(*inputs, got, **case.options())
    mismatches = compare(case, expected, got, before)
    return report(mismatches) if mismatches else None
