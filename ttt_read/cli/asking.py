"""Commands that talk to a snapshot's memory: `continue` a text, `ask` a question."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ttt_read.console import validation
from ttt_read.console.options import SNAPSHOT_ARG, DeviceOpt, JsonOpt, ModelOpt, NoMemoryOpt
from ttt_read.console.output import emit_json
from ttt_read.text import tokenizer as tok

commands = typer.Typer()


@commands.command(name="continue")
def continue_(
    mem: Annotated[Path, typer.Argument(help="Snapshot to continue from (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    prompt: Annotated[str, typer.Argument(help="Text to continue.", callback=validation.text)],
    max_tokens: Annotated[
        int, typer.Option("-n", "--max-tokens", min=0, max=validation.MAX_TOKENS, help="Tokens to generate.")
    ] = 200,
    temperature: Annotated[
        float,
        typer.Option(
            min=0, max=100, callback=validation.greedy_or_at_least(0.01), help="0 for greedy, else 0.01 to 100."
        ),
    ] = 0.8,
    top_p: Annotated[
        float, typer.Option(min=0, max=1, callback=validation.above(0), help="Nucleus sampling mass, above 0.")
    ] = 0.95,
    seed: Annotated[int, typer.Option(min=0, max=validation.MAX_SEED, help="Sampling seed.")] = 0,
    no_learn: Annotated[bool, typer.Option("--no-learn", help="Freeze the memory while generating.")] = False,
    no_notepad: Annotated[
        bool, typer.Option("--no-notepad", help="Predict from the model alone, not from exact matches in the notepad.")
    ] = False,
    no_memory: NoMemoryOpt = False,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Continue PROMPT from the memory in MEM, streaming to stdout."""
    from ttt_read.memory.opened import open_memory
    from ttt_read.predict.generate import continuation
    from ttt_read.render.continuation import stream

    memory = open_memory(mem, model, device)
    options = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "seed": seed}
    session, head, pieces = continuation(
        memory, prompt, options, learn=not no_learn, use_notepad=not no_notepad, use_memory=not no_memory
    )
    if as_json:
        text = head + "".join(pieces)
        emit_json({"prompt": prompt, "text": text[len(prompt) :], "updates": session.updates})
    else:
        stream(head, pieces)


@commands.command()
def ask(
    mem: Annotated[Path, typer.Argument(help="Snapshot to ask (a .mem file or a NAME).", **SNAPSHOT_ARG)],
    question: Annotated[
        Optional[str],
        typer.Argument(
            help="The question; without one, questions are read at a prompt (Ctrl-D leaves).", callback=validation.text
        ),
    ] = None,
    free: Annotated[
        bool, typer.Option("--free", help="Let the model write its answer instead of quoting a span of the sources.")
    ] = False,
    max_tokens: Annotated[
        int,
        typer.Option("-n", "--max-tokens", min=1, max=validation.MAX_TOKENS, help="Longest --free answer, in tokens."),
    ] = 64,
    passages: Annotated[
        int,
        typer.Option(
            "-k", "--passages", min=0, max=validation.MAX_PASSAGES, help="Notepad passages to put before the question."
        ),
    ] = tok.PASSAGES,
    no_notepad: Annotated[
        bool, typer.Option("--no-notepad", help="Do not look anything up in the notepad (implies --free).")
    ] = False,
    no_memory: NoMemoryOpt = False,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
):
    """Answer QUESTION from MEM with a span quoted from its sources (path:line:col), or "not found in NAME"."""
    from ttt_read.ask.answerer import answerer
    from ttt_read.memory.opened import open_memory
    from ttt_read.render.answers import answer_printer, prompt_loop

    memory = open_memory(mem, model, device)
    reply = answerer(
        memory, free=free, use_notepad=not no_notepad, use_memory=not no_memory, max_tokens=max_tokens, k=passages
    )
    show = answer_printer(mem.stem, as_json=as_json)
    if question is None:
        prompt_loop(lambda text: show(text, reply(text)))
    else:
        show(question, reply(question))
