"""``process=``: every Gaussian path of the library (theory/07-gaussian-paths.md) gives the
command line's numbers with ``--process NAME`` on the same inputs, to the last bit (the same
library code; JSON round-trips float64 exactly), and its errors are the command line's."""

from __future__ import annotations

import numpy as np
import pytest

import flowcert
from conftest import column, write_points
from flowcert.errors import FlowcertError, InvalidInputError

MIXTURE = "hetero3"

# Per path: the CLI flags, the same path as `process=`, and times inside its range.
PATHS = {
    "vp-linear": dict(flags=["--process", "vp-linear"], process="vp-linear",
                      t=0.4, t_from=0.9, t_to=0.05, times=[0.05, 0.5], t_max=0.9),
    "vp-linear(beta_max=10)": dict(
        flags=["--process", "vp-linear", "--beta-max", "10"],
        process={"name": "vp-linear", "beta_max": 10}, t=0.4, t_from=0.9, t_to=0.05,
        times=[0.05, 0.5], t_max=0.9),
    "vp-cosine": dict(flags=["--process", "vp-cosine", "--cosine-s", "0.01"],
                      process={"name": "vp-cosine", "s": 0.01},
                      t=0.4, t_from=0.9, t_to=0.05, times=[0.05, 0.5], t_max=0.9),
    "edm": dict(flags=["--process", "edm", "--sigma-max", "40"],
                process={"name": "edm", "sigma_max": 40.0},
                t=1.5, t_from=20.0, t_to=0.05, times=[0.05, 2.0], t_max=20.0),
    "rectified": dict(flags=["--process", "rectified"], process="rectified",
                      t=0.4, t_from=0.9, t_to=0.05, times=[0.05, 0.5], t_max=0.9),
}
NAMES = list(PATHS)


def points(mix: flowcert.Mixture, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, mix.dim))


@pytest.mark.parametrize("name", NAMES)
def test_eval_equals_cli(cli, tmp_path, name):
    p = PATHS[name]
    mix = flowcert.Mixture.builtin(MIXTURE)
    x = points(mix, 7, 1)
    t = p["t"]
    doc = cli.json("eval", "--mixture", f"builtin:{MIXTURE}", "--t", repr(t),
                   "--points", write_points(tmp_path, x), *p["flags"])
    assert doc["process"] == flowcert.process_info(p["process"])
    pts = doc["points"]
    pr = p["process"]
    np.testing.assert_array_equal(mix.logp(x, t, process=pr), column(pts, "logp"))
    np.testing.assert_array_equal(mix.hessian(x, t, process=pr), column(pts, "hessian"))
    np.testing.assert_array_equal(mix.score(x, t, process=pr), column(pts, "score"))
    np.testing.assert_array_equal(mix.velocity(x, t, process=pr), column(pts, "velocity"))
    # The path is not ignored: OU at the same time gives another velocity.
    assert not np.allclose(mix.velocity(x, t), column(pts, "velocity"))


@pytest.mark.parametrize("name", NAMES)
def test_flow_equals_cli(cli, tmp_path, name):
    p = PATHS[name]
    mix = flowcert.Mixture.builtin(MIXTURE)
    x = points(mix, 12, 3)
    doc = cli.json("flow", "--mixture", f"builtin:{MIXTURE}", "--from", repr(p["t_from"]),
                   "--to", repr(p["t_to"]), "--points", write_points(tmp_path, x),
                   "--jacobian", "--rtol", "1e-9", "--atol", "1e-9", *p["flags"])
    r = flowcert.flow(mix, x, p["t_from"], p["t_to"], jacobian=True, rtol=1e-9, atol=1e-9,
                      process=p["process"])
    pts = doc["points"]
    np.testing.assert_array_equal(r.y, column(pts, "y"))
    np.testing.assert_array_equal(r.jacobian, column(pts, "jacobian"))
    np.testing.assert_array_equal(r.jacobian_norm, column(pts, "jacobian_norm"))
    assert r.stats == doc["stats"]


