"""Every Triton kernel against its PyTorch reference: forward, backward and double backward.

Without a GPU the kernels run on CPU tensors in Triton's interpreter: the tests that run them
there (the `interpreter` marker) set TRITON_INTERPRET=1 while they run, and Triton reads it
when a kernel module is first imported, inside such a test (fp32/fp16 only, tiny shapes); its own
language library was imported under it before collection (conftest.py). Nothing else in the run,
nor any subprocess of another test, sees it. With a GPU they run natively on
CUDA tensors, bf16 included; the CPU cases then need `TRITON_INTERPRET=1` in the environment.
Tolerances, as the max abs error over max(1, max |reference|):
fp32 1e-5, fp16 4e-3, bf16 3e-2 (one or two ulps of the stored dtype).
"""

import os
import subprocess
import sys

import pytest
import torch
from conftest import kernels_interpreted
from ttt_read.kernels import reference, window_mask

from ttt_read import kernels as ops
from ttt_read.read import checkpoint
from ttt_read.read.config import ModelConfig
from ttt_read.read.model import TTTModel
from ttt_read.read.reading import read

CALLERS_INTERPRET = os.environ.get("TRITON_INTERPRET")  # as the run was started
INTERPRET = kernels_interpreted()  # whether the CPU cases run
INTERPRETED = [
    pytest.mark.interpreter,
    pytest.mark.skipif(not INTERPRET, reason="runs Triton on CPU tensors: needs TRITON_INTERPRET=1"),
]
TOLERANCE = {torch.float32: 1e-5, torch.float16: 4e-3, torch.bfloat16: 3e-2}
DEVICES = [
    pytest.param("cpu", marks=INTERPRETED),
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(INTERPRET or not torch.cuda.is_available(), reason="needs a CUDA GPU, no interpreter"),
    ),
]
DTYPES = [torch.float32, torch.float16, torch.bfloat16]


@pytest.fixture(autouse=True)
def triton_kernels(request, monkeypatch):
    """Route every public op to Triton, whatever the device; Triton's interpreter for the
    tests that run kernels on CPU tensors, for as long as each runs."""
    monkeypatch.setenv("TTT_READ_KERNELS", "triton")
    if request.node.get_closest_marker("interpreter") is not None:
        monkeypatch.setenv("TRITON_INTERPRET", "1")
    torch.manual_seed(0)


def supported(device: str, dtype: torch.dtype) -> None:
    if device == "cpu" and dtype == torch.bfloat16:
        pytest.skip("the Triton interpreter has no bf16")


def assert_close(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str = "") -> None:
    assert actual.shape == expected.shape, what
    err = (actual.double() - expected.double()).abs().max().item()
    scale = max(1.0, expected.double().abs().max().item())
    assert err <= TOLERANCE[dtype] * scale, f"{what}: max error {err:.3g} at scale {scale:.3g}"


def leaves(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.detach().clone().requires_grad_() for t in tensors]


def compare(kernel, ref, inputs, dtype, grad_inputs=None):
    """Outputs and gradients (for one random cotangent) of `kernel` and `ref` on the same inputs."""
    grad_inputs = inputs if grad_inputs is None else grad_inputs
    out_k, out_r = kernel(*inputs), ref(*inputs)
    assert out_k.dtype == out_r.dtype
    assert_close(out_k, out_r, dtype, "forward")
    cotangent = torch.randn_like(out_r)
    grads_k = torch.autograd.grad(out_k, grad_inputs, cotangent)
    grads_r = torch.autograd.grad(out_r, grad_inputs, cotangent)
    for i, (gk, gr) in enumerate(zip(grads_k, grads_r)):
        assert_close(gk, gr, dtype, f"gradient {i}")


def second_order(fn, inputs):
    """Gradient of <grad fn(inputs), r> w.r.t. the inputs: what meta-training differentiates."""
    out = fn(*inputs)
    gen = torch.Generator().manual_seed(1)
    cotangent = torch.randn(out.shape, generator=gen, dtype=out.dtype).to(out.device)
    grads = torch.autograd.grad(out, inputs, cotangent, create_graph=True)
    probe = sum((g * torch.randn(g.shape, generator=gen, dtype=g.dtype).to(g.device)).sum() for g in grads)
    return torch.autograd.grad(probe, inputs)


