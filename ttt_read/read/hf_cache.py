"""Finding importable models already in the local Hugging Face cache; nothing is downloaded.

The cache keeps each repository as `models--ORG--NAME/snapshots/REVISION/` with `refs/main`
naming the current revision. Roots, in order: `$HF_HUB_CACHE`, `$HF_HOME/hub`,
`~/.cache/huggingface/hub`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from ttt_read.read.hf_import import SUPPORTED


@dataclasses.dataclass(frozen=True)
class CachedModel:
    repo: str  # ORG/NAME
    path: Path  # the snapshot directory
    architecture: str


def roots() -> list[Path]:
    found = []
    if os.environ.get("HF_HUB_CACHE"):
        found.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        found.append(Path(os.environ["HF_HOME"]) / "hub")
    found.append(Path.home() / ".cache" / "huggingface" / "hub")
    unique = []
    for root in found:
        if root.expanduser() not in unique:
            unique.append(root.expanduser())
    return unique


def _snapshot(repo_dir: Path) -> Path | None:
    """The revision `refs/main` names, else the most recently modified one."""
    snapshots = repo_dir / "snapshots"
    ref = repo_dir / "refs" / "main"
    if ref.is_file() and (snapshots / ref.read_text().strip()).is_dir():
        return snapshots / ref.read_text().strip()
    revisions = (
        sorted((p for p in snapshots.glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        if snapshots.is_dir()
        else []
    )
    return revisions[-1] if revisions else None


def supported_models() -> list[CachedModel]:
    """Cached repositories whose config names a supported architecture and that carry
    safetensors weights and a tokenizer.json, first root first, by repo name."""
    found: dict[str, CachedModel] = {}
    for root in roots():
        for repo_dir in sorted(root.glob("models--*")) if root.is_dir() else []:
            repo = repo_dir.name.removeprefix("models--").replace("--", "/", 1)
            snapshot = _snapshot(repo_dir)
            if repo in found or snapshot is None:
                continue
            try:
                architectures = json.loads((snapshot / "config.json").read_text()).get("architectures") or []
            except (OSError, ValueError, AttributeError):
                continue
            has_weights = (snapshot / "model.safetensors").is_file() or (
                snapshot / "model.safetensors.index.json"
            ).is_file()
            if (
                architectures[:1]
                and architectures[0] in SUPPORTED
                and has_weights
                and (snapshot / "tokenizer.json").is_file()
            ):
                found[repo] = CachedModel(repo, snapshot, architectures[0])
    return sorted(found.values(), key=lambda m: m.repo)


def locate(repo: str) -> Path | None:
    """The cached snapshot directory of `ORG/NAME`, supported or not (the import says why not)."""
    for root in roots():
        snapshot = _snapshot(root / ("models--" + repo.replace("/", "--")))
        if snapshot is not None:
            return snapshot
    return None
