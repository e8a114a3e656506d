"""Bringing a Hugging Face model: tiny random Llama, Qwen2 and Qwen3 checkpoints made with
`transformers` (each with a byte-level BPE made with `tokenizers`), imported as a user does.

They check that the one model implementation computes what `transformers` computes for each
family, that every command runs on an imported model, and that what cannot be imported, or
no longer matches its import, is refused with the model exit code.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, assert_ok, run_cli

from ttt_read.core.errors import ExitCode, TTTReadError

transformers = pytest.importorskip("transformers")

WINDOW, CHUNK = 128, 16
SHAPE = dict(
    vocab_size=320,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
)
FAMILIES = {  # what each family adds: Llama ties its head, Qwen2 has q/k/v biases, Qwen3 QK-norm and a wider head
    "llama": ("LlamaConfig", "LlamaForCausalLM", {"tie_word_embeddings": True}),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {"tie_word_embeddings": False}),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {"tie_word_embeddings": False, "head_dim": 32}),
}
TEXT = "The reading loop learns each chunk of text into the fast weights, then answers from them."
PROMPT = "s"  # one byte, one token whatever the tokenizer merged: no unfinished word to give back


def cli(home: Path, *args) -> subprocess.CompletedProcess:
    """`ttt-read ARGS...` in this process (the CLI's own entry point, exit code and output
    captured): a fresh interpreter per command would cost most of this file's time."""
    from ttt_read.cli import main

    out, err, saved = io.StringIO(), io.StringIO(), os.environ.get("TTT_READ_HOME")
    os.environ["TTT_READ_HOME"] = str(home)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
            main([str(a) for a in args])
    finally:
        if saved is None:
            os.environ.pop("TTT_READ_HOME")
        else:
            os.environ["TTT_READ_HOME"] = saved
    return subprocess.CompletedProcess(args, exited.value.code, out.getvalue(), err.getvalue())


def train_tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=SHAPE["vocab_size"] - 20,  # the embedding has spare rows, as Qwen's do
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(
        [(CORPUS / name).read_text() for name in ("errors.py", "encoders.py", "message.py")], trainer
    )
    tokenizer.save(str(out / "tokenizer.json"))


def make_checkpoint(family: str, out: Path, dtype: str = "float32") -> Path:
    """A random checkpoint of `family`, every weight (norm gains and biases included) away
    from its initial value so that a parameter mapped to the wrong place shows."""
    import torch

    config_class, model_class, extra = FAMILIES[family]
    torch.manual_seed(len(family))
    model = getattr(transformers, model_class)(
        getattr(transformers, config_class)(**SHAPE, **extra, eos_token_id=0, bos_token_id=0)
    )
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    out.mkdir(parents=True)
    model.to(getattr(torch, dtype)).save_pretrained(out)
    train_tokenizer(out)
    return out


@pytest.fixture(scope="module")
def hf_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {family: make_checkpoint(family, root / family) for family in FAMILIES}


@pytest.fixture(scope="module")
def imported(hf_dirs, ttt_home) -> dict[str, str]:
    """Each family imported by the CLI (the first as a separate process, as a user runs it);
    its name for --model."""
    for family, path in hf_dirs.items():
        run = run_cli if family == "llama" else cli
        result = run(ttt_home, "models", "import", path, "--window", WINDOW, "--chunk", CHUNK, "--json")
        assert_ok(result)
        assert json.loads(result.stdout)["name"] == family
    return {family: family for family in hf_dirs}


@pytest.fixture
def home_env(ttt_home, monkeypatch):
    monkeypatch.setenv("TTT_READ_HOME", str(ttt_home))
    monkeypatch.delenv("TTT_READ_MODEL", raising=False)


def loaded(name: str):
    from ttt_read.read import checkpoint

    return checkpoint.load(checkpoint.resolve(name))


@pytest.mark.parametrize("family", FAMILIES)
def test_logits_equal_transformers(family, hf_dirs, imported, home_env):
    import torch

    from ttt_read.read.reading import ReaderState, forward_losses

    model, tokenizer = loaded(imported[family])
    reference = getattr(transformers, FAMILIES[family][1]).from_pretrained(hf_dirs[family], dtype=torch.float32).eval()
    ids = torch.tensor([tokenizer.encode(TEXT).ids])
    assert CHUNK < ids.shape[1] < WINDOW
    with torch.no_grad():
        want = reference(ids).logits
        state = ReaderState.fresh(model, 1)
        x, _ = model.run_prefix(ids.view(1, 1, -1), state.prefix_caches, ids.shape[1])
        h, _ = model.run_suffix(x, state.suffix_caches, ids.shape[1], state.fast)
        got = model.logits(h[:, 0])
        # the reading path: chunk after chunk through the KV caches
        chunked = forward_losses(model, ids)
    want_losses = torch.nn.functional.cross_entropy(want[0, :-1], ids[0, 1:], reduction="none")
    assert (got - want).abs().max() < 1e-4
    assert (chunked[0] - want_losses).abs().max() < 1e-4


