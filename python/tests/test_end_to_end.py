"""End to end: train a tiny score model on samples only (denoising score matching with
random Fourier features, solved by ridge regression in numpy), assess it against the
exact score, save a baseline, and catch a regression of a worse model against it."""

from __future__ import annotations

import numpy as np

import flowcert

MIX = flowcert.Mixture.builtin("two-mode-s0.3")
TIMES = [0.1, 0.3, 1.0]


class RandomFeatureScore:
    """s(x, t) = cos([x, log t] W + b) A, A fitted by weighted least squares on DSM targets."""

    def __init__(self, features: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=(MIX.dim + 1, features)) * np.r_[np.full(MIX.dim, 1.5), 1.0][:, None]
        self.b = rng.uniform(0, 2 * np.pi, size=features)
        self.a = np.zeros((features, MIX.dim))

    def phi(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        z = np.hstack([x, np.log(t)[:, None]])
        return np.cos(z @ self.w + self.b)

    def fit(self, n: int, seed: int = 1) -> "RandomFeatureScore":
        rng = np.random.default_rng(seed)
        x0, _ = MIX.sample(n, 0.0, seed)
        t = np.exp(rng.uniform(np.log(0.05), np.log(2.0), size=n))
        alpha, sigma = np.exp(-t), np.sqrt(-np.expm1(-2 * t))
        eps = rng.normal(size=x0.shape)
        xt = alpha[:, None] * x0 + sigma[:, None] * eps
        target = -eps / sigma[:, None]  # E[target | x_t] is the score of p_t
        f = self.phi(xt, t) * sigma[:, None]  # the usual sigma^2 weighting of DSM
        lhs = f.T @ f + 1e-3 * np.eye(f.shape[1])
        self.a = np.linalg.solve(lhs, f.T @ (target * sigma[:, None]))
        return self

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        return self.phi(x, np.full(len(x), t)) @ self.a


def test_train_assess_and_regress(tmp_path):
    model = RandomFeatureScore(400).fit(40_000)
    zero = flowcert.assess_score(lambda x, t: np.zeros_like(x), MIX, times=TIMES, samples=500)
    a = flowcert.assess_score(model, MIX, times=TIMES, samples=500, save_baseline=tmp_path / "b.json")
    # learned something: well below the error of the zero model at every time
    for row, z in zip(a.rows, zero.rows):
        assert row["relative_l2"] < 0.5 * z["relative_l2"], (row, z)
    # the same model against its baseline passes, to the bit
    again = flowcert.assess_score(model, MIX, times=TIMES, samples=500, baseline=tmp_path / "b.json")
    assert again.passes and again.comparison["regressions"] == 0
    # a model trained on far fewer samples regresses against it
    worse = RandomFeatureScore(400).fit(400)
    w = flowcert.assess_score(worse, MIX, times=TIMES, samples=500, baseline=tmp_path / "b.json")
    assert w.passes is False and w.regressions > 0
