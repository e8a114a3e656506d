"""Where ttt-read keeps its files: config, named snapshots, user models, caches.

One override, `TTT_READ_HOME`, moves all of them under a single directory (tests, CI,
portable installs). Nothing is ever written inside a directory being read.
"""

from __future__ import annotations

import os
from pathlib import Path


def _home() -> Path | None:
    home = os.environ.get("TTT_READ_HOME")
    return Path(os.path.expanduser(home)) if home else None  # `~nobody` stays as given (Path.expanduser raises)


def data_dir() -> Path:
    if home := _home():
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir("ttt-read"))


def config_dir() -> Path:
    if home := _home():
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir("ttt-read"))


def cache_dir() -> Path:
    if home := _home():
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("ttt-read"))
