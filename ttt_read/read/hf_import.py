"""Importing a Hugging Face Llama or Qwen checkpoint as a ttt-read base model.

An import checks the checkpoint's `config.json`, translates it to a `ModelConfig` (one
model implementation, switched per family), fingerprints the config and weight files, and
registers a user checkpoint directory holding only `config.json` and `import.json`: the
weights and tokenizer stay where they are and are mapped onto ttt-read's parameter names
at load time. With zero-initialised prime MLPs as the fast weights, their starting values
are new weights that exist nowhere else, so they are written beside it (`prime.safetensors`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from ttt_read.core.errors import ExitCode, TTTReadError
from ttt_read.read.config import ModelConfig

SUPPORTED = ("LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM")
RECORD = "import.json"
PRIME_FILE = "prime.safetensors"
INDEX = "model.safetensors.index.json"
DEFAULT_WINDOW = 4096
DEFAULT_CHUNK = 512
DEFAULT_FAST_WEIGHTS = "mlp"
DEFAULT_INNER_LR = 1.0


@dataclasses.dataclass(frozen=True)
class ImportSettings:
    window: int | None = None  # None: DEFAULT_WINDOW, less if the model was trained on shorter texts
    chunk: int = DEFAULT_CHUNK
    fast_weights: str = DEFAULT_FAST_WEIGHTS
    inner_lr: float = DEFAULT_INNER_LR


def refuse(source: Path, reason: str) -> TTTReadError:
    return TTTReadError(f"{source}: cannot import: {reason}", ExitCode.MODEL)


def translate_config(hf: dict, source: Path, settings: ImportSettings = ImportSettings()) -> ModelConfig:
    """The `ModelConfig` of a Hugging Face config, or a one-line refusal of what is not supported."""
    architectures = hf.get("architectures") or []
    if len(architectures) != 1 or architectures[0] not in SUPPORTED:
        raise refuse(source, f"architecture {architectures or 'unknown'} (supported: {', '.join(SUPPORTED)})")
    if any(hf.get(key) for key in ("num_experts", "num_local_experts", "n_routed_experts")):
        raise refuse(source, "mixture-of-experts layers are not supported")
    layer_types = set(hf.get("layer_types") or ["full_attention"])
    if hf.get("use_sliding_window") or layer_types != {"full_attention"}:
        raise refuse(source, "sliding-window attention layers are not supported")
    if hf.get("hidden_act", "silu") != "silu":
        raise refuse(source, f"activation {hf['hidden_act']!r} (only silu)")
    if hf.get("mlp_bias"):
        raise refuse(source, "MLP biases are not supported")
    family = architectures[0]
    if family == "LlamaForCausalLM" and hf.get("attention_bias"):
        raise refuse(source, "attention output biases are not supported")
    rope = hf.get("rope_parameters") or {}
    scaling = hf.get("rope_scaling") or {}
    rope_type = scaling.get("rope_type") or scaling.get("type") or rope.get("rope_type") or "default"
    if rope_type != "default":
        raise refuse(source, f"RoPE scaling {rope_type!r} is not implemented")
    try:
        n_layers = int(hf["num_hidden_layers"])
        d_model, n_heads = int(hf["hidden_size"]), int(hf["num_attention_heads"])
        window = settings.window or _default_window(hf, settings.chunk)
        return ModelConfig(
            vocab_size=int(hf["vocab_size"]),
            d_model=d_model,
            n_layers=n_layers,
            n_heads=n_heads,
            n_kv_heads=int(hf.get("num_key_value_heads") or n_heads),
            head_size=int(hf.get("head_dim") or d_model // n_heads),
            mlp_hidden=int(hf["intermediate_size"]),
            prime_hidden=int(hf["intermediate_size"]),
            n_suffix=max(1, n_layers // 4),
            window=window,
            chunk=settings.chunk,
            rope_theta=float(hf.get("rope_theta") or rope.get("rope_theta") or 10_000.0),
            norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
            inner_lr=settings.inner_lr,
            qkv_bias=family == "Qwen2ForCausalLM" or bool(hf.get("attention_bias")),
            qk_norm=family == "Qwen3ForCausalLM",
            post_norm=False,
            tied_head=bool(hf.get("tie_word_embeddings", False)),
            fast_weights=settings.fast_weights,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise refuse(source, f"config.json: {e}") from None


def _default_window(hf: dict, chunk: int) -> int:
    """DEFAULT_WINDOW, shortened so that a chunk's buffer (W + b positions) stays within the
    positions the model was trained on (at least half of them)."""
    trained = int(hf.get("max_position_embeddings") or DEFAULT_WINDOW + chunk)
    return max(1, min(DEFAULT_WINDOW, max(trained - chunk, trained // 2)))


def weight_files(source: Path) -> list[str]:
    """The safetensors files of a checkpoint directory: the index's shards, or the single file."""
    index = source / INDEX
    if index.is_file():
        try:
            return sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise refuse(source, f"{INDEX}: {e}") from None
    if (source / "model.safetensors").is_file():
        return ["model.safetensors"]
    raise refuse(
        source, "no model.safetensors or model.safetensors.index.json (only safetensors weights are supported)"
    )


