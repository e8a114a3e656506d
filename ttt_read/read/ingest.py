"""`ingest` and `ingest --update`: paths read into the fast weights and saved as a snapshot.

Kept apart from the command line so that the training and evaluation code, the tests and
the benchmark drive exactly the same steps the user runs.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ttt_read import __version__
from ttt_read.read import checkpoint, snapshot
from ttt_read.read.device import pick_device
from ttt_read.read.loaded import load_with_model
from ttt_read.text import sources
from ttt_read.text import tokenizer as tok


@dataclasses.dataclass
class ReadSettings:
    lr: float | None = None  # None: the checkpoint's meta-trained inner learning rate
    chunk: int | None = None  # None: the checkpoint's chunk size
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    max_file_bytes: int = sources.TEXT_MAX_BYTES
    max_pdf_bytes: int = sources.PDF_MAX_BYTES


def collect(paths: Sequence[Path], settings: ReadSettings) -> sources.Collection:
    """The sources `ingest` reads, with PDF text cached in the cache directory."""
    from ttt_read.core.dirs import cache_dir

    return sources.collect(
        paths,
        settings.include,
        settings.exclude,
        max_file_bytes=settings.max_file_bytes,
        max_pdf_bytes=settings.max_pdf_bytes,
        cache_dir=cache_dir() / "pdf-text",
    )


def stream(tokenizer, files) -> tuple[list[int], dict[str, int]]:
    """The token stream reading sees for `files` (anything with `path` and `text`), starting
    after an end-of-text marker as training documents do, and each file's token count."""
    ids = [tokenizer.token_to_id(tok.END_OF_TEXT)]
    counts = {}
    for f in files:
        encoded = tok.encode_file(tokenizer, f.path, f.text)
        counts[f.path] = len(encoded)
        ids += encoded
    return ids, counts


def tokenize(tokenizer, collection: sources.Collection) -> tuple[list[int], list[dict]]:
    """One token stream for the whole collection (`stream`), plus the manifest with each
    file's token count."""
    ids, counts = stream(tokenizer, collection.files)
    manifest = [
        {**entry, "tokens": counts[entry["path"]]} if "skipped" not in entry else entry
        for entry in collection.manifest()
    ]
    return ids, manifest