def compare_second_order(fn, ref, inputs):
    for i, (gk, gr) in enumerate(zip(second_order(fn, inputs), second_order(ref, inputs))):
        assert_close(gk, gr, torch.float32, f"second-order gradient {i}")


# --- attention -------------------------------------------------------------------------------

# (batch, heads, n_chunks, chunk, window, cache_length, head_dim)
ATTENTION_SHAPES = {
    "first chunk, empty cache": (1, 2, 1, 16, 16, 0, 16),
    "ragged chunk, cache partly filled": (1, 1, 1, 12, 20, 7, 32),
    "three chunks, full cache": (2, 1, 3, 8, 24, 24, 16),
    "two chunks from the text start": (1, 2, 2, 16, 32, 0, 32),
}


def attention_inputs(shape, device, dtype):
    """q and the model's overlapping [cache + chunk] buffers (unfold views of one key row)."""
    B, H, n, c, W, _, D = shape
    q, keys, values = (torch.randn(B, H, rows, D, device=device, dtype=dtype) for rows in (n * c, W + n * c, W + n * c))
    q, keys, values = leaves(q.view(B, H, n, c, D), keys, values)
    k_buf = keys.unfold(2, W + c, c).transpose(-1, -2)
    v_buf = values.unfold(2, W + c, c).transpose(-1, -2)
    return (q, k_buf, v_buf), (q, keys, values)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_in", ["loaded", "computed"])
@pytest.mark.parametrize("shape", ATTENTION_SHAPES.values(), ids=ATTENTION_SHAPES.keys())
def test_window_attention(shape, mask_in, dtype, device):
    supported(device, dtype)
    n, c, W, cache_length = shape[2], shape[3], shape[4], shape[5]
    mask = window_mask(c, W, n, cache_length, device)
    kernel = (
        (lambda q, k, v: ops.window_attention(q, k, v, mask))
        if mask_in == "loaded"
        else (lambda q, k, v: ops.cached_window_attention(q, k, v, cache_length))
    )
    inputs, grad_leaves = attention_inputs(shape, device, dtype)
    compare(kernel, lambda q, k, v: reference.window_attention(q, k, v, mask), inputs, dtype, grad_leaves)


@pytest.mark.parametrize("device", DEVICES)
def test_window_attention_mixed_dtypes(device):
    """fp16 queries over fp32 cached keys and values, as autocast can produce."""
    shape = ATTENTION_SHAPES["three chunks, full cache"]
    (q, k, v), _ = attention_inputs(shape, device, torch.float32)
    mask = window_mask(shape[3], shape[4], shape[2], shape[5], device)
    kernel = lambda q, k, v: ops.window_attention(q, k, v, mask)  # noqa: E731
    compare(kernel, lambda q, k, v: reference.window_attention(q, k, v, mask), leaves(q.half(), k, v), torch.float16)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mask_in", ["loaded", "computed"])
def test_window_attention_double_backward(mask_in, device):
    """The backward Function's own backward (torch ops) against autograd through the reference,
    and gradgradcheck in fp64 (which runs the Triton backward kernels in fp64)."""
    B, H, n, c, W, cache_length, D = 1, 1, 2, 8, 8, 3, 16
    mask = window_mask(c, W, n, cache_length, device)
    if mask_in == "loaded":
        fn = lambda q, k, v: ops.window_attention(q, k, v, mask)  # noqa: E731
    else:
        fn = lambda q, k, v: ops.cached_window_attention(q, k, v, cache_length)  # noqa: E731
    inputs = leaves(*(torch.randn(B, H, n, rows, D, device=device) for rows in (c, W + c, W + c)))
    compare_second_order(fn, lambda q, k, v: reference.window_attention(q, k, v, mask), inputs)
    if device == "cpu":  # fp64 runs the reference on a GPU
        assert torch.autograd.gradgradcheck(fn, leaves(*(t.double() for t in inputs)), fast_mode=True)


# --- RMSNorm, SwiGLU -------------------------------------------------------------------------