def hf_names(cfg: ModelConfig) -> Iterator[tuple[str, list[str], bool]]:
    """(ttt-read parameter, Hugging Face tensors concatenated into it, transposed?) for every
    parameter an imported checkpoint supplies. Linear layers keep Hugging Face's [out, in];
    SwiGLU matrices are stored [in, out], hence the transpose."""
    yield "embed.weight", ["model.embed_tokens.weight"], False
    yield "final_norm.weight", ["model.norm.weight"], False
    if not cfg.tied_head:
        yield "head", ["lm_head.weight"], False
    for i in range(cfg.n_layers):
        hf, ours = f"model.layers.{i}.", f"blocks.{i}."
        yield ours + "attn_in.weight", [hf + "input_layernorm.weight"], False
        yield ours + "mlp_in.weight", [hf + "post_attention_layernorm.weight"], False
        yield ours + "attn.wqkv.weight", [hf + f"self_attn.{p}_proj.weight" for p in "qkv"], False
        if cfg.qkv_bias:
            yield ours + "attn.wqkv.bias", [hf + f"self_attn.{p}_proj.bias" for p in "qkv"], False
        yield ours + "attn.wo.weight", [hf + "self_attn.o_proj.weight"], False
        if cfg.qk_norm:
            yield ours + "attn.q_norm.weight", [hf + "self_attn.q_norm.weight"], False
            yield ours + "attn.k_norm.weight", [hf + "self_attn.k_norm.weight"], False
        for ours_w, hf_w in (("w1", "gate_proj"), ("w3", "up_proj"), ("w2", "down_proj")):
            yield ours + f"mlp.{ours_w}", [hf + f"mlp.{hf_w}.weight"], True


def load_state(record: ImportRecord, cfg: ModelConfig, device: str = "cpu") -> dict:
    """ttt-read's state dict, in fp32, from the original files (and the prime MLPs' file)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    record.verify()
    where = {}  # tensor name -> the open file that holds it
    for name in record.files:
        handle = safe_open(str(record.source / name), framework="pt", device=str(device))
        where.update({key: handle for key in handle.keys()})
    state = {}
    for ours, theirs, transpose in hf_names(cfg):
        missing = [t for t in theirs if t not in where]
        if missing:
            raise TTTReadError(f"{record.source}: tensor {missing[0]} is missing", ExitCode.MODEL)
        tensor = torch.cat([where[t].get_tensor(t).float() for t in theirs], dim=0)
        state[ours] = tensor.t().contiguous() if transpose else tensor
    if record.prime is not None:
        state.update(load_file(record.prime, device=str(device)))
    return state


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stat(path: Path) -> dict:
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@dataclasses.dataclass(frozen=True)
class ImportRecord:
    """`import.json`: where an imported checkpoint's files are and what they were at import."""

    directory: Path  # the user checkpoint directory
    source: Path
    architecture: str
    files: dict  # weight file name -> {"sha256", "bytes", "mtime_ns"}
    config_sha256: str
    tokenizer_sha256: str
    end_of_text_id: int | None
    fingerprint: str  # sha256 over the original config, tokenizer and weights, and ttt-read's config

    @property
    def tokenizer(self) -> Path:
        return self.source / "tokenizer.json"

    @property
    def prime(self) -> Path | None:
        path = self.directory / PRIME_FILE
        return path if path.is_file() else None

    @property
    def weight_bytes(self) -> int:
        return sum(f["bytes"] for f in self.files.values())

    def verify(self) -> None:
        """Refuse to load when an original file was removed or changed since the import
        (size and modification time; the import hashed them, a load does not)."""
        for name, recorded in self.files.items():
            path = self.source / name
            if not path.is_file():
                raise TTTReadError(f"{path}: imported weights are gone; import the model again", ExitCode.MODEL)
            if _stat(path) != {k: recorded[k] for k in ("bytes", "mtime_ns")}:
                raise TTTReadError(f"{path}: changed since it was imported; import the model again", ExitCode.MODEL)

    @classmethod
    def load(cls, directory: Path) -> ImportRecord:
        try:
            data = json.loads((directory / RECORD).read_text())
            return cls(
                directory=directory, **{k: data[k] for k in _FIELDS if k != "source"}, source=Path(data["source"])
            )
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TTTReadError(
                f"{directory / RECORD}: broken import record ({e}); import the model again", ExitCode.MODEL
            ) from None

    def to_json(self) -> str:
        data = {k: getattr(self, k) for k in _FIELDS}
        return json.dumps({**data, "source": str(self.source)}, indent=2) + "\n"


