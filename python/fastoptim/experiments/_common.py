"""Shared pieces of the experiments: optimizers by name, training loops, figures."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import numpy as np

from ..nn.loss import _labels
from .._errors import UsageValueError

#: The course's optimizer line-up with the learning rates its book uses on MNIST.
BOOK_LR = {"SGD": 0.01, "Momentum": 0.01, "AdaGrad": 0.01, "RMSProp": 0.01, "Adam": 0.001}


def check_optimizer_names(names, argument: str = "") -> None:
    """ValueError unless every name is in BOOK_LR; the message starts with
    ``argument:`` when given (the experiment argument that holds the names)."""
    unknown = [n for n in names if n not in BOOK_LR]
    if unknown:
        raise UsageValueError(f"{argument + ': ' if argument else ''}unknown optimizer "
                              f"{', '.join(map(repr, unknown))}; choose from {', '.join(BOOK_LR)}")


def make_optimizer(name: str, params, lr: float, **kwargs):
    import fastoptim as fo

    check_optimizer_names([name])
    cls = {"SGD": fo.SGD, "Momentum": fo.Momentum, "AdaGrad": fo.AdaGrad,
           "RMSProp": fo.RMSProp, "Adam": fo.Adam}[name]
    return cls(params, lr=lr, **kwargs)


def rng_from(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def seed_pair(seed) -> tuple[int, int]:
    """Two ints drawn from ``seed`` (an int, None or a Generator, which advances):
    the seed of the initial weights and the seed of the batches."""
    init_seed, batch_seed = rng_from(seed).integers(0, 2**63, 2)
    return int(init_seed), int(batch_seed)


def smoothing_window(iterations: int) -> int:
    """The moving-average window of the loss curves: 1/20 of the run, 1 to 50."""
    return max(1, min(50, iterations // 20))


def smooth(y: np.ndarray, window: int = 50) -> np.ndarray:
    """Trailing moving average (same length; shorter windows at the start)."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


_blas_lock = threading.Lock()
_blas_depth = 0
_blas_limiter = None


@contextlib.contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread while small networks train, when threadpoolctl
    (a scikit-learn dependency) is there; re-entrant and safe across threads
    (the first to enter sets the limit, the last to leave restores it).

    The matrices here are at most a few hundred wide, too small for BLAS
    threads to pay off; on a loaded machine (or next to the process pool of
    ``tuning``) OpenBLAS threads waiting on each other made a 7-layer forward
    pass 100 times slower in our runs (0.3 ms -> 39 ms).
    """
    global _blas_depth, _blas_limiter
    with _blas_lock:
        if _blas_depth == 0:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:
                _blas_limiter = None
            else:
                _blas_limiter = threadpool_limits(1, user_api="blas")
        _blas_depth += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def train_iterations(net, opt, x, t, *, iterations: int, batch_size: int, rng,
                     stop_if_not_finite: bool = False, progress=None):
    """``iterations`` steps on random mini-batches (drawn without replacement
    within a batch); returns (loss per step, ms per step, ms per optimizer
    update). ``progress(i)`` is called after every step. The loss array is NaN
    after a non-finite loss when ``stop_if_not_finite``."""
    with single_threaded_blas():
        return _train_iterations(net, opt, x, t, iterations, batch_size, rng,
                                 stop_if_not_finite, progress)


def _train_iterations(net, opt, x, t, iterations, batch_size, rng, stop_if_not_finite, progress):
    n = len(x)
    losses = np.full(iterations, np.nan)
    t_total = t_opt = 0.0
    i = 0
    for i in range(iterations):
        idx = rng.choice(n, batch_size, replace=False) if batch_size < n else slice(None)
        start = time.perf_counter()
        grads = net.gradient(x[idx], t[idx])
        mid = time.perf_counter()
        opt.step(grads)
        end = time.perf_counter()
        t_total += end - start
        t_opt += end - mid
        losses[i] = net.last_loss
        if progress is not None:
            progress(i)
        if stop_if_not_finite and not np.isfinite(losses[i]):
            break
    steps = i + 1  # 1 when iterations is 0 (i stays 0 and the totals are 0)
    return losses, 1e3 * t_total / steps, 1e3 * t_opt / steps


def evaluate(net, x, t):
    """(accuracy, cross-entropy without any penalty) in evaluation mode."""
    scores = net.predict(x)
    return float(np.mean(scores.argmax(axis=1) == _labels(t))), net.last.forward(scores, t)


def train_epochs(net, opt, ds, *, epochs: int, batch_size: int, rng, losses: bool = False):
    """``epochs`` passes over ``ds.x_train`` in shuffled mini-batches; returns the
    train and test accuracy before training and after each epoch (and, with
    ``losses``, the train and test cross-entropy too)."""
    with single_threaded_blas():
        rows = _train_epochs(net, opt, ds, epochs, batch_size, rng)
    train_acc, train_loss, test_acc, test_loss = np.array(rows).T
    if losses:
        return train_acc, test_acc, train_loss, test_loss
    return train_acc, test_acc


def _train_epochs(net, opt, ds, epochs, batch_size, rng):
    n = len(ds.x_train)
    rows = []
    for epoch in range(epochs + 1):
        if epoch:
            order = rng.permutation(n)
            for s in range(0, n, batch_size):
                idx = order[s:s + batch_size]
                opt.step(net.gradient(ds.x_train[idx], ds.t_train[idx]))
        rows.append((*evaluate(net, ds.x_train, ds.t_train), *evaluate(net, ds.x_test, ds.t_test)))
    return rows


def new_figure(width: float, height: float):
    """A matplotlib Figure on the Agg canvas, without touching pyplot's global state."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("figures need matplotlib: pip install 'fastoptim[plot]'") from e
    return Figure(figsize=(width, height), layout="constrained")


def save(fig, out, name: str, dpi: int = 80) -> Path:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=dpi)
    return path


def load(data, dtype=np.float64):
    """The dataset of the experiments; the digits' train/test split is fixed (seed 0)
    so that runs with different seeds differ only in initialization and batches."""
    from ..data import load_dataset

    return load_dataset(data, dtype=dtype)
