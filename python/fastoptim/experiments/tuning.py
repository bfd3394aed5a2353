"""Random search over learning rate and weight decay on a validation split."""

from __future__ import annotations

import functools
import os
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..data import Dataset, train_test_split
from .._errors import UsageTypeError, UsageValueError
from ..nn import MLP
from . import _checks as check
from ._common import load, make_optimizer, new_figure, rng_from, save, seed_pair, train_epochs

__all__ = ["tuning", "TuningResult"]


@dataclass
class TuningResult:
    """Per trial (in sampling order): ``lr``, ``weight_decay``, ``val_accuracy``
    and ``train_accuracy`` per epoch, shape ``(trials, epochs + 1)``."""

    lr: np.ndarray
    weight_decay: np.ndarray
    val_accuracy: np.ndarray
    train_accuracy: np.ndarray
    dataset: str
    figure: Optional[Path] = None

    @property
    def final_val(self) -> np.ndarray:
        return self.val_accuracy[:, -1]

    def ranking(self) -> np.ndarray:
        """Trial indices from best to worst final validation accuracy (stable)."""
        return np.argsort(-self.final_val, kind="stable")


@functools.lru_cache(maxsize=4)
def _split(data, n_samples: int, val_fraction: float) -> Dataset:
    ds = load(data)
    check.samples_available("n_samples", n_samples, ds)
    # The book shuffles before splitting; a fixed permutation keeps trials comparable.
    (x, t), (x_val, t_val) = train_test_split(ds.x_train[:n_samples], ds.t_train[:n_samples],
                                              val_fraction, seed=0)
    return Dataset(ds.name, x, t, x_val, t_val, ds.n_classes)


def _trial(data, n_samples, val_fraction, hidden, epochs, batch_size, lr, weight_decay, seed):
    ds = _split(data, n_samples, val_fraction)
    init_seed, batch_seed = seed_pair(seed)
    net = MLP(ds.n_features, hidden, ds.n_classes, weight_decay=weight_decay, seed=init_seed)
    opt = make_optimizer("SGD", net.params, lr)
    train, val = train_epochs(net, opt, ds, epochs=epochs, batch_size=batch_size,
                              rng=np.random.default_rng(batch_seed))
    return train, val


def tuning(*, trials: int = 100, n_samples: int = 500, val_fraction: float = 0.2,
           epochs: int = 50, batch_size: int = 100, hidden: Sequence[int] = (100,) * 6,
           lr_range: tuple[float, float] = (-6, -2),
           weight_decay_range: tuple[float, float] = (-8, -4), executor: Optional[Executor] = None,
           data=None, seed=0, out=None, show_best: int = 20) -> TuningResult:
    """The book's random search: ``lr = 10**U(-6, -2)``, ``weight_decay =
    10**U(-8, -4)``, 100 trials, each trains the 7-layer MLP (SGD, batch 100,
    50 epochs) on 400 of the first 500 training samples and is scored on the
    other 100 (20% validation split, never the test set).

    Trials run through ``executor`` (any ``concurrent.futures.Executor``); by
    default a process pool of up to ``os.cpu_count()`` workers started with
    "spawn" (fork would copy fastoptim's thread pool in an unusable state).
    Every trial draws its hyperparameters and seeds from ``seed`` up front,
    so results do not depend on the executor or the number of workers.

    The lesson: the good region is narrow in lr (the top trials cluster at the
    upper end of the range) and wide in weight decay, so the next search
    narrows lr first.
    """
    check.positive_int("trials", trials)
    check.int_at_least("n_samples", n_samples, 2)
    if n_samples > 1 << 62:
        raise UsageValueError(f"n_samples must be at most 2**62, got {n_samples}")
    check.fraction("val_fraction", val_fraction)  # named here: _split calls it test_fraction
    n_val = int(round(n_samples * val_fraction))  # as train_test_split counts them
    if not 0 < n_val < n_samples:
        raise UsageValueError(f"n_samples={n_samples} with val_fraction={val_fraction!r} gives "
                              f"{n_val} validation and {n_samples - n_val} training samples; "
                              f"both need one at least")
    check.positive_int("epochs", epochs)
    check.positive_int("batch_size", batch_size)
    hidden = check.layer_sizes("hidden", hidden)
    for name, rng_ in (("lr_range", lr_range), ("weight_decay_range", weight_decay_range)):
        lo, hi = check.interval(name, rng_)
        if not (-300 <= lo and hi <= 300):  # 10**x: a finite, non-zero float
            raise UsageValueError(f"{name} is a pair of powers of 10 within [-300, 300], got "
                                  f"{tuple(rng_)!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise UsageTypeError("executor must be a concurrent.futures.Executor (or None for a "
                             f"process pool), got {type(executor).__name__}")
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    check.non_negative_int("show_best", show_best)
    data_key = None if data is None else str(data)
    name = _split(data_key, n_samples, val_fraction).name  # checks the data has n_samples
    rng = rng_from(seed)
    lrs = 10.0 ** rng.uniform(*lr_range, trials)
    wds = 10.0 ** rng.uniform(*weight_decay_range, trials)
    seeds = rng.integers(0, 2**63, trials)
    args = [(data_key, n_samples, val_fraction, tuple(hidden), epochs, batch_size,
             float(lrs[i]), float(wds[i]), int(seeds[i])) for i in range(trials)]
    if executor is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        workers = max(1, min(os.cpu_count() or 1, trials))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
            results = list(ex.map(_trial, *zip(*args)))
    else:
        results = [f.result() for f in [executor.submit(_trial, *a) for a in args]]
    train = np.array([r[0] for r in results]).reshape(trials, epochs + 1)
    val = np.array([r[1] for r in results]).reshape(trials, epochs + 1)
    res = TuningResult(lrs, wds, val, train, name)
    if out is not None:
        res.figure = _draw(res, out, show_best)
    return res


def _draw(res: TuningResult, out, show_best: int) -> Path:
    best = res.ranking()[:show_best]
    cols = 5
    rows = -(-len(best) // cols)
    fig = new_figure(2.0 * cols, 1.45 * rows + 2.6)
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.45] * rows + [2.6])
    for k, i in enumerate(best):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        ax.plot(res.val_accuracy[i], lw=1)
        ax.plot(res.train_accuracy[i], lw=1, ls="--")
        ax.set_ylim(0, 1.02)
        ax.set_xticks([])
        ax.tick_params(labelsize=5)
        ax.set_title(f"#{k + 1} val {res.final_val[i]:.2f}\n"
                     f"lr {res.lr[i]:.1e} wd {res.weight_decay[i]:.1e}", fontsize=6)
    ax = fig.add_subplot(grid[rows, :])
    sc = ax.scatter(res.lr, res.weight_decay, c=res.final_val, cmap="viridis", vmin=0, vmax=1, s=14)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate", fontsize=8)
    ax.set_ylabel("weight decay", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(sc, ax=ax, label="validation accuracy")
    fig.suptitle(f"Random search, best {len(best)} of {len(res.lr)} trials "
                 f"(solid: validation, dashed: train; {res.dataset})", fontsize=9)
    return save(fig, out, "tuning")