def test_bf16_sharded_checkpoint_imports_and_matches(tmp_path, ttt_home, home_env):
    """bf16 weights split over shards with an index load as the same fp32 numbers."""
    import torch
    from safetensors.torch import load_file, save_file

    from ttt_read.read.reading import ReaderState

    source = make_checkpoint("qwen2", tmp_path / "sharded", dtype="bfloat16")
    tensors = load_file(source / "model.safetensors")
    (source / "model.safetensors").unlink()
    names = sorted(tensors)
    halves = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
    for file, keys in halves.items():
        save_file({k: tensors[k] for k in keys}, str(source / file), metadata={"format": "pt"})
    index = {"metadata": {}, "weight_map": {k: file for file, keys in halves.items() for k in keys}}
    (source / "model.safetensors.index.json").write_text(json.dumps(index))
    assert_ok(cli(ttt_home, "models", "import", source, "--name", "qwen2-bf16", "--window", WINDOW))
    model, tokenizer = loaded("qwen2-bf16")
    reference = transformers.Qwen2ForCausalLM.from_pretrained(source, dtype=torch.float32).eval()
    ids = torch.tensor([tokenizer.encode(TEXT).ids])
    with torch.no_grad():
        state = ReaderState.fresh(model, 1)
        x, _ = model.run_prefix(ids.view(1, 1, -1), state.prefix_caches, ids.shape[1])
        h, _ = model.run_suffix(x, state.suffix_caches, ids.shape[1], state.fast)
        assert (model.logits(h[:, 0]) - reference(ids).logits).abs().max() < 1e-4


@pytest.mark.parametrize("family", FAMILIES)
def test_ingest_ask_and_eval_run_on_each_family(family, imported, ttt_home, tmp_path):
    mem = tmp_path / f"{family}.mem"
    assert_ok(
        cli(ttt_home, "ingest", CORPUS / "errors.py", CORPUS / "encoders.py", "-o", mem, "--model", imported[family])
    )
    answer = cli(ttt_home, "ask", mem, "Which error is raised when a message is malformed?", "-n", "4", "--json")
    assert_ok(answer)
    assert json.loads(answer.stdout)["sources"], "the notepad found no passage"
    evaluated = cli(ttt_home, "eval", CORPUS / "errors.py", "--model", imported[family], "--json")
    assert_ok(evaluated)
    assert f"{family} reading on" in evaluated.stdout


def reference_continuation(hf_dir: Path, context: list[int], n: int) -> list[int]:
    """`transformers`' greedy tokens after CONTEXT, up to the end-of-text token."""
    import torch

    reference = transformers.LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    ids, out = list(context), []
    with torch.no_grad():
        for _ in range(n):
            token = int(reference(torch.tensor([ids])).logits[0, -1].argmax())
            if token == reference.config.eos_token_id:
                break
            ids.append(token)
            out.append(token)
    return out