def ingest(
    paths: Sequence[Path],
    out: Path,
    model_name: str | None = None,
    device: str = "auto",
    settings: ReadSettings = ReadSettings(),
    *,
    force: bool = False,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """Read `paths` into the fast weights and write the snapshot to `out`; return its metadata."""
    snapshot.ensure_writable(out, force)
    collection = collect(paths, settings)
    info = checkpoint.resolve(model_name)
    device = pick_device(device)
    model, tokenizer = checkpoint.load(info, device)
    cfg = model.cfg
    lr = cfg.inner_lr if settings.lr is None else settings.lr
    chunk = settings.chunk or cfg.chunk
    ids, manifest = tokenize(tokenizer, collection)
    started = time.perf_counter()
    result = _read_ids(model, ids, lr, chunk, device=device, on_progress=on_progress, manifest=manifest)
    metadata = {
        **_reading_metadata(
            info, cfg, lr, chunk, device, paths=paths, manifest=manifest, n_tokens=len(ids), started=started
        ),
        "chunk_losses": [round(float(x), 4) for x in result.chunk_losses[0]],
        "mean_loss": float(result.token_losses.mean()),
        "skipped_updates": result.skipped_updates,
    }
    fast = [w[0] for w in result.state.fast]
    return _write(
        out, metadata, fast, ids[-cfg.window :], files=collection.files, force=force, waypoints=_unbatched(result.kept)
    )


UPDATE_LR_SCALE = 0.5
"""`--update` reads at this fraction of the memory's reading rate. The memory already holds
most of a changed file from its previous version, and the update reads it last: at the full
rate the file counts twice and crowds out what was read before it. Measured on this
repository's history (tools/measure_update.py history), half the rate ends
below a full re-read's loss on the whole new version and keeps most of what the full rate
learns of the changed files."""


def update(
    parent: Path,
    paths: Sequence[Path],
    out: Path,
    model_name: str | None = None,
    device: str = "auto",
    *,
    settings: ReadSettings = ReadSettings(),
    force: bool = False,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> dict:
    """`ingest --update`: start from the snapshot `parent`'s fast weights and read only the
    files added or changed since it (by sha256), with its reading settings, at
    `UPDATE_LR_SCALE` times its reading rate unless `settings.lr` gives the update's rate.

    Unchanged files keep their manifest entries; the notepad is rebuilt from all current
    files; `parent` (checksum, path, depth in updates since a full read) records the lineage.
    Removed files are not unlearned. Returns the new snapshot's metadata."""
    snapshot.ensure_writable(out, force)
    old_meta = snapshot.read_metadata(parent)
    snapshot.require_fields(old_meta, parent)
    collection = collect(paths, settings)
    info = checkpoint.of_snapshot(old_meta, model_name)
    [old], model, tokenizer, device = load_with_model([parent], info, device)
    cfg = model.cfg
    old_reading = old_meta.get("reading", {})
    lr = old_reading.get("lr", cfg.inner_lr)
    update_lr = settings.lr if settings.lr is not None else lr * UPDATE_LR_SCALE
    chunk = settings.chunk or old_reading.get("chunk") or cfg.chunk
    old_entries = {e["path"]: e for e in old_meta["manifest"] if "skipped" not in e}
    fresh = [f for f in collection.files if old_entries.get(f.path, {}).get("sha256") != f.sha256]
    ids, fresh_manifest = tokenize(tokenizer, sources.Collection(fresh, [])) if fresh else ([], [])
    fresh_entries = {e["path"]: e for e in fresh_manifest}
    manifest = [fresh_entries.get(f.path) or old_entries[f.path] for f in collection.files]
    manifest += [{"path": s.path, "skipped": s.reason} for s in collection.skipped]
    current = {f.path for f in collection.files}
    fast = [w.float().to(device) for w in old.fast]
    chunk_losses, mean_loss, skipped_updates, tail = [], None, 0, old.tail_tokens
    waypoints = dict(zip(old_meta.get("waypoints", []), old.waypoints, strict=True))
    started = time.perf_counter()
    if fresh:  # the earlier states become those of this read: the parent's predate the changes
        result = _read_ids(
            model, ids, update_lr, chunk, device=device, on_progress=on_progress, manifest=fresh_manifest, fast=fast
        )
        fast, waypoints = [w[0] for w in result.state.fast], _unbatched(result.kept)
        chunk_losses = [round(float(x), 4) for x in result.chunk_losses[0]]
        mean_loss, skipped_updates, tail = float(result.token_losses.mean()), result.skipped_updates, ids[-cfg.window :]
    metadata = {
        **_reading_metadata(
            info, cfg, lr, chunk, device, paths=paths, manifest=manifest, n_tokens=len(ids), started=started
        ),
        "chunk_losses": chunk_losses,
        "mean_loss": mean_loss,
        "skipped_updates": skipped_updates,
        "parent": {
            "sha256": old_meta["checksum"],
            "path": str(Path(parent).absolute()),
            "created": old_meta.get("created"),
            "depth": int((old_meta.get("parent") or {}).get("depth", 0)) + 1,
        },
        "update": {
            "lr": update_lr,
            "read": [f.path for f in fresh],
            "carried": len(collection.files) - len(fresh),
            "removed": sorted(p for p in old_entries if p not in current),
        },
    }
    return _write(out, metadata, fast, tail, files=collection.files, force=force, waypoints=waypoints)


def _read_ids(
    model, ids: list[int], lr: float, chunk: int, *, device: str, on_progress, manifest: list[dict], fast=None
):
    """Read token ids (`tokenize`'s, laid out as `manifest` says) into the fast weights,
    starting from `fast` (else W_0), reporting progress per chunk as (tokens done, tokens
    total, chunk loss) and keeping the states `waypoints.chunks` asks for."""
    import torch

    from ttt_read.read import waypoints
    from ttt_read.read.reading import ReaderState, read

    def report(index: int, n_chunks: int, loss) -> None:
        if on_progress is not None:
            on_progress(min((index + 1) * chunk, len(ids) - 1), len(ids) - 1, float(loss[0]))

    state = ReaderState.fresh(model, 1)
    if fast is not None:
        state.fast = [w.unsqueeze(0) for w in fast]
    tokens = torch.tensor(ids, device=device).view(1, -1)
    ends, at = [], 1  # after the end-of-text marker `tokenize` starts with
    for entry in manifest:
        at += entry.get("tokens") or 0
        ends.append((at - 2) // chunk)  # the chunk whose update learns the file's last token
    k = waypoints.states(sum(w.numel() for w in state.fast))
    keep = frozenset(waypoints.chunks(ends, -(-(len(ids) - 1) // chunk), k))
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
        return read(model, tokens, lr=lr, chunk=chunk, state=state, on_chunk=report, keep=keep)


def _unbatched(kept: dict) -> dict:
    return {index: [w[0] for w in state] for index, state in kept.items()}


def _reading_metadata(info, cfg, lr, chunk, device, *, paths, manifest, n_tokens: int, started: float) -> dict:
    """What every snapshot records about how it was read."""
    return {
        "base": checkpoint.recorded(info),
        "tokenizer_sha256": info.tokenizer_sha256(),
        "reading": {"lr": lr, "chunk": chunk, "window": cfg.window, "device": device},
        "tool_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sources": [str(p) for p in paths],
        "manifest": manifest,
        "tokens": n_tokens,
        "read_seconds": round(time.perf_counter() - started, 3),
    }


def _write(out: Path, metadata: dict, fast, tail: list[int], *, files, force: bool, waypoints: dict) -> dict:
    """Attach the notepad of `files`, write the snapshot atomically, return its metadata."""
    from ttt_read.notepad.store import Notepad

    pad = Notepad.build(files)
    pad_bytes = pad.to_bytes()
    metadata["notepad"] = pad.stats(pad_bytes)
    snapshot.write_atomic(out, snapshot.encode(metadata, fast, tail, notepad=pad_bytes, waypoints=waypoints), force)
    return snapshot.read_metadata(out)
