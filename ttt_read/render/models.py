"""How `models` lists the base models, and what `models import` says it registered."""

from __future__ import annotations


def print_models(listing: dict) -> None:
    """A row per checkpoint at hand, then one per importable model with the command importing it."""
    for e in listing["models"]:
        print(f"{e['name']:<16} {e['kind']:<8} {e['parameters_mib']:>6} MiB  {e['path']}")
    for m in listing["huggingface_cache"]:
        print(f"{m['repo']:<16} {'cached':<8} {m['architecture']:>10}  (ttt-read models import {m['repo']})")


def print_imported(imported: dict) -> None:
    print(
        f"imported {imported['architecture']} from {imported['source']} as {imported['name']!r} (fingerprint "
        f"{imported['fingerprint'][:12]}); use --model {imported['name']}"
    )