def rms_norm(impl):
    return lambda x, w: impl.rms_norm(x, w, 1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, permuted",
    [((3, 5, 24), False), ((2, 2, 40, 16), True), ((70, 128), False)],
    ids=["d=24", "QK-norm layout d=16", "d=128"],
)
def test_rms_norm(shape, permuted, dtype, device):
    supported(device, dtype)
    x = torch.randn(*shape, device=device, dtype=dtype)
    x = x.transpose(1, 2) if permuted else x  # a strided input, as q and k are in the model
    weight = 1 + 0.1 * torch.randn(shape[-1], device=device)
    compare(rms_norm(ops), rms_norm(reference), leaves(x, weight), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False], ids=["fast weights [B, in, out]", "shared weights"])
def test_swiglu(batched, dtype, device):
    supported(device, dtype)
    B, T, d, hidden = 2, 7, 16, 24
    lead = (B,) if batched else ()
    x = torch.randn(B, T, d, device=device, dtype=dtype)
    w1, w3 = (0.3 * torch.randn(*lead, d, hidden, device=device, dtype=dtype) for _ in range(2))
    w2 = 0.3 * torch.randn(*lead, hidden, d, device=device, dtype=dtype)
    compare(ops.swiglu, reference.swiglu, leaves(x, w1, w3, w2), dtype)


# --- linear cross-entropy --------------------------------------------------------------------

# (token shape, vocabulary, width): non-power-of-two vocabularies and widths, several splits
CE_SHAPES = {"[B, 1, c] chunk": ((2, 1, 13), 50, 24), "[B, c]": ((2, 13), 37, 32), "40 tokens, d=16": ((40,), 70, 16)}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES.values(), ids=CE_SHAPES.keys())
def test_linear_cross_entropy(shape, dtype, device):
    supported(device, dtype)
    tokens, V, d = shape
    h = torch.randn(*tokens, d, device=device, dtype=dtype)
    embedding = torch.randn(V, d, device=device, dtype=dtype)
    targets = torch.randint(0, V, tokens, device=device)
    targets.view(-1)[-3:] = -100  # the padding of a ragged last chunk
    loss = ops.linear_cross_entropy(h, embedding, targets)
    assert loss.dtype == torch.float32 and (loss.view(-1)[-3:] == 0).all()
    compare(
        lambda h, e: ops.linear_cross_entropy(h, e, targets),
        lambda h, e: reference.linear_cross_entropy(h, e, targets),
        leaves(h, embedding),
        dtype,
    )


@pytest.mark.parametrize("device", DEVICES)
def test_linear_cross_entropy_under_autocast(device):
    """Under autocast the logit tiles take autocast's dtype (fp32 accumulators): the loss and
    both gradients stay within that dtype's tolerance of the fp32 reference."""
    half = torch.bfloat16 if device == "cuda" else torch.float16  # the interpreter has no bf16
    tokens, V, d = CE_SHAPES["[B, c]"]
    h = torch.randn(*tokens, d, device=device)
    embedding = 0.3 * torch.randn(V, d, device=device)
    targets = torch.randint(0, V, tokens, device=device)
    from ttt_read.kernels.triton_cross_entropy import tile_dtype

    with torch.autocast(device, dtype=half):
        assert tile_dtype(h, embedding) == half
    assert tile_dtype(h, embedding) == torch.float32

    def kernel(h, e):
        with torch.autocast(device, dtype=half):
            return ops.linear_cross_entropy(h, e, targets)

    compare(kernel, lambda h, e: reference.linear_cross_entropy(h, e, targets), leaves(h, embedding), half)


# --- clipped SGD -----------------------------------------------------------------------------