def test_continue_diff_info_and_bench_run_on_an_imported_model(imported, hf_dirs, ttt_home, tmp_path, monkeypatch):
    from tokenizers import Tokenizer

    from ttt_read.evaluate import bench as bench_module
    from ttt_read.predict import generate as generation
    from ttt_read.read import snapshot

    old, new, frozen = tmp_path / "old.mem", tmp_path / "new.mem", tmp_path / "frozen.mem"
    assert_ok(cli(ttt_home, "ingest", CORPUS / "errors.py", "-o", old, "--model", "llama"))
    assert_ok(cli(ttt_home, "ingest", CORPUS / "errors.py", CORPUS / "encoders.py", "-o", new, "--model", "llama"))
    continued = cli(ttt_home, "continue", new, "class MessageError", "-n", "4", "--json")
    assert_ok(continued)
    assert json.loads(continued.stdout)["prompt"] == "class MessageError"
    # A short text read at rate 0 (and kept without a notepad) leaves the imported weights alone,
    # and all of it fits in the window: greedy `continue` generates what transformers does.
    (tmp_path / "short.py").write_text("class MessageError(Exception):\n    pass\n")
    assert_ok(cli(ttt_home, "ingest", tmp_path / "short.py", "-o", frozen, "--model", "llama", "--lr", "0"))
    snap = snapshot.load(frozen)
    metadata = {k: v for k, v in snap.metadata.items() if k not in ("checksum", "notepad")}
    frozen.write_bytes(snapshot.encode(metadata, snap.fast, snap.tail_tokens))
    tokenizer = Tokenizer.from_file(str(hf_dirs["llama"] / "tokenizer.json"))
    prompt = tokenizer.encode(PROMPT, add_special_tokens=False).ids
    generated, generate = [], generation.generate
    monkeypatch.setattr(generation, "generate", lambda *a, **kw: (generated.append(t) or t for t in generate(*a, **kw)))
    greedy = cli(ttt_home, "continue", frozen, PROMPT, "-n", "4", "--temperature", "0", "--no-learn", "--json")
    assert_ok(greedy)
    context = snap.tail_tokens + prompt
    assert len(prompt) == 1 and len(context) + 4 < WINDOW
    assert generated and generated == reference_continuation(hf_dirs["llama"], context, 4)
    assert tokenizer.decode(generated).startswith(json.loads(greedy.stdout)["text"])  # a cut character held back
    difference = cli(ttt_home, "diff", old, new, "--json")
    assert difference.returncode == ExitCode.DIFFERENT, difference.stderr
    assert "encoders.py" in difference.stdout
    info = cli(ttt_home, "info", new)
    assert_ok(info)
    assert "weights" in info.stdout and "base model  llama" in info.stdout
    benched, run = [], bench_module.run
    monkeypatch.setattr(
        bench_module, "run", lambda model, *args, **kw: benched.append(model.cfg) or run(model, *args, **kw)
    )
    bench = cli(
        ttt_home, "bench", "--model", "llama", "--lengths", "64", "--decode-tokens", "2", "--no-baselines", "--json"
    )
    assert_ok(bench)
    [cfg] = benched  # the imported model was timed, at its own shape
    assert (cfg.d_model, cfg.n_layers, cfg.window) == (SHAPE["hidden_size"], SHAPE["num_hidden_layers"], WINDOW)
    result = json.loads(bench.stdout)
    [row] = result["rows"]
    assert row["tokens"] == 64 and row["reading_tok_s"] > 0 and "full_attention_tok_s" not in row
    assert result["decode_ms_per_token"] > 0 and result["decode_cpu_ms_per_token"] >= 0


def test_snapshot_of_one_base_is_refused_by_another(imported, ttt_home, tmp_path):
    mem = tmp_path / "llama.mem"
    assert_ok(cli(ttt_home, "ingest", CORPUS / "errors.py", "-o", mem, "--model", "llama"))
    result = cli(ttt_home, "ask", mem, "What is it?", "--model", "qwen2")
    assert result.returncode == ExitCode.SNAPSHOT
    assert "made with base checkpoint 'llama'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"architectures": ["MistralForCausalLM"]}, "architecture"),
        ({"rope_scaling": {"rope_type": "llama3", "factor": 32.0}}, "RoPE scaling 'llama3'"),
        ({"num_local_experts": 8}, "mixture-of-experts"),
        ({"use_sliding_window": True}, "sliding-window"),
        ({"layer_types": ["sliding_attention", "full_attention"]}, "sliding-window"),
        ({"hidden_act": "gelu"}, "activation"),
    ],
)
def test_unsupported_configs_are_refused_with_a_reason(change, reason, hf_dirs):
    from ttt_read.read.hf_import import translate_config

    config = {**json.loads((hf_dirs["llama"] / "config.json").read_text()), **change}
    with pytest.raises(TTTReadError, match=reason) as raised:
        translate_config(config, hf_dirs["llama"])
    assert raised.value.code == ExitCode.MODEL


@pytest.mark.parametrize("trained, window", [(32768, 4096), (2048, 1536), (256, 128)])
def test_default_window_stays_within_the_trained_positions(trained, window, hf_dirs):
    from ttt_read.read.hf_import import translate_config

    config = {**json.loads((hf_dirs["llama"] / "config.json").read_text()), "max_position_embeddings": trained}
    assert translate_config(config, hf_dirs["llama"]).window == window


def test_cli_refusal_is_one_line_with_the_model_exit_code(hf_dirs, ttt_home, tmp_path):
    source = tmp_path / "scaled"
    source.mkdir()
    for file in hf_dirs["llama"].iterdir():
        (source / file.name).symlink_to(file)
    config = json.loads((hf_dirs["llama"] / "config.json").read_text())
    (source / "config.json").unlink()
    (source / "config.json").write_text(json.dumps({**config, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}))
    result = run_cli(ttt_home, "models", "import", source)
    assert result.returncode == ExitCode.MODEL
    assert result.stderr.strip() == f"ttt-read: error: {source}: cannot import: RoPE scaling 'yarn' is not implemented"
    assert not (ttt_home / "data" / "models" / "scaled").exists()


