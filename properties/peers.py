"""SGLang's released kernels, judged as they ship: fetched at run time into a cache outside the
repository, never committed.

`python -m properties peers fetch sglang==0.5.23` downloads that release's wheel (`pip download
--no-deps`) and extracts its DSA metadata kernels, the plain ones (`dsa/metadata.py`) and the KPool
package (`dsa/kpool_metadata/`), into `$DSA_PEERS_CACHE` (default ~/.cache/dsa-replay-metadata/peers),
under the package path they have in the wheel; the packages above them get empty `__init__.py`
files, so that the KPool files' absolute imports of their siblings resolve without importing the
rest of SGLang. Then every `--variant` and `--against` takes short specs:

    sglang==0.5.23:draft-extend         the plain kernel of that forward mode
    sglang==0.5.23:kpool:decode         the KPool kernel of that forward mode

each with its forward mode and its SGLang calling convention implied. Kernels of other snapshots
(a file reached only by its path) are named by path as any variant is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from properties.host import BadVariant
from reference.modes import FORWARD_MODES

DSA = "sglang/kernels/ops/attention/dsa"
# The files a release's kernels need, as the wheel holds them.
RELEASE_FILES = (
    f"{DSA}/metadata.py",
    *(f"{DSA}/kpool_metadata/{name}.py" for name in ("__init__", "scan", "decode", "verify", "draft_extend")),
)
# Forward mode -> (file, callable) of each kernel set of a release.
KERNELS = {
    "plain": {
        "decode": (f"{DSA}/metadata.py", "fused_dsa_decode_metadata"),
        "target-verify": (f"{DSA}/metadata.py", "fused_dsa_target_verify_metadata"),
        "draft-extend": (f"{DSA}/metadata.py", "fused_dsa_draft_extend_metadata"),
    },
    "kpool": {
        "decode": (f"{DSA}/kpool_metadata/decode.py", "fused_dsa_decode_metadata_kpool"),
        "target-verify": (f"{DSA}/kpool_metadata/verify.py", "fused_dsa_target_verify_metadata_kpool"),
        "draft-extend": (f"{DSA}/kpool_metadata/draft_extend.py", "fused_dsa_draft_extend_metadata_kpool"),
    },
}
SPEC = re.compile(r"^sglang==(?P<version>[0-9][0-9A-Za-z.+-]*):(?:(?P<set>kpool):)?(?P<mode>[a-z-]+)$")
SPEC_FORM = "sglang==VERSION:MODE or sglang==VERSION:kpool:MODE (after `python -m properties peers fetch sglang==VERSION`)"


def cache_root() -> Path:
    return Path(os.environ.get("DSA_PEERS_CACHE") or Path.home() / ".cache" / "dsa-replay-metadata" / "peers")


def release_dir(version: str) -> Path:
    return cache_root() / f"sglang-{version}"


@dataclass(frozen=True)
class PeerKernel:
    """One released kernel a short spec names: its file in the cache, its callable, the forward mode
    and the convention it is called through."""

    spec: str
    version: str
    kernel_set: str
    forward_mode: str
    path: Path
    callable: str

    @property
    def convention(self) -> str:
        return f"sglang-fused-{self.forward_mode}"

    @property
    def file_spec(self) -> str:
        return f"{self.path}:{self.callable}"


def is_peer_spec(spec: str | None) -> bool:
    return bool(spec) and spec.startswith("sglang==")


def peer_kernel(spec: str) -> PeerKernel:
    """The released kernel `spec` names; BadVariant, saying what to do, where the spec is malformed
    or the release was not fetched."""
    match = SPEC.match(spec)
    if match is None or match["mode"] not in FORWARD_MODES:
        raise BadVariant(f"{spec!r}: a released kernel is named {SPEC_FORM}, MODE one of {', '.join(FORWARD_MODES)}")
    version, kernel_set, mode = match["version"], match["set"] or "plain", match["mode"]
    file, name = KERNELS[kernel_set][mode]
    path = release_dir(version) / file
    if not path.is_file():
        raise BadVariant(f"{spec!r}: sglang {version} is not in {cache_root()}; run `python -m properties peers fetch sglang=={version}`")
    return PeerKernel(spec, version, kernel_set, mode, path, name)


def fetch(requirement: str, *, wheel: Path | None = None) -> Path:
    """Download `requirement`'s wheel (sglang==VERSION) and extract its DSA metadata kernels into the
    cache; returns the release's folder. `wheel` extracts from a wheel already on disk instead."""
    match = re.fullmatch(r"sglang==([0-9][0-9A-Za-z.+-]*)", requirement)
    if match is None:
        raise BadVariant(f"{requirement!r}: fetch takes sglang==VERSION")
    version = match[1]
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            download = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", requirement, "-d", tmp],
                capture_output=True, text=True,
            )
            wheels = sorted(Path(tmp).glob("sglang-*.whl"))
            if download.returncode != 0 or not wheels:
                said = (download.stderr or download.stdout).strip().splitlines()
                raise BadVariant(f"pip could not download {requirement}: {said[-1] if said else download.returncode}")
            wheel = wheels[0]
        target = release_dir(version)
        staging = Path(tmp) / "release"
        with zipfile.ZipFile(wheel) as archive:
            present = set(archive.namelist())
            missing = [name for name in RELEASE_FILES if name not in present]
            if missing:
                raise BadVariant(f"{wheel.name} lacks {', '.join(missing)}: not a release with the DSA metadata kernels")
            for name in RELEASE_FILES:
                out = staging / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.read(name))
        # Empty packages above the kernels: their own __init__ files would import all of SGLang.
        for package in Path(DSA).parents:
            if str(package) != ".":
                (staging / package / "__init__.py").touch()
        (staging / DSA / "__init__.py").touch()
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        (staging / "MANIFEST.json").write_text(json.dumps({"requirement": requirement, "wheel": wheel.name, "sha256": digest}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), target)
    return target


def add_snapshot(name: str, file: Path) -> Path:
    """Copy a kernel file reached only by its path (an SGLang snapshot read from a repository) into the
    cache as snapshots/NAME/FILE, where the verdict table of real code finds it; returns its path."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise BadVariant(f"{name!r}: a snapshot's name is letters, digits, '.', '_' and '-'")
    if not file.is_file():
        raise BadVariant(f"no such file {file}")
    target = snapshot_path(name, file.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(file, target)
    return target


def snapshot_path(name: str, file: str) -> Path:
    return cache_root() / "snapshots" / name / file


def fetched() -> list[tuple[str, dict]]:
    """(version, manifest) of every release in the cache."""
    root = cache_root()
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.glob("sglang-*")):
        manifest = folder / "MANIFEST.json"
        if manifest.is_file():
            out.append((folder.name.removeprefix("sglang-"), json.loads(manifest.read_text())))
    return out
