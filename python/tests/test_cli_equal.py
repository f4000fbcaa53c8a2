"""The Python calls give the command line's numbers on the same inputs, to the last bit:
both run the same library code, and JSON round-trips float64 exactly (serde_json's
float_roundtrip, Python's repr)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flowcert
from conftest import column, write_points

MIXTURES = ["two-mode-s0.1", "hetero3", "aniso8"]


def points(mix: flowcert.Mixture, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(scale=1.5, size=(n, mix.dim))


@pytest.mark.parametrize("name", MIXTURES)
def test_eval_equals_cli(cli, tmp_path, name):
    mix = flowcert.Mixture.builtin(name)
    x = points(mix, 7, 1)
    t = 0.37
    doc = cli.json("eval", "--mixture", f"builtin:{name}", "--t", repr(t),
                   "--points", write_points(tmp_path, x))
    pts = doc["points"]
    np.testing.assert_array_equal(column(pts, "x"), x)
    np.testing.assert_array_equal(mix.logp(x, t), column(pts, "logp"))
    np.testing.assert_array_equal(mix.hessian(x, t), column(pts, "hessian"))
    # The CLI takes the score from the Hessian pass (Marginal::eval), Python from
    # Marginal::score_into: the library keeps the two bitwise equal.
    np.testing.assert_array_equal(mix.score(x, t), column(pts, "score"))
    np.testing.assert_array_equal(mix.velocity(x, t), column(pts, "velocity"))


def test_mixture_file_equals_builtin(tmp_path):
    b = flowcert.Mixture.builtin("hetero3")
    p = tmp_path / "m.json"
    p.write_text(b.to_json())
    m = flowcert.Mixture.from_json(p)
    spec = json.loads(b.to_json())
    c = flowcert.Mixture(np.array(spec["weights"]), np.array(spec["means"]), spec["covariances"])
    x = points(b, 5, 2)
    for other in (m, c):
        assert other.hash() == b.hash()
        np.testing.assert_array_equal(other.score(x, 0.2), b.score(x, 0.2))


@pytest.mark.parametrize("method", ["dopri5", "dop853"])
def test_flow_equals_cli(cli, tmp_path, method):
    mix = flowcert.Mixture.builtin("hetero3")
    x = points(mix, 40, 3)
    doc = cli.json("flow", "--mixture", "builtin:hetero3", "--from", "2.5", "--to", "0.02",
                   "--points", write_points(tmp_path, x), "--jacobian", "--rtol", "1e-9",
                   "--atol", "1e-9", "--method", method)
    r = flowcert.flow(mix, x, 2.5, 0.02, jacobian=True, rtol=1e-9, atol=1e-9, method=method)
    pts = doc["points"]
    np.testing.assert_array_equal(r.y, column(pts, "y"))
    np.testing.assert_array_equal(r.jacobian, column(pts, "jacobian"))
    np.testing.assert_array_equal(r.jacobian_norm, column(pts, "jacobian_norm"))
    assert r.stats == doc["stats"]


def test_flow_jacobian_is_row_major_and_matches_finite_differences():
    mix = flowcert.Mixture.builtin("hetero3")
    x = np.array([0.3, -0.2, 0.5])
    r = flowcert.flow(mix, x, 1.0, 0.05, jacobian=True, rtol=1e-12, atol=1e-12, method="dop853")
    h = 1e-5
    fd = np.empty((3, 3))
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        yp = flowcert.flow(mix, x + e, 1.0, 0.05, rtol=1e-12, atol=1e-12, method="dop853").y
        ym = flowcert.flow(mix, x - e, 1.0, 0.05, rtol=1e-12, atol=1e-12, method="dop853").y
        fd[:, j] = (yp - ym) / (2 * h)  # column j: d y / d x_j
    np.testing.assert_allclose(r.jacobian, fd, rtol=1e-5, atol=1e-6)
    assert not np.allclose(r.jacobian, r.jacobian.T, rtol=1e-3)  # the test can tell


def test_sample_equals_cli(cli):
    mix = flowcert.Mixture.builtin("ring8")
    doc = cli.json("sample", "--mixture", "builtin:ring8", "--t", "0.3", "--n", "50", "--seed", "7")
    x, labels = mix.sample(50, 0.3, 7)
    np.testing.assert_array_equal(x, np.array(doc["points"]))
    np.testing.assert_array_equal(labels, np.array(doc["labels"]))


def test_lipschitz_equals_cli(cli):
    mix = flowcert.Mixture.builtin("two-mode-s0.1")
    doc = cli.json("lipschitz", "--mixture", "builtin:two-mode-s0.1", "--times", "0.05,0.5",
                   "--quick", "--seed", "3")
    assert mix.lipschitz([0.05, 0.5], quick=True, seed=3) == doc


@pytest.mark.parametrize("kind", ["balanced", "edm", "logsnr"])
def test_grid_equals_cli(cli, kind):
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    doc = cli.json("grid", "--mixture", "builtin:two-mode-s0.3", "--segments", "5", "--kind", kind,
                   "--t-min", "0.01", "--t-max", "2", "--rho", "5")
    r = flowcert.grid(mix, kind, 5, 0.01, 2.0, rho=5.0)
    assert r == doc
    assert len(r.times) == 6 and len(r["lambda"]) == 6


def test_stability_equals_cli(cli):
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    args = ["--from", "2", "--to", "0.05", "--grid", "uniform", "--segments", "2",
            "--samples", "8", "--separatrix-steps", "10", "--ascent-starts", "1",
            "--ascent-evals", "10", "--seed", "5"]
    doc = cli.json("stability", "--mixture", "builtin:two-mode-s0.3", *args)
    r = flowcert.stability(mix, 2.0, 0.05, grid="uniform", segments=2, samples=8,
                           separatrix_steps=10, ascent_starts=1, ascent_evals=10, seed=5)
    assert r == doc


def test_check_equals_cli(cli):
    doc = cli.json("check", "--seed", "1")
    r = flowcert.check(seed=1)
    assert r == doc
    assert r.violations == 0


def exact_score_model(mix, shift):
    def fn(x, t):
        return mix.score(x, t) + shift
    return fn


def test_assess_score_equals_cli(cli, tmp_path):
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    qdir = tmp_path / "q"
    cli.run("queries", "--mixture", "builtin:two-mode-s0.3", "--out", str(qdir),
            "--samples", "50", "--segments", "3", "--seed", "4")
    q = flowcert.Queries.load(qdir)
    gen = flowcert.Queries.generate(mix, samples=50, segments=3, seed=4)
    np.testing.assert_array_equal(gen.score_queries, q.score_queries)
    np.testing.assert_array_equal(gen.flowmap_queries, q.flowmap_queries)
    model = exact_score_model(mix, np.array([0.05, -0.02]))
    r = flowcert.assess_score(model, mix, queries=qdir, save_baseline=tmp_path / "b.json")
    # The same answers through the CLI's files.
    sq = q.score_queries
    ans = np.vstack([model(sq[i:i + 1, 1:], sq[i, 0]) for i in range(sq.shape[0])])
    np.save(tmp_path / "a.npy", ans)
    doc = cli.json("assess", "score", "--queries", str(qdir), "--answers", str(tmp_path / "a.npy"),
                   "--baseline", str(tmp_path / "b.json"))
    r2 = flowcert.assess_score(model, queries=q, baseline=tmp_path / "b.json")
    for key in ("rows", "sup_l1", "sup_l2", "metrics", "queries", "kind"):
        assert r[key] == doc[key], key
    assert r2["comparison"] == doc["comparison"] and r2.passes is True
    assert r.passes is None  # no baseline given: nothing to pass or fail


def test_assess_flowmap_equals_cli(cli, tmp_path):
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    qdir = tmp_path / "q"
    cli.run("queries", "--mixture", "builtin:two-mode-s0.3", "--out", str(qdir),
            "--samples", "20", "--segments", "2", "--seed", "1", "--grid", "uniform")

    def student(x, t_from, t_to):  # the exact map, nudged
        return flowcert.flow(mix, x, t_from, t_to).y * 1.01

    r = flowcert.assess_flowmap(student, mix, queries=qdir)
    q = flowcert.Queries.load(qdir)
    fq, rq = q.flowmap_queries, q.rollout_queries
    ts = q.manifest["flowmap"]["times"]
    n = q.manifest["flowmap"]["samples_per_segment"]
    ans = np.vstack([student(fq[(i - 1) * n:i * n, 3:], ts[i], ts[i - 1]) for i in range(1, len(ts))])
    y = rq[:, 2:].copy()
    for i in range(len(ts) - 1, 0, -1):
        y = student(y, ts[i], ts[i - 1])
    np.save(tmp_path / "a.npy", ans)
    np.save(tmp_path / "r.npy", y)
    doc = cli.json("assess", "flowmap", "--queries", str(qdir), "--answers", str(tmp_path / "a.npy"),
                   "--rollout", str(tmp_path / "r.npy"))
    assert dict(r) == doc
    assert r.end_to_end["rms"] > 0


def test_check_on_own_mixtures_equals_builtin_rows(cli):
    doc = cli.json("check", "--seed", "2")
    mine = flowcert.check({"mine": flowcert.Mixture.builtin("hetero3")}, seed=2)
    theirs = [r for r in doc["rows"] if r.get("mixture") == "hetero3"]
    assert theirs and len(mine.rows) == len(theirs)
    for a, b in zip(mine.rows, theirs):
        assert {**a, "mixture": "hetero3"} == b