_FIELDS = ("source", "architecture", "files", "config_sha256", "tokenizer_sha256", "end_of_text_id", "fingerprint")


def end_of_text_id(hf: dict) -> int | None:
    """The id that separates documents: the config's end-of-sequence token (None: let the
    tokenizer find one by name)."""
    eos = hf.get("eos_token_id")
    if isinstance(eos, list):
        eos = eos[0] if eos else None
    return eos if isinstance(eos, int) else None


def import_checkpoint(source: Path, out_dir: Path, settings: ImportSettings = ImportSettings()) -> ImportRecord:
    """Check and fingerprint `source`, then register it in `out_dir` (which must not exist)."""
    source = source.resolve()
    config_path, tokenizer_path = source / "config.json", source / "tokenizer.json"
    for needed in (config_path, tokenizer_path):
        if not needed.is_file():
            raise refuse(source, f"no {needed.name}")
    try:
        hf = json.loads(config_path.read_text())
    except (OSError, ValueError) as e:
        raise refuse(source, f"config.json: {e}") from None
    if not isinstance(hf, dict):
        raise refuse(source, "config.json is not a JSON object")
    cfg = translate_config(hf, source, settings)
    names = weight_files(source)
    files = {name: {"sha256": file_digest(source / name), **_stat(source / name)} for name in names}
    _check_tensors(source, names, cfg)
    out_dir.mkdir(parents=True)
    try:
        (out_dir / "config.json").write_text(cfg.to_json())
        if cfg.fast_weights == "prime":
            _write_prime(cfg, out_dir / PRIME_FILE)
        config_sha256, tokenizer_sha256 = file_digest(config_path), file_digest(tokenizer_path)
        parts = [config_sha256, tokenizer_sha256, file_digest(out_dir / "config.json")] + [
            files[n]["sha256"] for n in names
        ]
        if cfg.fast_weights == "prime":
            parts.append(file_digest(out_dir / PRIME_FILE))
        record = ImportRecord(
            directory=out_dir,
            source=source,
            architecture=hf["architectures"][0],
            files=files,
            config_sha256=config_sha256,
            tokenizer_sha256=tokenizer_sha256,
            end_of_text_id=end_of_text_id(hf),
            fingerprint=hashlib.sha256("\n".join(parts).encode()).hexdigest(),
        )
        (out_dir / RECORD).write_text(record.to_json())
    except BaseException:
        for leftover in out_dir.iterdir():
            leftover.unlink()
        out_dir.rmdir()
        raise
    return record


def _check_tensors(source: Path, names: list[str], cfg: ModelConfig) -> None:
    """Refuse a checkpoint whose tensors are missing, of an unsupported dtype, or misshapen."""
    from safetensors import safe_open

    shapes, dtypes = {}, set()
    for name in names:
        try:
            with safe_open(str(source / name), framework="pt") as handle:
                for key in handle.keys():
                    sliced = handle.get_slice(key)
                    shapes[key], dtype = tuple(sliced.get_shape()), sliced.get_dtype()
                    dtypes.add(dtype)
        except (OSError, ValueError, RuntimeError) as e:
            raise refuse(source, f"{name}: {e}") from None
    unsupported = dtypes - {"BF16", "F32", "F16"}
    if unsupported:
        raise refuse(source, f"weights of dtype {', '.join(sorted(unsupported))} (only bf16, fp16 and fp32)")
    import torch

    from ttt_read.read.model import TTTModel

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in TTTModel(cfg).state_dict().items()}
    for ours, theirs, transpose in hf_names(cfg):
        missing = [t for t in theirs if t not in shapes]
        if missing:
            raise refuse(source, f"tensor {missing[0]} is missing")
        rows = sum(shapes[t][0] for t in theirs)
        shape = (rows, *shapes[theirs[0]][1:])
        if (shape[::-1] if transpose else shape) != expected[ours]:
            raise refuse(source, f"tensor {theirs[0]} has shape {shapes[theirs[0]]}, config.json implies otherwise")


def _write_prime(cfg: ModelConfig, path: Path) -> None:
    """Zero-initialised prime MLPs: w2 = 0, so the imported model computes exactly what the
    original does until reading changes them; w1 and w3 random so the first update has a
    gradient to follow."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    n_prefix = cfg.n_layers - cfg.n_suffix
    tensors = {}
    for i in range(n_prefix, cfg.n_layers):
        block = f"blocks.{i}."
        tensors[block + "prime_in.weight"] = torch.ones(cfg.d_model)
        for w in ("w1", "w3"):
            tensors[block + f"prime.{w}"] = torch.randn(cfg.d_model, cfg.prime_hidden, generator=generator) * 0.02
        tensors[block + "prime.w2"] = torch.zeros(cfg.prime_hidden, cfg.d_model)
    save_file(tensors, str(path))


def is_imported(directory: Path) -> bool:
    return (directory / RECORD).is_file() and (directory / "config.json").is_file()
