"""Optimizer paths on two-variable functions: the ill-conditioned bowl and a saddle."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from . import _checks as check
from ._common import make_optimizer, new_figure, save

__all__ = ["trajectories", "saddle", "PathsResult", "BOOK_TRAJECTORY_LR"]

#: Learning rates of the course's book for f(x, y) = x^2/20 + y^2.
BOOK_TRAJECTORY_LR = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSProp": 0.1, "Adam": 0.3}


@dataclass
class PathsResult:
    """``paths[name]`` is an array ``(steps + 1, 2)`` of the (x, y) visited."""

    paths: dict
    lr: dict
    start: tuple
    figure: Optional[Path] = None
    final_value: dict = field(default_factory=dict)


def _run_paths(grad: Callable, value: Callable, start, steps: int, lr: dict) -> PathsResult:
    paths, final = {}, {}
    for name, rate in lr.items():
        xy = np.array(start, dtype=np.float64)
        g = np.zeros(2)
        opt = make_optimizer(name, {"xy": xy}, rate)
        path = [xy.copy()]
        for _ in range(steps):
            g[:] = grad(xy)
            opt.step({"xy": g})
            path.append(xy.copy())
        paths[name] = np.array(path)
        final[name] = float(value(xy))
    return PathsResult(paths, dict(lr), tuple(start), None, final)


def _draw(result: PathsResult, value: Callable, xlim: tuple[float, float],
          ylim: tuple[float, float], title: str, out, name: str):
    fig = new_figure(3.0 * len(result.paths), 3.0)
    axes = fig.subplots(1, len(result.paths), squeeze=False)[0]
    X, Y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    Z = value(np.stack([X, Y]))
    for ax, (opt_name, path) in zip(axes, result.paths.items()):
        ax.contour(X, Y, Z, levels=15, colors="0.75", linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=2.5, lw=1)
        ax.plot(0, 0, "+", color="k")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_title(f"{opt_name} (lr {result.lr[opt_name]:g})", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return save(fig, out, name)


def _check_paths_args(steps, start, lr, out, seed):
    """The checked (start, lr) of trajectories and saddle."""
    check.positive_int("steps", steps)
    start = check.point("start", start)
    lr = check.optimizer_lr("lr", lr)
    check.out_folder(out)
    check.seed(seed)
    return start, lr


def _bowl(v):
    return v[0] ** 2 / 20 + v[1] ** 2


def trajectories(*, steps: int = 30, start=(-7.0, 2.0), lr: Optional[dict] = None,
                 out=None, seed=None) -> PathsResult:
    """Paths of SGD, Momentum, AdaGrad, RMSProp and Adam on f = x^2/20 + y^2.

    The function is 20 times steeper in y than in x: SGD with a step size
    large enough to move along x zigzags across the valley in y; Momentum
    builds speed along x; AdaGrad, RMSProp and Adam scale each coordinate by
    its own gradient history and head for the minimum more directly.
    Defaults are the course book's (start (-7, 2), 30 steps, its rates).
    ``seed`` is unused (the experiment has no randomness).
    """
    start, lr = _check_paths_args(steps, start, lr, out, seed)
    lr = dict(BOOK_TRAJECTORY_LR if lr is None else lr)
    result = _run_paths(lambda v: np.array([v[0] / 10, 2 * v[1]]), _bowl, start, steps, lr)
    if out is not None:
        result.figure = _draw(result, _bowl, (-10, 10), (-5, 5),
                              "f(x, y) = x²/20 + y²", out, "trajectories")
    return result


def _saddle(v):
    return v[0] ** 2 - v[1] ** 2


#: Each optimizer with a step size that moves it at a similar speed along x.
SADDLE_LR = {"SGD": 0.05, "Momentum": 0.01, "AdaGrad": 0.3, "RMSProp": 0.05, "Adam": 0.1}


@dataclass
class SaddleResult(PathsResult):
    """Adds ``escape_step[name]``: first step with |y| > 1 (None if never)."""

    escape_step: dict = field(default_factory=dict)


def saddle(*, steps: int = 60, start=(1.0, 1e-3), lr: Optional[dict] = None, out=None,
           seed=None) -> SaddleResult:
    """Who escapes the saddle of f = x^2 - y^2 when started almost on the ridge.

    Near (0, 0) the gradient is tiny in y, so plain SGD (and Momentum, less
    so) lingers close to the saddle point before the instability in y takes
    over; the adaptive methods divide by the small gradient's own scale and
    leave quickly. ``seed`` is unused.
    """
    start, lr = _check_paths_args(steps, start, lr, out, seed)
    lr = dict(SADDLE_LR if lr is None else lr)
    base = _run_paths(lambda v: np.array([2 * v[0], -2 * v[1]]), _saddle, start, steps, lr)
    escape = {}
    for name, path in base.paths.items():
        hit = np.nonzero(np.abs(path[:, 1]) > 1)[0]
        escape[name] = int(hit[0]) if len(hit) else None
    result = SaddleResult(base.paths, base.lr, base.start, None, base.final_value, escape)
    if out is not None:
        result.figure = _draw(result, _saddle, (-1.5, 1.5), (-1.5, 1.5),
                              f"f(x, y) = x² − y², started at ({start[0]:g}, {start[1]:g})",
                              out, "saddle")
    return result
