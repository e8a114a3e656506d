"""Rendering evaluation results: a Rich table on stdout, and an optional PNG plot."""

from __future__ import annotations

from pathlib import Path

from ttt_read.errors import ExitCode, TTTReadError


def eval_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    settings = result["settings"]
    labels = [b["bucket"] for b in next(iter(settings.values()))["buckets"]]
    table = Table(title=f"mean loss (nats/token) by position, {result['documents']} documents, {result['tokens']:,} tokens")
    table.add_column("setting")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column(">8K", justify="right")
    for name, row in settings.items():
        beyond = row["loss_beyond_8k"]
        table.add_row(name, *[f"{b['loss']:.3f}" for b in row["buckets"]], "-" if beyond is None else f"{beyond:.3f}")
    Console().print(table)


def plot_eval(result: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TTTReadError(f"{path}: plotting needs matplotlib (pip install 'ttt-read[plot]')", ExitCode.USAGE) from None
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, row in result["settings"].items():
        mids = [(b["start"] + b["end"]) / 2 for b in row["buckets"]]
        ax.plot(mids, [b["loss"] for b in row["buckets"]], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("token position")
    ax.set_ylabel("loss (nats/token)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
