"""Measure `ingest --update` and `diff`'s knowledge ranking on a git repository's history.

For consecutive commits that change a directory (by default ttt_read/ of this repository):

    history  full reads of the old and new version and `--update` from the old one; how well
             `diff OLD NEW --all` separates changed from unchanged files (AUC, with NEW the
             full re-read and the update), the update's time against the full re-read, and
             both memories' loss per token on the new version.
    chain    a full read some commits ago, then `--update` through each later commit; after
             each update, its loss per token on that version against a full re-read.

Run from the repository root, on the CPU with one torch thread so that CPU time counts work:

    python tools/measure_update.py history --pairs 6
    python tools/measure_update.py history --revs A..B,C..D
    python tools/measure_update.py chain --depth 6
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from ttt_read.diff import compare as diff
from ttt_read.diff.knowledge import auc
from ttt_read.read import ingest as engine

REPO = Path(__file__).resolve().parents[1]
RANKINGS = {"score": lambda f: f["score"], "new_gain": lambda f: f["new_text"]["gain"]}


def git_tree(repo: Path, subdir: str, rev: str, dest: Path) -> Path:
    """`subdir` of `repo` at `rev`, exported with git archive."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, subdir], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / subdir


def commits_touching(repo: Path, subdir: str, limit: int, *log_filters: str) -> list[str]:
    """The latest `limit` commits that change `subdir` (and pass `log_filters`), newest first."""
    return subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%h", f"-n{limit}", *log_filters, "--", subdir],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()


def timed(fn):
    """(fn's result, wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def history(repo: Path, subdir: str, pairs: list[tuple[str, str]], work: Path) -> None:
    pooled = {}  # "ranking, NEW = kind" -> per commit pair: (changed files' values, unchanged files' values)
    edits = []  # per changed file: the full re-read's gain on its added lines (None without any)
    for i, (old_rev, new_rev) in enumerate(pairs):
        old_tree, new_tree = (
            git_tree(repo, subdir, old_rev, work / f"{i}-old"),
            git_tree(repo, subdir, new_rev, work / f"{i}-new"),
        )
        old, full, upd = work / f"{i}-old.mem", work / f"{i}-full.mem", work / f"{i}-update.mem"
        engine.ingest([old_tree], old, device="cpu")  # also warms the process up before the timed runs
        full_meta, full_wall, full_cpu = timed(functools.partial(engine.ingest, [new_tree], full, device="cpu"))
        upd_meta, upd_wall, upd_cpu = timed(functools.partial(engine.update, old, [new_tree], upd, device="cpu"))
        changed_share = (upd_meta["tokens"] - 1) / (full_meta["tokens"] - 1)
        aucs = {}
        for kind, new in (("full re-read", full), ("update", upd)):
            knowledge = diff.compare(old, new, device="cpu", all_files=True, lines=0)["knowledge"]
            changed = [f for f in knowledge["files"] if f["status"] == "changed"]
            unchanged = [f for f in knowledge["files"] if f["status"] == "unchanged"]
            for key, value in RANKINGS.items():
                pooled.setdefault(f"{key}, NEW = {kind}", []).append(
                    ([value(f) for f in changed], [value(f) for f in unchanged])
                )
            aucs[kind] = ", ".join(f"by {key} {knowledge['separation_auc'][key]}" for key in RANKINGS)
            if kind == "full re-read":
                edits += [f["changed_lines"]["added"]["gain"] for f in changed if f["changed_lines"]]
                stale = knowledge["new_version"]["loss_old"]  # OLD, not updated, on the new version
        quality = diff.compare(full, upd, device="cpu", all_files=True, lines=0)["knowledge"]["new_version"]
        print(
            f"\n{old_rev}..{new_rev}: {len(changed)} changed, {len(unchanged)} unchanged files; "
            + "; ".join(f"AUC with NEW = {kind}: {text}" for kind, text in aucs.items())
            + "\n"
            f"  update read {upd_meta['tokens']:,} of {full_meta['tokens']:,} tokens ({100 * changed_share:.1f}%): "
            f"wall {upd_wall:.1f}s vs {full_wall:.1f}s (ratio {upd_wall / full_wall:.3f}), "
            f"cpu {upd_cpu:.1f}s vs {full_cpu:.1f}s (ratio {upd_cpu / full_cpu:.3f}), "
            f"reading {upd_meta['read_seconds']:.1f}s vs {full_meta['read_seconds']:.1f}s\n"
            f"  loss on the new version ({quality['tokens']:,} tokens): full re-read {quality['loss_old']:.4f}, "
            f"update {quality['loss_new']:.4f}, gap {quality['loss_new'] - quality['loss_old']:+.4f} nats/token "
            f"(OLD not updated: {stale:.4f})"
        )
    known = [g for g in edits if g is not None]
    print(
        f"changed files whose added lines the full re-read knows better than OLD: {sum(g > 0 for g in known)} of "
        f"{len(known)}"
    )
    for key, per_pair in pooled.items():
        counted = [(p, n) for p, n in per_pair if p and n]
        total = sum(len(p) * len(n) for p, n in counted)
        if total:
            wins = sum(auc(p, n) * len(p) * len(n) for p, n in counted)
            print(
                f"pooled AUC by {key}: {wins / total:.4f} over {total} (changed, unchanged) file pairs in "
                f"{len(counted)} commit pairs"
            )


def chain(repo: Path, subdir: str, depth: int, work: Path) -> None:
    revs = commits_touching(repo, subdir, depth + 1)[::-1]
    memory = work / "0.mem"
    engine.ingest([git_tree(repo, subdir, revs[0], work / "0")], memory, device="cpu")
    for step, rev in enumerate(revs[1:], 1):
        tree = git_tree(repo, subdir, rev, work / str(step))
        updated, full = work / f"{step}.mem", work / f"{step}-full.mem"
        metadata = engine.update(memory, [tree], updated, device="cpu")
        engine.ingest([tree], full, device="cpu")
        quality = diff.compare(full, updated, device="cpu", all_files=True, lines=0)["knowledge"]["new_version"]
        print(
            f"{rev}: update {metadata['parent']['depth']} in a row read {metadata['tokens'] - 1:,} of "
            f"{quality['tokens']:,} tokens; loss on this version: full re-read {quality['loss_old']:.4f}, "
            f"updates {quality['loss_new']:.4f}, gap {quality['loss_new'] - quality['loss_old']:+.4f} nats/token"
        )
        memory = updated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="git repository (default: this one)")
    parser.add_argument("--subdir", default="ttt_read", help="directory whose versions are read (default: ttt_read)")
    commands = parser.add_subparsers(dest="command", required=True)
    hist = commands.add_parser("history", help="full reads, updates and diff rankings of consecutive commits")
    hist.add_argument("--pairs", type=int, default=6, help="the latest N commits that modify files in SUBDIR")
    hist.add_argument("--revs", help="comma-separated OLD..NEW pairs instead")
    chained = commands.add_parser("chain", help="updates in a row against full re-reads")
    chained.add_argument("--depth", type=int, default=6, help="updates in a row")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="measure-update-") as tmp:
        if args.command == "history":
            pairs = (
                [tuple(pair.split("..")) for pair in args.revs.split(",")]
                if args.revs
                else [(f"{c}^", c) for c in commits_touching(args.repo, args.subdir, args.pairs, "--diff-filter=M")]
            )
            history(args.repo, args.subdir, pairs, Path(tmp))
        else:
            chain(args.repo, args.subdir, args.depth, Path(tmp))


if __name__ == "__main__":
    main()
