"""Self-contained JSON reproducers of failures, and replaying them.

A reproducer holds every input tensor (values, dtype, shape, strides), every buffer (shape, strides,
the sentinel it starts filled with, and whether real_page_table is page_table_1), the host ints,
the variant and law that failed, and where it failed (torch and Triton versions, device). Replaying
needs nothing else: not the strategies, not the seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import torch

from properties.cases import INPUT_NAMES, DraftExtendCase
from properties.compare import Mismatch, compare
from properties.harness import Contract, graph_resident
from reference.buffers import BUFFER_NAMES, DraftExtendMetadataBuffers, whole_storage

FORMAT = "nsa-draft-extend-reproducer/1"


def environment(device: torch.device) -> dict:
    import triton

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (Triton interpreter)"
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
    case: DraftExtendCase, *, variant: str, law: str, message: str, device: torch.device, mode: str = "host_sized"
) -> dict:
    inputs = case.inputs("cpu")
    buffers = case.buffers("cpu")
    return {
        "format": FORMAT,
        "variant": variant,
        "mode": mode,
        "law": law,
        "message": message,
        "environment": environment(device),
        "inputs": {name: _tensor(t) for name, t in zip(INPUT_NAMES, inputs)},
        "buffers": {name: _buffer(getattr(buffers, name)) for name in BUFFER_NAMES},
        "real_page_table_is_page_table_1": buffers.real_page_table is buffers.page_table_1,
        "sentinel": case.sentinel,
        "options": case.options(),
        "case": dataclasses.asdict(case),
    }


def write(directory: Path, record: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps(record["case"], sort_keys=True).encode()).hexdigest()[:12]
    variant = record["variant"].split(":")[0].rsplit(".", 1)[-1]
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


def materialize(record: dict, device: torch.device) -> tuple[tuple[torch.Tensor, ...], DraftExtendMetadataBuffers]:
    """The recorded inputs and the buffers as they stood before the failing call."""
    sentinel = record["sentinel"]
    inputs = tuple(_strided(record["inputs"][name], sentinel, device) for name in INPUT_NAMES)
    tensors = {name: _strided(record["buffers"][name], sentinel, device) for name in BUFFER_NAMES}
    if record["real_page_table_is_page_table_1"]:
        tensors["real_page_table"] = tensors["page_table_1"]
    return inputs, DraftExtendMetadataBuffers(**tensors)


def load(path: Path) -> dict:
    record = json.loads(Path(path).read_text())
    if record.get("format") != FORMAT:
        raise ValueError(f"{path}: not a reproducer of this suite (format {record.get('format')!r})")
    return record


def replay(record: dict, fill: Contract, device: torch.device) -> list[Mismatch]:
    """Run the reference and `fill` on the recorded call (in the recorded mode); every cell where
    they differ."""
    from reference import fill_draft_extend_metadata as reference

    if record.get("mode", "host_sized") == "graph_resident":
        fill = graph_resident(fill)
    case = DraftExtendCase(**{k: tuple(v) if isinstance(v, list) else v for k, v in record["case"].items()})
    inputs, expected = materialize(record, device)
    got = expected.clone()
    reference(*inputs, expected, **record["options"])
    fill(*inputs, got, **record["options"])
    return compare(case, expected, got)
