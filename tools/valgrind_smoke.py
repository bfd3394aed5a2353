"""A short run of every optimizer (and the random fills, when present) for valgrind memcheck."""

import numpy as np

import fastoptim as fo
from fastoptim import _core

rng = np.random.default_rng(0)
for level in _core.supported_isas():
    _core.set_isa(level)
    for dtype in (np.float32, np.float64):
        for make in (lambda p: fo.SGD(p), lambda p: fo.Momentum(p, nesterov=True),
                     lambda p: fo.AdaGrad(p, lr_decay=0.1),
                     lambda p: fo.RMSProp(p, momentum=0.5, centered=True),
                     lambda p: fo.Adam(p, amsgrad=True, weight_decay=0.1), lambda p: fo.AdamW(p)):
            params = [rng.standard_normal(n).astype(dtype) for n in (0, 1, 17, 1000)]
            params.append(np.array(1.5, dtype=dtype))
            opt = make(params)
            for _ in range(3):
                opt.step([rng.standard_normal(p.shape).astype(dtype) for p in params])
            sd = opt.state_dict()
            make([p.copy() for p in params]).load_state_dict(sd)
_core.set_num_threads(2)
_core.set_parallel_threshold(64)
big = [rng.standard_normal(5000).astype(np.float32) for _ in range(3)]
opt = fo.Adam(big, skip_nonfinite=True)
opt.step([np.ones(5000, np.float32)] * 3)
try:
    import fastoptim.random as fr

    g = fr.Generator(1)
    for dtype in (np.float32, np.float64):
        a = np.empty(1001, dtype)
        g.normal_(a)
        g.uniform_(a)
except ImportError:
    pass
print("valgrind smoke done")
