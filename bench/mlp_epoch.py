"""Seconds per epoch of the 784-128-32-10 ReLU MLP: reference modules vs fused numpy vs PyTorch.

Run ``python -m bench.mlp_epoch`` (``--help`` for options). One epoch is 60,000 seeded
Gaussian float32 inputs with random labels, batches of 64 in a fixed order, softmax
cross-entropy and plain SGD. All three start from the same weights, so their final
losses agree up to float32 rounding: a check that they do the same work. Each runs
``--repeats`` times and the best time is kept. This is a measurement, not a test: it
prints a table and whether the targets are met, and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reference_impl.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from reference_impl.optimizers import SGD

SIZES = (784, 128, 32, 10)
LEARNING_RATE = 0.01
TARGET_FUSED_RATIO = 1.3
TARGET_TORCH_SPEEDUP = 3.0

F32 = NDArray[np.float32]
Weights = list[tuple[F32, F32]]


@dataclass
class Result:
    """Best seconds per epoch of one implementation and the mean loss of its last epoch."""

    name: str
    seconds: float
    loss: float


def blas_threads() -> int:
    """Threads numpy's BLAS will use: the usual environment variables, else every usable core."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def make_data(n: int, *, seed: int) -> tuple[F32, NDArray[np.intp]]:
    """Inputs (N, 784) float32 ~ N(0, 1) and labels (N,) uniform on 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n).astype(np.intp)
    return X, y


def initial_weights(*, seed: int) -> Weights:
    """He-normal W (D, M) and zero b (M,) per layer, float32, shared by all three runs."""
    rng = np.random.default_rng(seed)
    out: Weights = []
    for d_in, d_out in pairwise(SIZES):
        W = (rng.standard_normal((d_in, d_out)) * np.sqrt(2.0 / d_in)).astype(np.float32)
        out.append((W, np.zeros(d_out, dtype=np.float32)))
    return out


def _copy(weights: Weights) -> Weights:
    return [(W.copy(), b.copy()) for W, b in weights]


def _batches(n: int, batch_size: int) -> list[slice]:
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def reference_epoch(
    X: F32, y: NDArray[np.intp], weights: Weights, batch_size: int
) -> Callable[[], float]:
    """An epoch built from the reference modules: Sequential, Linear, ReLU, SGD."""
    layers: list[Any] = []
    for i, (W, b) in enumerate(_copy(weights)):
        linear = Linear(W.shape[0], W.shape[1], rng=np.random.default_rng(0), dtype=np.float32)
        linear.params["W"][...] = W
        linear.params["b"][...] = b
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(ReLU())
    # The input is data: no gradient for it, as the fused loop and PyTorch also skip it.
    layers[0].input_grad = False
    model = Sequential(*layers)
    loss_fn = SoftmaxCrossEntropy()
    optimizer = SGD(lr=LEARNING_RATE)
    batches = _batches(len(X), batch_size)

    def epoch() -> float:
        total = 0.0
        for s in batches:
            model.zero_grad()
            logits = model.forward(X[s])
            total += loss_fn.forward(logits, y[s]) * (s.stop - s.start)
            model.backward(loss_fn.backward(1.0))
            optimizer.step(model.parameters())
        return total / len(X)

    return epoch


def fused_epoch(
    X: F32, y: NDArray[np.intp], weights: Weights, batch_size: int
) -> Callable[[], float]:
    """The same epoch written as one numpy loop over preallocated buffers (the floor)."""
    (W1, b1), (W2, b2), (W3, b3) = _copy(weights)
    B = batch_size
    f32 = np.float32
    z1, z2, z3 = (np.empty((B, m), f32) for m in SIZES[1:])
    m1, m2 = np.empty((B, SIZES[1]), bool), np.empty((B, SIZES[2]), bool)
    d2, d1 = np.empty((B, SIZES[2]), f32), np.empty((B, SIZES[1]), f32)
    gW1, gW2, gW3 = np.empty_like(W1), np.empty_like(W2), np.empty_like(W3)
    gb1, gb2, gb3 = np.empty_like(b1), np.empty_like(b2), np.empty_like(b3)
    row_max, row_sum = np.empty((B, 1), f32), np.empty((B, 1), f32)
    rows = np.arange(B)
    lr = f32(LEARNING_RATE)
    batches = _batches(len(X), batch_size)

    def epoch() -> float:
        total = 0.0
        for s in batches:
            n = s.stop - s.start
            xb, yb, r = X[s], y[s], rows[:n]
            a1, a2, out = z1[:n], z2[:n], z3[:n]
            k1, k2, g2, g1 = m1[:n], m2[:n], d2[:n], d1[:n]
            mx, sm = row_max[:n], row_sum[:n]
            np.matmul(xb, W1, out=a1)
            a1 += b1
            np.greater(a1, 0, out=k1)
            np.multiply(a1, k1, out=a1)
            np.matmul(a1, W2, out=a2)
            a2 += b2
            np.greater(a2, 0, out=k2)
            np.multiply(a2, k2, out=a2)
            np.matmul(a2, W3, out=out)
            out += b3
            # Subtract the row max before exp so nothing overflows.
            np.max(out, axis=1, keepdims=True, out=mx)
            out -= mx
            np.exp(out, out=out)
            np.sum(out, axis=1, keepdims=True, out=sm)
            total -= float(np.sum(np.log(out[r, yb] / sm[:, 0])))
            out /= sm
            out[r, yb] -= 1
            out /= n
            np.matmul(a2.T, out, out=gW3)
            np.sum(out, axis=0, out=gb3)
            np.matmul(out, W3.T, out=g2)
            np.multiply(g2, k2, out=g2)
            np.matmul(a1.T, g2, out=gW2)
            np.sum(g2, axis=0, out=gb2)
            np.matmul(g2, W2.T, out=g1)
            np.multiply(g1, k1, out=g1)
            np.matmul(xb.T, g1, out=gW1)
            np.sum(g1, axis=0, out=gb1)
            for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2), (W3, gW3), (b3, gb3)):
                g *= lr
                p -= g
        return total / len(X)

    return epoch


def torch_epoch(
    X: F32, y: NDArray[np.intp], weights: Weights, batch_size: int, threads: int
) -> Callable[[], float] | None:
    """The same epoch in PyTorch on the CPU, or None when torch cannot be imported."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    layers: list[Any] = []
    for i, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    batches = _batches(len(X), batch_size)

    def epoch() -> float:
        total = 0.0
        for s in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[s]), yt[s])
            loss.backward()
            optimizer.step()
            total += loss.item() * (s.stop - s.start)
        return total / len(X)

    return epoch