def fast_weights(device, dtype=torch.float32):
    """Expanded W_0 (stride-0 batch, as `initial_fast_weights` makes them) and per-sequence
    gradients whose global norms straddle 1, so some sequences are clipped and some not."""
    B = 3
    shapes = [(16, 24), (16, 24), (24, 16)]  # more blocks than programs: the norm kernel loops
    bases = leaves(*(torch.randn(s, device=device, dtype=dtype) for s in shapes))
    norms = torch.tensor([0.02, 1.0, 3.0], device=device, dtype=dtype).view(-1, 1, 1)
    grads = leaves(*(norms * torch.randn(B, *s, device=device, dtype=dtype) / 19 for s in shapes))
    return bases, [w.expand(B, *w.shape) for w in bases], grads


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lr", ["float", "scalar tensor", "per-sequence tensor"])
def test_clipped_sgd(lr, device):
    bases, weights, grads = fast_weights(device)
    inputs = [*bases, *grads]
    if lr == "float":
        lr = 0.7
    else:
        lr = torch.tensor(0.5 if lr == "scalar tensor" else [1.0, 0.3, 2.0], device=device, requires_grad=True)
        inputs.append(lr)
    new_k, new_r = ops.clipped_sgd(weights, grads, lr), reference.clipped_sgd(weights, grads, lr)
    for a, b in zip(new_k, new_r):
        assert_close(a, b, torch.float32, "update")
    cotangents = [torch.randn_like(w) for w in new_r]
    grads_k = torch.autograd.grad(new_k, inputs, cotangents)
    grads_r = torch.autograd.grad(new_r, inputs, cotangents)
    for i, (a, b) in enumerate(zip(grads_k, grads_r)):
        assert_close(a, b, torch.float32, f"gradient {i}")


# --- double backward of the ops without a dedicated test above --------------------------------


def sgd_objective(impl):
    """A scalar that depends nonlinearly on the new weights, so it has second derivatives."""
    return lambda w1, w2, g1, g2: sum(w.pow(2).sum() for w in impl.clipped_sgd([w1, w2], [g1, g2], 0.9))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", ["rms_norm", "swiglu", "linear_cross_entropy", "clipped_sgd"])
def test_double_backward(op, device):
    """Against autograd through the reference in fp32, and gradgradcheck in fp64 (interpreted:
    on a GPU fp64 is dispatched to the reference)."""
    targets = torch.tensor([1, 2, -100, 19, 0], device=device)
    cases = {
        "rms_norm": (rms_norm(ops), rms_norm(reference), [(5, 24), (24,)]),
        "swiglu": (ops.swiglu, reference.swiglu, [(2, 5, 8), (2, 8, 12), (2, 8, 12), (2, 12, 8)]),
        "linear_cross_entropy": (
            lambda h, e: ops.linear_cross_entropy(h, e, targets),
            lambda h, e: reference.linear_cross_entropy(h, e, targets),
            [(5, 16), (20, 16)],
        ),
        "clipped_sgd": (sgd_objective(ops), sgd_objective(reference), [(3, 4, 6), (3, 6, 4)] * 2),
    }
    fn, ref, shapes = cases[op]
    inputs = leaves(*(torch.randn(s, device=device) for s in shapes))
    compare_second_order(fn, ref, inputs)
    if device == "cpu":  # fp64 runs the reference on a GPU
        assert torch.autograd.gradgradcheck(fn, leaves(*(t.double() for t in inputs)), fast_mode=True)


# --- the model end to end, and dispatch --------------------------------------------------------

TINY = ModelConfig(
    vocab_size=61, d_model=32, n_layers=2, n_heads=2, mlp_hidden=48, prime_hidden=40, n_suffix=1, window=16, chunk=8
)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("meta", [False, True], ids=["reading", "meta-training"])
def test_reading_matches_reference(meta, device, monkeypatch):
    """Three chunks (cache empty, half full, full; the last one ragged): losses, the learned fast
    weights and, for meta-training, the outer gradient through every inner step."""
    model = TTTModel(TINY).to(device)
    tokens = torch.randint(0, TINY.vocab_size, (1, 2 * TINY.chunk + 4), device=device)
    runs = {}
    for kernels in ("reference", "triton"):
        monkeypatch.setenv("TTT_READ_KERNELS", kernels)
        model.zero_grad(set_to_none=True)
        result = read(model, tokens, lr=1.0, create_graph=meta, segment_chunks=2)
        if meta:
            result.chunk_losses.mean().backward()
        runs[kernels] = result, [(name, p.grad) for name, p in model.named_parameters() if meta]
    (tri, tri_grads), (ref, ref_grads) = runs["triton"], runs["reference"]
    assert_close(tri.token_losses, ref.token_losses, torch.float32, "token losses")
    for a, b in zip(tri.state.fast, ref.state.fast):
        assert_close(a, b, torch.float32, "fast weights after reading")
    for (name, a), (_, b) in zip(tri_grads, ref_grads):
        assert_close(a, b, torch.float32, f"meta-gradient of {name}")


