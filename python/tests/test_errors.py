"""Bad input raises a flowcert.errors exception (never a crash of the interpreter), with
the command line's message where the command line has the same input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flowcert
from flowcert.errors import ComputationError, FlowcertError, InvalidInputError

MIX = flowcert.Mixture.builtin("two-mode-s0.1")
GOOD = np.zeros((3, 2))


def test_hierarchy():
    assert issubclass(InvalidInputError, ValueError) and issubclass(InvalidInputError, FlowcertError)
    assert issubclass(ComputationError, RuntimeError) and issubclass(ComputationError, FlowcertError)
    assert issubclass(flowcert.ModelOutputError, InvalidInputError)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("f", [flowcert.logp, flowcert.score, flowcert.velocity, flowcert.hessian])
def test_non_finite_points(f, bad):
    x = GOOD.copy()
    x[2, 1] = bad
    with pytest.raises(InvalidInputError, match=r"x\[2\]\[1\] is (NaN|inf|-inf): every number must be finite"):
        f(MIX, x, 0.5)


def test_non_finite_points_in_flow():
    x = GOOD.copy()
    x[1, 0] = np.nan
    with pytest.raises(InvalidInputError, match=r"x\[1\]\[0\] is NaN"):
        flowcert.flow(MIX, x, 1.0, 0.1)


@pytest.mark.parametrize("shape", [(3, 3), (3, 1), (2, 2, 2), ()])
def test_wrong_shapes(shape):
    with pytest.raises(InvalidInputError, match="shape"):
        flowcert.score(MIX, np.zeros(shape), 0.5)


def test_wrong_dtype_and_ragged():
    with pytest.raises(InvalidInputError, match="dtype"):
        flowcert.score(MIX, np.array([["a", "b"]]), 0.5)
    with pytest.raises(InvalidInputError):
        flowcert.score(MIX, [[1.0, 2.0], [3.0]], 0.5)


def test_other_layouts_are_read_correctly():
    x = np.asfortranarray(np.random.default_rng(0).normal(size=(5, 2)))
    np.testing.assert_array_equal(flowcert.score(MIX, x, 0.5), flowcert.score(MIX, np.ascontiguousarray(x), 0.5))
    np.testing.assert_array_equal(flowcert.score(MIX, x[::2], 0.5), flowcert.score(MIX, x[::2].copy(), 0.5))
    xi = np.array([[1, 0], [0, 1]])
    np.testing.assert_array_equal(flowcert.score(MIX, xi, 0.5), flowcert.score(MIX, xi.astype(float), 0.5))
    np.testing.assert_array_equal(flowcert.score(MIX, x[0], 0.5), flowcert.score(MIX, x[:1], 0.5)[0])


@pytest.mark.parametrize("t", [0.0, -1.0, np.nan, np.inf])
def test_time_out_of_range(t):
    with pytest.raises(InvalidInputError, match="t = .* is not a valid|not a valid OU time|t ="):
        flowcert.score(MIX, GOOD, t)
    with pytest.raises(InvalidInputError, match="t_to .* is not a valid OU time"):
        flowcert.flow(MIX, GOOD, 1.0, t)


def test_time_messages_equal_cli(cli, tmp_path):
    p = tmp_path / "p.json"
    p.write_text("[[0, 0]]")
    msg = cli.error("eval", "--mixture", "builtin:two-mode-s0.1", "--t", "-1", "--points", str(p))
    with pytest.raises(InvalidInputError) as e:
        flowcert.score(MIX, GOOD, -1.0)
    # eval checks --t in the binary (`--t -1 ...`); the library names the field `t`
    assert str(e.value).endswith(msg.split(" ", 2)[2]) or "t" in str(e.value)


def write_mixture(tmp_path, spec):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(spec))
    return str(p)


BAD_MIXTURES = {
    "non_psd": {"weights": [1.0], "means": [[0.0, 0.0]], "covariances": [[[1.0, 2.0], [2.0, 1.0]]]},
    "asymmetric": {"weights": [1.0], "means": [[0.0, 0.0]], "covariances": [[[1.0, 0.5], [0.0, 1.0]]]},
    "weights": {"weights": [0.5, 0.6], "means": [[0.0], [1.0]], "covariances": [[[1.0]], [[1.0]]]},
    "dims": {"weights": [1.0], "means": [[0.0, 0.0]], "covariances": [[[1.0]]]},
    "negative": {"weights": [1.5, -0.5], "means": [[0.0], [1.0]], "covariances": [[[1.0]], [[1.0]]]},
}


@pytest.mark.parametrize("case", sorted(BAD_MIXTURES))
def test_bad_mixture_messages_equal_cli(cli, tmp_path, case):
    spec = BAD_MIXTURES[case]
    path = write_mixture(tmp_path, spec)
    msg = cli.error("sample", "--mixture", path, "--n", "1")
    with pytest.raises(InvalidInputError) as e:
        flowcert.Mixture.from_json(path)
    assert str(e.value) == msg
    with pytest.raises(InvalidInputError) as e2:
        flowcert.Mixture(spec["weights"], spec["means"], spec["covariances"])
    # the in-memory constructor has no file: the model's message, which the CLI quotes
    assert str(e2.value) in msg


def test_nan_in_mixture_and_unknown_builtin(cli):
    with pytest.raises(InvalidInputError, match="finite"):
        flowcert.Mixture([1.0], [[np.nan]], [[[1.0]]])
    msg = cli.error("sample", "--mixture", "builtin:nope", "--n", "1")
    with pytest.raises(InvalidInputError) as e:
        flowcert.Mixture.builtin("nope")
    assert str(e.value) == msg
    with pytest.raises(InvalidInputError, match="weights must be"):
        flowcert.Mixture("abc", [[0.0]], [[[1.0]]])


def test_settings():
    with pytest.raises(InvalidInputError, match="method 'rk4'"):
        flowcert.flow(MIX, GOOD, 1.0, 0.1, method="rk4")
    with pytest.raises(InvalidInputError, match="rtol"):
        flowcert.flow(MIX, GOOD, 1.0, 0.1, rtol=-1.0)
    with pytest.raises(InvalidInputError, match="kind|grid"):
        flowcert.grid(MIX, "nope", 4, 0.01, 1.0)
    with pytest.raises(InvalidInputError, match="t_to 2 must be smaller than t_from 1"):
        flowcert.stability(MIX, 1.0, 2.0)
    with pytest.raises(InvalidInputError, match="times entry 2 is 0"):
        flowcert.lipschitz(MIX, [0.1, 0.0])
    with pytest.raises(InvalidInputError, match="n 0 asks for no samples"):
        flowcert.sample(MIX, 0)
    with pytest.raises(InvalidInputError, match="unknown scale"):
        flowcert.check(scale="huge")
    with pytest.raises(InvalidInputError, match="exceed the limit"):
        flowcert.sample(MIX, 2**40)


@pytest.mark.parametrize("call", [
    lambda p: flowcert.score(MIX, GOOD, 0.5, process=p),
    lambda p: flowcert.flow(MIX, GOOD, 1.0, 0.1, process=p),
    lambda p: flowcert.sample(MIX, 3, process=p),
    lambda p: flowcert.grid(MIX, "uniform", 2, 0.01, 1.0, process=p),
    lambda p: flowcert.lipschitz(MIX, [0.1], quick=True, process=p),
    lambda p: flowcert.stability(MIX, 1.0, 0.1, process=p),
    lambda p: flowcert.check(scale="tiny", process=p),
    lambda p: flowcert.Queries.generate(MIX, process=p),
    lambda p: flowcert.distill(MIX, process=p),
])
def test_process(call):
    with pytest.raises(InvalidInputError, match="unknown process 've': the built-in paths are "
                       "ou, vp-linear, vp-cosine, edm, rectified"):
        call("ve")
    with pytest.raises(InvalidInputError, match="--sigma-max 1 applies to --process edm only"):
        call({"name": "ou", "sigma_max": 1})
    with pytest.raises(InvalidInputError, match="process key 'beta' is not known"):
        call({"name": "vp-linear", "beta": 1})
    with pytest.raises(InvalidInputError, match="process must be a name"):
        call(3)
    assert flowcert.PROCESSES == ("ou", "vp-linear", "vp-cosine", "edm", "rectified")


def test_process_ou_is_the_default():
    x = np.array([[0.3, -0.1]])
    np.testing.assert_array_equal(flowcert.score(MIX, x, 0.5, process="ou"), flowcert.score(MIX, x, 0.5))