def best_of(name: str, epoch: Callable[[], float], repeats: int) -> Result:
    """Run ``epoch`` ``repeats`` times; keep the fastest time and the last loss."""
    best, loss = float("inf"), float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        loss = epoch()
        best = min(best, time.perf_counter() - start)
    return Result(name, best, loss)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mlp_epoch", description=__doc__)
    parser.add_argument("--samples", type=int, default=60_000, help="examples per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="epochs per implementation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    threads = blas_threads()
    X, y = make_data(args.samples, seed=args.seed)
    weights = initial_weights(seed=args.seed + 1)
    print(f"784-128-32-10 ReLU MLP, float32, {args.samples:,} samples, batch {args.batch_size}, "
          f"SGD lr {LEARNING_RATE}; best of {args.repeats} epochs each")
    print(f"numpy {np.__version__}, BLAS threads {threads}, Python {platform.python_version()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cores = os.cpu_count() or 1
    if load > cores:
        print(f"warning: load average {load:.1f} on {cores} cores; other work will distort "
              "the times (threaded BLAS and torch suffer most): rerun on an idle machine")

    # Each runs from the same start; separate copies of the weights keep them independent.
    results = [
        best_of("reference", reference_epoch(X, y, weights, args.batch_size), args.repeats),
        best_of("fused numpy", fused_epoch(X, y, weights, args.batch_size), args.repeats),
    ]
    torch_run = torch_epoch(X, y, weights, args.batch_size, threads)
    if torch_run is None:
        print("PyTorch: skipped (import torch failed; install it with `./run bench`)")
    else:
        import torch

        print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}")
        results.append(best_of("pytorch cpu", torch_run, args.repeats))

    print()
    print(f"{'implementation':<14} {'s/epoch':>9} {'last-epoch loss':>16}")
    for r in results:
        print(f"{r.name:<14} {r.seconds:>9.3f} {r.loss:>16.6f}")
    ref, fused = results[0], results[1]
    ratio = ref.seconds / fused.seconds
    print()
    print(f"reference / fused = {ratio:.2f}  (target <= {TARGET_FUSED_RATIO}: "
          f"{'met' if ratio <= TARGET_FUSED_RATIO else 'NOT met'})")
    if len(results) == 3:
        speedup = results[2].seconds / ref.seconds
        print(f"torch / reference = {speedup:.2f}  (target >= {TARGET_TORCH_SPEEDUP}: "
              f"{'met' if speedup >= TARGET_TORCH_SPEEDUP else 'NOT met'})")
    else:
        print(f"torch / reference: not measured (target >= {TARGET_TORCH_SPEEDUP})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
