"""Training with and without batch normalization over a range of weight scales."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..nn import MLP
from . import _checks as check
from ._common import load, make_optimizer, new_figure, rng_from, save, train_epochs

__all__ = ["batchnorm", "BatchNormResult"]


@dataclass
class BatchNormResult:
    """``scales``: the initial weight sds; ``with_bn`` / ``without_bn``: train
    accuracy per epoch, shape ``(len(scales), epochs + 1)`` (column 0 before
    training)."""

    scales: np.ndarray
    with_bn: np.ndarray
    without_bn: np.ndarray
    dataset: str
    figure: Optional[Path] = None

    def bn_wins(self, tol: float = 0.0) -> np.ndarray:
        """Per scale: batch norm's mean train accuracy over the epochs beats
        the plain network's by more than ``tol`` (area under the curve, i.e.
        learns faster)."""
        return self.with_bn[:, 1:].mean(axis=1) > self.without_bn[:, 1:].mean(axis=1) + tol


def batchnorm(*, n_train: int = 1000, scales: Optional[Union[Sequence[float], np.ndarray]] = None,
              n_scales: int = 16,
              epochs: int = 20, batch_size: int = 100, hidden: Sequence[int] = (100,) * 5,
              lr: float = 0.01, data=None, seed=0, out=None) -> BatchNormResult:
    """The book's batch-norm experiment: 1000 training samples, 5 hidden layers of
    100 ReLU units, SGD lr 0.01, batch 100, 20 epochs, initial weight sd from
    1 down to 1e-4 (16 values, log-spaced), with and without batch norm.

    Batch norm learns faster at almost every scale and keeps learning at the
    scales where the plain network does not learn at all. ``scales`` (positive
    sds) overrides the ``n_scales`` log-spaced ones. Batch norm needs one hidden
    layer at least and batches of 2 samples at least (the last one too).
    """
    check.int_at_least("n_train", n_train, 2)
    if scales is not None:
        scales = check.positive_reals("scales", scales)
    check.positive_int("n_scales", n_scales)
    check.positive_int("epochs", epochs)
    check.int_at_least("batch_size", batch_size, 2)
    hidden = check.layer_sizes("hidden", hidden, min_len=1)
    check.positive_real("lr", lr)
    check.data_folder(data)
    check.seed(seed)
    check.out_folder(out)
    scales = np.logspace(0, -4, n_scales) if scales is None else np.asarray(scales, float)
    ds = load(data)
    check.samples_available("n_train", n_train, ds)
    ds = ds.subset(n_train)
    check.last_batch(n_train, batch_size, f"n_train={n_train} samples")
    seeds = rng_from(seed).integers(0, 2**63, (len(scales), 2))
    with_bn = np.zeros((len(scales), epochs + 1))
    without_bn = np.zeros_like(with_bn)
    # Large sds make the plain network's logits overflow: that is the lesson.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for k, std in enumerate(scales):
            for bn, table in ((True, with_bn), (False, without_bn)):
                net = MLP(ds.n_features, hidden, ds.n_classes, init=float(std), batch_norm=bn,
                          seed=int(seeds[k, 0]))
                opt = make_optimizer("SGD", net.params, lr)
                table[k], _ = train_epochs(net, opt, ds, epochs=epochs, batch_size=batch_size,
                                           rng=np.random.default_rng(int(seeds[k, 1])))
    res = BatchNormResult(scales, with_bn, without_bn, ds.name)
    if out is not None:
        cols = 4
        rows = -(-len(scales) // cols)
        fig = new_figure(2.2 * cols, 1.7 * rows)
        axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
        for k, std in enumerate(scales):
            ax = axes.flat[k]
            ax.plot(with_bn[k], color="tab:blue", label="batch norm")
            ax.plot(without_bn[k], color="tab:green", ls="--", label="plain")
            ax.set_title(f"sd {std:.2g}", fontsize=8)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=6)
        for ax in axes.flat[len(scales):]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=6)
        fig.supxlabel("epoch", fontsize=8)
        fig.supylabel("train accuracy", fontsize=8)
        fig.suptitle(f"Batch norm vs none, {len(ds.x_train)} samples ({ds.name})", fontsize=9)
        res.figure = save(fig, out, "batchnorm")
    return res