@pytest.mark.parametrize("name", NAMES)
def test_lipschitz_equals_cli(cli, name):
    p = PATHS[name]
    mix = flowcert.Mixture.builtin("two-mode-s0.1")
    doc = cli.json("lipschitz", "--mixture", "builtin:two-mode-s0.1",
                   "--times", ",".join(map(repr, p["times"])), "--quick", "--seed", "3",
                   *p["flags"])
    r = mix.lipschitz(p["times"], quick=True, seed=3, process=p["process"])
    assert r == doc
    assert r.process == flowcert.process_info(p["process"])


@pytest.mark.parametrize("kind", ["balanced", "uniform", "logsnr", "edm"])
@pytest.mark.parametrize("name", NAMES)
def test_grid_equals_cli(cli, name, kind):
    p = PATHS[name]
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    doc = cli.json("grid", "--mixture", "builtin:two-mode-s0.3", "--segments", "5",
                   "--kind", kind, "--t-min", "0.01", "--t-max", repr(p["t_max"]), "--rho", "5",
                   *p["flags"])
    r = flowcert.grid(mix, kind, 5, 0.01, p["t_max"], rho=5.0, process=p["process"])
    assert r == doc
    assert len(r.times) == 6


def test_grids_differ_between_paths():
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    ou = flowcert.grid(mix, "logsnr", 5, 0.01, 0.9)
    rf = flowcert.grid(mix, "logsnr", 5, 0.01, 0.9, process="rectified")
    assert ou.times != rf.times and ou.process == {"name": "ou"}


@pytest.mark.parametrize("name", ["rectified", "edm"])
def test_stability_equals_cli(cli, name):
    p = PATHS[name]
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    args = ["--from", repr(p["t_from"]), "--to", "0.05", "--grid", "uniform", "--segments", "2",
            "--samples", "8", "--separatrix-steps", "10", "--ascent-starts", "1",
            "--ascent-evals", "10", "--seed", "5"]
    doc = cli.json("stability", "--mixture", "builtin:two-mode-s0.3", *args, *p["flags"])
    r = flowcert.stability(mix, p["t_from"], 0.05, grid="uniform", segments=2, samples=8,
                           separatrix_steps=10, ascent_starts=1, ascent_evals=10, seed=5,
                           process=p["process"])
    assert r == doc


def test_sample_equals_cli_at_the_end_of_the_path(cli):
    # rectified t = 1: alpha = 0, the samples are N(0, I) (exact at the closed end).
    mix = flowcert.Mixture.builtin("ring8")
    doc = cli.json("sample", "--mixture", "builtin:ring8", "--t", "1", "--n", "40", "--seed", "7",
                   "--process", "rectified")
    x, labels = mix.sample(40, 1.0, 7, process="rectified")
    np.testing.assert_array_equal(x, np.array(doc["points"]))
    np.testing.assert_array_equal(labels, np.array(doc["labels"]))


def test_report_process_field_round_trips():
    mix = flowcert.Mixture.builtin("two-mode-s0.1")
    r = flowcert.grid(mix, "uniform", 2, 0.01, 0.5, process={"name": "vp-linear", "beta_max": 10})
    assert r.process == {"name": "vp-linear", "beta_min": 0.1, "beta_max": 10.0}
    x = np.array([[0.2, -0.1]])
    np.testing.assert_array_equal(flowcert.score(mix, x, 0.3, process=r.process),
                                  flowcert.score(mix, x, 0.3, process={"name": "vp-linear",
                                                                       "beta_max": 10}))
    assert flowcert.process_info({"name": "edm", "sigma_min": None}) == flowcert.process_info("edm")


def test_queries_carry_the_path():
    mix = flowcert.Mixture.builtin("two-mode-s0.1")
    q = flowcert.Queries.generate(mix, times=[0.2, 0.6], samples=20, segments=2, t_max=0.9,
                                  process="rectified")
    a = flowcert.assess_score(lambda x, t: flowcert.score(mix, x, t, process="rectified"),
                              queries=q)
    assert a.sup_l2 < 1e-12
    b = flowcert.assess_score(lambda x, t: flowcert.score(mix, x, t), queries=q)
    assert b.sup_l2 > 1e-3


# Errors: the command line's message, with its flag names replaced by the Python argument.
BAD_TIMES = [
    ("rectified", 1.0), ("rectified", 0.0), ("vp-linear", 1.5), ("edm", 0.001), ("edm", 100.0),
]