# --- the model's own shapes under bf16 autocast, on a GPU -------------------------------------

ON_GPU = pytest.mark.skipif(INTERPRET or not torch.cuda.is_available(), reason="needs a CUDA GPU, no interpreter")
BUNDLED_SHAPE = checkpoint.resolve(checkpoint.DEFAULT_MODEL).config  # the shapes the bundled model runs at


@ON_GPU
@pytest.mark.parametrize("cache_dtype", [torch.bfloat16, torch.float32], ids=["bf16 cache", "fp32 cache"])
@pytest.mark.parametrize("cache_length", [0, 300, 512])
def test_attention_at_model_shapes(cache_length, cache_dtype):
    """16 chunks of 256 over a 512-token window, head dim 64: the key loop runs many blocks."""
    cfg = BUNDLED_SHAPE
    shape = (1, cfg.n_heads, 16, cfg.chunk, cfg.window, cache_length, cfg.head_dim)
    (q, k, v), (q_leaf, keys, values) = attention_inputs(shape, "cuda", torch.bfloat16)
    keys, values = leaves(keys.to(cache_dtype), values.to(cache_dtype))
    unfold = lambda t: t.unfold(2, cfg.window + cfg.chunk, cfg.chunk).transpose(-1, -2)  # noqa: E731
    mask = window_mask(cfg.chunk, cfg.window, 16, cache_length, "cuda")
    compare(
        lambda q, k, v: ops.cached_window_attention(q, unfold(k), unfold(v), cache_length),
        lambda q, k, v: reference.window_attention(q, unfold(k), unfold(v), mask),
        (q_leaf, keys, values),
        torch.bfloat16,
    )


@ON_GPU
@pytest.mark.parametrize("tokens", [256, 16384])
def test_cross_entropy_at_model_shapes(tokens):
    """The full 16K vocabulary at width 128, under autocast, against the fp32 reference."""
    h = torch.randn(tokens, BUNDLED_SHAPE.d_model, device="cuda")
    embedding = 0.05 * torch.randn(BUNDLED_SHAPE.vocab_size, BUNDLED_SHAPE.d_model, device="cuda")
    targets = torch.randint(0, BUNDLED_SHAPE.vocab_size, (tokens,), device="cuda")

    def kernel(h, e):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return ops.linear_cross_entropy(h, e, targets)

    compare(kernel, lambda h, e: reference.linear_cross_entropy(h, e, targets), leaves(h, embedding), torch.bfloat16)


@ON_GPU
def test_reading_at_model_shapes_under_autocast(monkeypatch):
    """About 3K tokens (cache empty, 256, full, then a ragged tail) read as `ingest` reads on a
    GPU: token losses and learned fast weights of the kernels against the reference."""
    model = TTTModel(BUNDLED_SHAPE).cuda()
    tokens = torch.randint(0, BUNDLED_SHAPE.vocab_size, (1, 11 * BUNDLED_SHAPE.chunk + 77), device="cuda")
    runs = {}
    for kernels in ("reference", "triton"):
        monkeypatch.setenv("TTT_READ_KERNELS", kernels)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            runs[kernels] = read(model, tokens, lr=1.0)
    assert_close(runs["triton"].token_losses, runs["reference"].token_losses, torch.bfloat16, "token losses")
    for a, b in zip(runs["triton"].state.fast, runs["reference"].state.fast):
        assert_close(a, b, torch.bfloat16, "fast weights after reading")


