"""Rendering evaluation results: a Rich table on stdout, and an optional PNG plot."""

from __future__ import annotations

from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError


def eval_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    settings = result["settings"]
    labels = [b["bucket"] for b in next(iter(settings.values()))["buckets"]]
    table = Table(
        title=f"mean loss (nats/token) by position, {result['documents']} documents, {result['tokens']:,} tokens"
    )
    table.add_column("setting")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column(">8K", justify="right")
    table.add_column("bits/byte", justify="right")
    table.add_column("× xz", justify="right")
    xz = result["xz_bits_per_byte"]
    for name, row in settings.items():
        beyond = row["loss_beyond_8k"]
        cells = [f"{b['loss']:.3f}" for b in row["buckets"]]
        bpb = row["bits_per_byte"]
        table.add_row(name, *cells, "-" if beyond is None else f"{beyond:.3f}", f"{bpb:.3f}", f"{bpb / xz:.2f}")
    table.add_row("xz -9e", *[""] * len(labels), "", f"{xz:.3f}", "1.00", style="dim")
    table.caption = f"bits/byte over the {result['bytes']:,} bytes the scored tokens stand for"
    console = Console()
    console.print(table)
    if len(result["per_kind"]) > 1:
        for kind, row in result["per_kind"].items():
            xz_kind = row["xz_bits_per_byte"]
            settings_bpb = ", ".join(
                f"{name} {bpb:.3f} ({bpb / xz_kind:.2f}× xz)" for name, bpb in row["bits_per_byte"].items()
            )
            console.print(
                f"{kind} ({row['documents']} documents, {row['bytes']:,} bytes): xz -9e "
                f"{row['xz_bits_per_byte']:.3f}, {settings_bpb} bits/byte"
            )
    for pair in result["paired"]:
        parts = [("bits/byte", pair["bits_per_byte"]), ("nats/token beyond 8K", pair["loss_beyond_8k"])]
        shown = "; ".join(f"{unit} {_interval(stats)}" for unit, stats in parts if stats is not None)
        console.print(f"{pair['b']} − {pair['a']}, paired by document: {shown}")


def _interval(stats: dict) -> str:
    low_high = "" if stats["ci95"] is None else f" [{stats['ci95'][0]:+.3f}, {stats['ci95'][1]:+.3f}]"
    return f"{stats['mean']:+.3f}{low_high} ({stats['documents']} documents)"


def plot_eval(result: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TTTReadError(
            f"{path}: plotting needs matplotlib (pip install 'ttt-read[plot]')", ExitCode.USAGE
        ) from None
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


def bench_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    def mib(row: dict, key: str) -> float | None:
        return None if row.get(key) is None else row[key] / 2**20

    table = Table(title=f"reading speed on {result['device']} (kernels: {result['kernels']})")
    for name in (
        "tokens",
        "reading tok/s",
        "peak MiB",
        "full attn tok/s",
        "full attn MiB",
        "x full attn",
        "eager tok/s",
        "x eager",
        "x shortest",
    ):
        table.add_column(name, justify="right")
    for row in result["rows"]:
        table.add_row(
            f"{row['tokens']:,}",
            fmt(row["reading_tok_s"], ",.0f"),
            fmt(mib(row, "reading_peak_bytes"), ",.0f"),
            fmt(row.get("full_attention_tok_s"), ",.0f"),
            fmt(mib(row, "full_attention_peak_bytes"), ",.0f"),
            fmt(row.get("reading_vs_full_attention"), ".2f"),
            fmt(row.get("eager_reading_tok_s"), ",.0f"),
            fmt(row.get("reading_vs_eager"), ".2f"),
            fmt(row["reading_vs_shortest"], ".2f"),
        )
    console = Console()
    console.print(table)
    console.print(
        f"decode: {result['decode_ms_per_token']:.1f} ms/token ({result['decode_cpu_ms_per_token']:.1f} CPU-ms/token)"
    )
    if "decode_notepad_ms_per_token" in result:
        console.print(
            f"decode with a {result['notepad_tokens']:,}-token notepad: {result['decode_notepad_ms_per_token']:.1f}"
            f" ms/token ({result['decode_notepad_cpu_ms_per_token']:.1f} CPU-ms/token)"
        )
    cpu = ", ".join(f"{row['tokens']:,} tokens {row['reading_tok_per_cpu_s']:,.0f}" for row in result["rows"])
    console.print(f"reading per CPU-second (all threads): {cpu} tokens")