def test_weights_changed_after_import_are_refused(hf_dirs, ttt_home, tmp_path, home_env):
    import shutil

    source = tmp_path / "moving"
    shutil.copytree(hf_dirs["qwen3"], source)
    assert_ok(cli(ttt_home, "models", "import", source, "--window", WINDOW))
    loaded("moving")
    with open(source / "model.safetensors", "ab") as f:
        f.write(b"\0")
    with pytest.raises(TTTReadError, match="changed since it was imported") as raised:
        loaded("moving")
    assert raised.value.code == ExitCode.MODEL


def test_a_broken_import_record_is_a_model_error(hf_dirs, tmp_path):
    home = tmp_path / "home"  # its own: a broken model would fail every other `models` run
    assert_ok(cli(home, "models", "import", hf_dirs["llama"], "--name", "broken"))
    (home / "data" / "models" / "broken" / "import.json").write_text("{")
    result = cli(home, "models")
    assert result.returncode == ExitCode.MODEL
    assert "broken import record" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_models_lists_and_imports_from_the_huggingface_cache(hf_dirs, ttt_home, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--tiny-org--tiny-llama" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    for file in hf_dirs["llama"].iterdir():
        (snapshot / file.name).symlink_to(file)  # the cache's snapshots link to blobs too
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abc")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    listed = cli(ttt_home, "models", "--json")
    assert_ok(listed)
    cached = {m["repo"]: m for m in json.loads(listed.stdout)["huggingface_cache"]}
    assert cached["tiny-org/tiny-llama"]["architecture"] == "LlamaForCausalLM"
    assert_ok(cli(ttt_home, "models", "import", "tiny-org/tiny-llama", "--window", WINDOW))
    models = {m["name"]: m for m in json.loads(cli(ttt_home, "models", "--json").stdout)["models"]}
    assert models["tiny-llama"]["kind"] == "imported"
    assert models["tiny-llama"]["path"] == str(snapshot)
    assert sorted(p.name for p in (ttt_home / "data" / "models" / "tiny-llama").iterdir()) == [
        "config.json",
        "import.json",
    ]


def test_prime_fast_weights_start_at_the_original_model(hf_dirs, ttt_home, home_env):
    """Zero-initialised prime MLPs add nothing until reading changes them."""
    import torch

    assert_ok(
        cli(
            ttt_home,
            "models",
            "import",
            hf_dirs["llama"],
            "--name",
            "llama-prime",
            "--fast-weights",
            "prime",
            "--window",
            WINDOW,
        )
    )
    model, tokenizer = loaded("llama-prime")
    reference = transformers.LlamaForCausalLM.from_pretrained(hf_dirs["llama"], dtype=torch.float32).eval()
    ids = torch.tensor([tokenizer.encode(TEXT).ids])
    with torch.no_grad():
        got = model.logits(model.full_attention_hidden(ids))
        assert (got - reference(ids).logits).abs().max() < 1e-4
    assert model.blocks[-1].prime is not None and model.blocks[0].prime is None


def test_foreign_tokenizer_prompts_are_plain_text(imported, home_env):
    from ttt_read.text import tokenizer as tok

    _, tokenizer = loaded("llama")
    assert isinstance(tokenizer, tok.PlainMarkers)
    assert tokenizer.decode(tok.encode_qa_prompt(tokenizer, " Why? ")) == "Question: Why?\nAnswer:"
    header = tokenizer.decode(tok.encode_file(tokenizer, "src/a.py", "x = 1"))
    assert header.startswith("\n") and header.lstrip("\n") == "src/a.py\nx = 1\n"
    assert tok.encode_answer(tokenizer, "yes")[-1] == tokenizer.token_to_id("<|endoftext|>")


def test_meta_training_starts_from_an_imported_model(imported, hf_dirs, ttt_home, tmp_path):
    corpus, run = tmp_path / "corpus", tmp_path / "run"
    assert_ok(
        cli(
            ttt_home,
            "train",
            "corpus",
            CORPUS,
            "-o",
            corpus,
            "--tokenizer",
            hf_dirs["llama"] / "tokenizer.json",
            "--min-val-code",
            "0",
            "--min-val-prose",
            "0",
        )
    )
    result = cli(
        ttt_home,
        "train",
        "run",
        run,
        "--corpus",
        corpus,
        "--mode",
        "meta",
        "--init",
        "llama",
        "--steps",
        "1",
        "--seq-len",
        "64",
        "--batch",
        "1",
        "--warmup",
        "1",
        "--json",
    )
    assert_ok(result)
    last = json.loads(result.stdout)["last"]
    assert last["step"] == 1 and 0 < last["loss"] < 20
