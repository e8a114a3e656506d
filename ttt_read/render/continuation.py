"""How `continue` writes its text: the prompt, then each piece the moment it is generated."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def stream(head: str, pieces: Iterable[str]) -> None:
    sys.stdout.write(head)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