@pytest.mark.parametrize("name,t", BAD_TIMES)
def test_time_outside_the_path(cli, tmp_path, name, t):
    mix = flowcert.Mixture.builtin(MIXTURE)
    x = points(mix, 2, 4)
    msg = cli.error("eval", "--mixture", f"builtin:{MIXTURE}", "--t", repr(t),
                    "--points", write_points(tmp_path, x), "--process", name)
    assert msg.startswith("--t = ")
    with pytest.raises(InvalidInputError) as e:
        flowcert.score(mix, x, t, process=name)
    assert isinstance(e.value, FlowcertError)
    assert str(e.value) == "t = " + msg[len("--t = "):]
    msg = cli.error("flow", "--mixture", f"builtin:{MIXTURE}", "--from", repr(t), "--to", "0.5",
                    "--points", write_points(tmp_path, x), "--process", name)
    with pytest.raises(InvalidInputError) as e:
        flowcert.flow(mix, x, t, 0.5, process=name)
    assert str(e.value) == "t_from = " + msg[len("--from = "):]


@pytest.mark.parametrize("flags,process", [
    (["--process", "ve"], "ve"),
    (["--process", "ou", "--beta-min", "0.5"], {"name": "ou", "beta_min": 0.5}),
    (["--process", "vp-linear", "--beta-max", "-1"], {"name": "vp-linear", "beta_max": -1}),
    (["--process", "edm", "--sigma-min", "5", "--sigma-max", "2"],
     {"name": "edm", "sigma_min": 5, "sigma_max": 2}),
    (["--process", "vp-cosine", "--cosine-s", "2"], {"name": "vp-cosine", "cosine_s": 2}),
])
def test_bad_process_has_the_cli_message(cli, tmp_path, flags, process):
    mix = flowcert.Mixture.builtin(MIXTURE)
    x = points(mix, 2, 5)
    msg = cli.error("eval", "--mixture", f"builtin:{MIXTURE}", "--t", "0.5",
                    "--points", write_points(tmp_path, x), *flags)
    for call in (lambda: flowcert.score(mix, x, 0.5, process=process),
                 lambda: flowcert.lipschitz(mix, [0.5], quick=True, process=process),
                 lambda: flowcert.process_info(process)):
        with pytest.raises(InvalidInputError) as e:
            call()
        assert str(e.value) == msg


def test_check_on_a_path_equals_cli(cli):
    # flowcert check --process: the suite's OU times mapped to the path's (theory/07).
    mix = flowcert.Mixture.builtin("two-mode-s0.3")
    doc = cli.json("check", "--mixture", "builtin:two-mode-s0.3", "--process", "rectified",
                   "--seed", "3")
    r = flowcert.check({"two-mode-s0.3": mix}, seed=3, process="rectified")
    assert r == doc
    assert r.process["name"] == "rectified" and r.violations == 0
    score = [row for row in r.rows if row["checker"] == "score-net"]
    # the score-net row runs on the path through the exact OU transfer (theory/07, Corollary 6a)
    assert score and score[0]["checked"] > 0 and score[0]["violations"] == 0
    assert "not run" not in score[0]["note"]


@pytest.mark.parametrize("name", ["rectified", "edm"])
def test_distill_equals_cli(cli, name):
    p = PATHS[name]
    t_max = 0.9 if name == "rectified" else 20.0
    doc = cli.json("distill", "--mixture", "builtin:two-mode-s0.3", "--segments", "1,2",
                   "--grids", "uniform,balanced", "--seeds", "1", "--width", "8", "--depth", "1",
                   "--steps", "20", "--samples", "64", "--batch", "32", "--eval-samples", "64",
                   "--t-min", "0.01", "--t-max", repr(t_max), *p["flags"])  # --seeds 1: one seed, 0
    rows = flowcert.distill(flowcert.Mixture.builtin("two-mode-s0.3"), segments=[1, 2],
                            grids=["uniform", "balanced"], seeds=[0], width=8, depth=1, steps=20,
                            samples=64, batch=32, eval_samples=64, t_min=0.01, t_max=t_max,
                            name="two-mode-s0.3", as_frame=False, process=p["process"])
    assert rows == doc["rows"]
    assert rows[0]["times"][-1] == t_max
