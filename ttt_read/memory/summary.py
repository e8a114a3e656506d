"""What `info` says about a snapshot, from its header alone: no model is loaded, so `info`
stays instant (`verify` also reads every byte, for the checksum)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from ttt_read.read import snapshot


@dataclasses.dataclass(frozen=True)
class Summary:
    """A snapshot's checked metadata, and what follows from it and from its file."""

    path: Path
    metadata: dict
    verified: bool  # the checksum was checked over every byte

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def to_dict(self) -> dict:
        return {"path": str(self.path), "bytes": self.size, "verified": self.verified, **self.metadata}

    @property
    def files_read(self) -> int:
        return sum(1 for e in self.metadata["manifest"] if "skipped" not in e)

    @property
    def files_skipped(self) -> int:
        return len(self.metadata["manifest"]) - self.files_read

    @functools.cached_property
    def parts(self) -> dict[str, int]:
        """Bytes of the weights, the waypoints and the notepad (`snapshot.part_sizes`)."""
        return snapshot.part_sizes(self.path)

    @property
    def waypoints(self) -> int:
        return len(self.metadata.get("waypoints", []))

    @property
    def notepad_text(self) -> dict | None:
        """The notepad's text size and its index's share of it; None when not recorded."""
        pad = self.metadata.get("notepad")
        return pad if pad and {"text_bytes", "overhead_ratio"} <= pad.keys() else None


def summarize(path: Path, verify: bool = False) -> Summary:
    """The snapshot at `path`, its metadata read and checked for the fields `info` shows."""
    metadata = snapshot.read_metadata(path, verify=verify)
    snapshot.require_fields(metadata, path)
    return Summary(path, metadata, verify)