@pytest.mark.interpreter
@pytest.mark.skipif(not INTERPRET, reason="runs Triton on CPU tensors: needs TRITON_INTERPRET=1")
def test_dispatch(monkeypatch):
    x, w = torch.randn(3, 8, requires_grad=True), torch.ones(8)

    def backward_of(kernels: str) -> str:
        monkeypatch.setenv("TTT_READ_KERNELS", kernels)
        return type(ops.rms_norm(x, w, 1e-6).grad_fn).__name__

    assert backward_of("triton") == "_RMSNormBackward"
    assert backward_of("reference") != "_RMSNormBackward"
    assert backward_of("auto") != "_RMSNormBackward"  # CPU tensors
    with pytest.raises(ValueError, match="TTT_READ_KERNELS"):
        backward_of("tritn")
    monkeypatch.setenv("TTT_READ_REFERENCE_OPS", "attention,norm")  # what the self-check sets
    assert backward_of("triton") != "_RMSNormBackward"
    monkeypatch.setenv("TTT_READ_REFERENCE_OPS", "attention")
    assert backward_of("triton") == "_RMSNormBackward"
    monkeypatch.setenv("TTT_READ_REFERENCE_OPS", "nrom")
    with pytest.raises(ValueError, match="TTT_READ_REFERENCE_OPS"):
        backward_of("triton")


def test_cached_attention_reference_path(monkeypatch):
    """On the reference path the cached entry point is window_attention under window_mask."""
    monkeypatch.setenv("TTT_READ_KERNELS", "reference")
    for B, H, n, c, W, cache_length, D in ((1, 1, 3, 8, 16, 0, 4), (2, 1, 2, 8, 16, 5, 4), (1, 2, 1, 12, 4, 4, 4)):
        mask = window_mask(c, W, n, cache_length, "cpu")
        q, k, v = (torch.randn(B, H, n, rows, D) for rows in (c, W + c, W + c))
        expected = reference.window_attention(q, k, v, mask)
        assert torch.equal(ops.cached_window_attention(q, k, v, cache_length), expected)


def test_reference_path_imports_no_triton():
    """On CPU, importing the model and running an op leaves triton unimported (and a test
    that runs no kernel on CPU tensors sees no interpreter setting of the suite's)."""
    assert os.environ.get("TRITON_INTERPRET") == CALLERS_INTERPRET
    code = (
        "import sys, torch; from ttt_read import kernels; from ttt_read.read import model; "
        "kernels.rms_norm(torch.randn(2, 4), torch.ones(4), 1e-6); "
        "assert 'triton' not in sys.modules, 'triton imported'"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TTT_READ_KERNELS", "CUDA_VISIBLE_DEVICES")}
    env["CUDA_VISIBLE_DEVICES"] = ""
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not INTERPRET, reason="the CPU self-check runs the kernels interpreted")
def test_selfcheck_sends_a_crashing_kernel_to_the_reference(tmp_path, monkeypatch):
    """An op whose kernel takes its process down (as an LLVM or ptxas crash would) is named
    for the reference; the op checked beside it is not."""
    from ttt_read.kernels import selfcheck

    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys, types\n"
        "broken = types.ModuleType('ttt_read.kernels.triton_attention')\n"
        "broken.cached_window_attention = lambda *args: os.abort()\n"
        "sys.modules[broken.__name__] = broken\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    result = selfcheck.run(TINY, "cpu", ops=("attention", "norm"))
    assert result["reference_ops"] == "attention"
    assert result["ops"]["norm"]["ok"] and result["ops"]["norm"]["error"] < selfcheck.TOLERANCE["cpu"]
    assert not result["ops"]["attention"]["ok"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_rope_from_an_offset_is_the_rotation_at_those_positions(dtype):
    """`rope(x, start)` rotates row j by the angles of position start + j, bit for bit what
    the rows of one longer call from 0 get (its cos/sin tables are made once and sliced), and
    it preserves each row's norm."""
    x = torch.randn(2, 3, 40, 16).to(dtype)
    whole = reference.rope(x, 0, 10000.0)
    assert torch.equal(reference.rope(x[..., 25:, :], 25, 10000.0), whole[..., 25:, :])
    half = 8
    angles = torch.arange(40, dtype=torch.float64)[:, None] * 10000.0 ** (-torch.arange(half) / half).double()
    x1, x2 = x.double()[..., :half], x.double()[..., half:]
    expected = torch.cat([x1 * angles.cos() - x2 * angles.sin(), x2 * angles.cos() + x1 * angles.sin()], -1)
    assert_close(whole, expected.to(dtype), dtype, "rope")
    assert_close(whole.norm(dim=-1), x.norm(dim=-1), dtype, "norm")
