"""A user's training script written against the typed API.

tests/test_typing.py type-checks this file with mypy (it must pass with no
error) and also runs it, so it stays a working example.
"""

from __future__ import annotations

import os
import tempfile
from typing import Dict, List, Optional

import numpy as np
import numpy.typing as npt

import fastoptim as fo
from fastoptim import _core, checkpoint, functional
from fastoptim.random import Generator

Params = Dict[str, npt.NDArray[np.float32]]


def init_params(seed: int) -> Params:
    gen = Generator(seed)
    W = np.empty((4, 3), np.float32)
    gen.normal_(W, std=0.1)
    return {"W": W, "b": np.zeros(3, np.float32)}


def gradients(params: Params, x: npt.NDArray[np.float32], y: npt.NDArray[np.float32]) -> Params:
    err = x @ params["W"] + params["b"] - y
    return {"W": (x.T @ err / len(x)).astype(np.float32),
            "b": err.mean(axis=0).astype(np.float32)}


def train(steps: int, directory: str) -> float:
    params = init_params(0)
    opt: fo.Optimizer = fo.Adam(params, lr=1e-2, skip_nonfinite=True)
    x = np.ones((8, 4), np.float32)
    y = np.zeros((8, 3), np.float32)
    applied: List[Optional[bool]] = []
    for _ in range(steps):
        applied.append(opt.step(gradients(params, x, y)))
    state: Dict[int, Dict[str, object]] = opt.state

    path = os.path.join(directory, "model.npz")
    checkpoint.save(path, params, opt, metadata={"steps": steps})
    fresh = init_params(1)
    resumed = fo.Adam(fresh, lr=1e-2)
    ckpt: checkpoint.Checkpoint = checkpoint.load(path, fresh, resumed)
    saved_steps: int = ckpt.metadata["steps"]
    assert saved_steps == steps and ckpt.optimizer_class == "Adam" and len(state) == 2

    functional.sgd_([fresh["b"]], [np.ones(3, np.float32)], lr=0.1)
    threads: int = fo.get_num_threads()
    isa: str = _core.active_isa()
    assert threads >= 1 and isa in _core.supported_isas()
    return float(np.abs(fresh["W"] - params["W"]).max())


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        print(train(5, d))
