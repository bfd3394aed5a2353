"""Histograms of hidden-layer activations for different weight scales."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np

from ..nn.mlp import _init_weight
from .._errors import UsageTypeError, UsageValueError
from . import _checks as check
from ._common import new_figure, rng_from, save

__all__ = ["activations", "ActivationsResult", "ACTIVATION_CONFIGS"]

#: (label, activation, weight sd as a float or an initializer name).
ACTIVATION_CONFIGS = (
    ("sigmoid, sd 1", "sigmoid", 1.0),
    ("sigmoid, sd 0.01", "sigmoid", 0.01),
    ("sigmoid, sd 1/√n (Xavier)", "sigmoid", "lecun"),
    ("tanh, sd 1/√n (Xavier)", "tanh", "lecun"),
    ("ReLU, sd 0.01", "relu", 0.01),
    ("ReLU, sd 1/√n (Xavier)", "relu", "lecun"),
    ("ReLU, sd √(2/n) (He)", "relu", "he"),
)

_FUNCS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 0.5 * (1 + np.tanh(0.5 * z)),  # overflow-free logistic
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


def _check_config(name: str, item) -> None:
    if isinstance(item, (str, bytes)) or not isinstance(item, (tuple, list)) or len(item) != 3:
        raise UsageTypeError(f"{name} must be a triple (label, activation, weight sd), e.g. "
                             f"('ReLU, He', 'relu', 'he'), got {item!r}")
    label, act, std = item
    if not isinstance(label, str):
        raise UsageTypeError(f"{name}[0] (the label) must be a str, got {type(label).__name__} "
                             f"{label!r}")
    if not isinstance(act, str) or act not in _FUNCS:
        error = UsageValueError if isinstance(act, str) else UsageTypeError
        raise error(f"{name}[1] (the activation) must be one of {', '.join(_FUNCS)}, "
                    f"got {act!r}")
    check.init_choice(f"{name}[2] (the weight sd)", std)


@dataclass
class ActivationsResult:
    """``activations[label]``: list of per-layer arrays ``(samples, units)``
    (float32); ``configs``: the (label, activation, weight sd) triples run."""

    activations: dict
    configs: tuple
    figure: Optional[Path] = None

    def layer(self, label: str, i: int) -> np.ndarray:
        """Activations of layer ``i`` (1-based) of configuration ``label``."""
        return self.activations[label][i - 1]


def activations(*, samples: int = 1000, units: int = 100, layers: int = 5,
                configs=ACTIVATION_CONFIGS, seed=0, out=None, bins: int = 30) -> ActivationsResult:
    """Push ``samples`` x ``units`` standard-normal data through ``layers`` bias-free
    layers of ``units`` units and keep every layer's activations.

    Sigmoid with sd 1 saturates (activations pile up at 0 and 1, where the
    gradient vanishes); sd 0.01 squeezes them around 0.5 (every unit says the
    same thing: limited expressiveness); 1/sqrt(n) keeps them spread. ReLU
    with sd 0.01 or 1/sqrt(n) shrinks layer after layer; He's sqrt(2/n) keeps
    the spread through all layers. Each configuration starts from the same
    input and draws its weights from the same stream. ``configs`` holds
    (label, activation, weight sd as a float or an initializer name) triples
    like :data:`ACTIVATION_CONFIGS`, with distinct labels.
    """
    check.positive_int("samples", samples)
    check.positive_int("units", units)
    check.positive_int("layers", layers)
    configs = check.labelled_configs("configs", configs, _check_config)
    check.seed(seed)
    check.out_folder(out)
    check.positive_int("bins", bins)
    rng = rng_from(seed)
    x = rng.standard_normal((samples, units))
    weight_seed = int(rng.integers(0, 2**63))
    acts = {}
    for label, act, std in configs:
        wrng = np.random.default_rng(weight_seed)
        h, per_layer = x, []
        for _ in range(layers):
            W = np.empty((h.shape[1], units))
            _init_weight(W, std, wrng)
            h = _FUNCS[act](h @ W)
            per_layer.append(h.astype(np.float32))
        acts[label] = per_layer
    res = ActivationsResult(acts, tuple(configs))
    if out is not None:
        fig = new_figure(1.9 * layers, 1.35 * len(configs))
        axes = fig.subplots(len(configs), layers, squeeze=False)
        for r, (label, act, _) in enumerate(configs):
            hi: Optional[float]
            lo, hi = (0, 1) if act == "sigmoid" else (-1, 1) if act == "tanh" else (0, None)
            if hi is None:  # one scale per row, so that shrinking layers look shrunk
                hi = max(float(a.max()) for a in acts[label]) or 1.0
            for c in range(layers):
                a = acts[label][c].ravel()
                if act == "relu":
                    a = a[a > 0]  # the spike of exact zeros would hide the rest
                ax = axes[r, c]
                ax.hist(a, bins=bins, range=(lo, hi), color="tab:blue")
                ax.set_yticks([])
                ax.tick_params(labelsize=6)
                if r == 0:
                    ax.set_title(f"layer {c + 1}", fontsize=8)
                if c == 0:
                    ax.set_ylabel(label, fontsize=7)
        fig.suptitle("Hidden activations (ReLU: nonzero values only)", fontsize=9)
        res.figure = save(fig, out, "activations")
    return res
