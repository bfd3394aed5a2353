"""Kolmogorov-Smirnov helpers shared by the RNG and initializer tests."""

import math

import numpy as np


def ks_statistic(samples, cdf):
    """The one-sample KS statistic D of ``samples`` against ``cdf``."""
    x = np.sort(np.asarray(samples, np.float64).ravel())
    f = cdf(x)
    n = x.size
    i = np.arange(1, n + 1)
    return max(np.max(i / n - f), np.max(f - (i - 1) / n))


def ks_bound(n):
    """Asymptotic Kolmogorov distribution: P(sqrt(n) D > 1.95) ~ 1e-3 under the null."""
    return 1.95 / math.sqrt(n)
