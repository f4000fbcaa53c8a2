"""Your model's failures: an exception propagates unchanged; a wrong shape or dtype or a
NaN raises ModelOutputError naming the call and the fix."""

from __future__ import annotations

import numpy as np
import pytest

import flowcert
from flowcert.errors import ModelOutputError

MIX = flowcert.Mixture.builtin("two-mode-s0.3")
SMALL = dict(samples=10, segments=2, times=[0.1, 1.0])


class Boom(Exception):
    pass


def test_exception_propagates():
    def fn(x, t):
        raise Boom("model failed")

    with pytest.raises(Boom, match="model failed"):
        flowcert.assess_score(fn, MIX, **SMALL)


@pytest.mark.parametrize("answer, match", [
    (lambda x, t: x[:, :1], r"returned shape \(10, 1\) .* shape \(10, 2\)"),
    (lambda x, t: x[:-1], r"returned shape \(9, 2\)"),
    (lambda x, t: x.ravel(), r"returned shape \(20,\)"),
    (lambda x, t: x.astype(complex), "returned dtype complex128"),
    (lambda x, t: np.array([["a", "b"]] * len(x)), "returned dtype <U1"),
    (lambda x, t: None, "returned dtype object"),
])
def test_wrong_answers(answer, match):
    with pytest.raises(ModelOutputError, match=match):
        flowcert.assess_score(answer, MIX, **SMALL)


def test_nan_answer_names_the_point():
    def fn(x, t):
        s = MIX.score(x, t)
        if t > 0.5:
            s[3, 1] = np.nan
        return s

    with pytest.raises(ModelOutputError, match=r"fn\(x, t=1.0\) returned \[.*nan\] for point 3"):
        flowcert.assess_score(fn, MIX, **SMALL)


def test_flowmap_callable_failures():
    with pytest.raises(ModelOutputError, match=r"t_from=.* returned shape"):
        flowcert.assess_flowmap(lambda x, a, b: x[:2], MIX, **SMALL)

    def nan_in_rollout(x, a, b):
        y = flowcert.flow(MIX, x, a, b).y
        if len(x) == 10 and b < 0.05:
            y[0, 0] = np.inf
        return y

    with pytest.raises(ModelOutputError, match="inf"):
        flowcert.assess_flowmap(nan_in_rollout, MIX, **SMALL)


def test_float32_and_lists_are_accepted():
    r32 = flowcert.assess_score(lambda x, t: MIX.score(x, t).astype(np.float32), MIX, **SMALL)
    r = flowcert.assess_score(lambda x, t: MIX.score(x, t).tolist(), MIX, **SMALL)
    assert r.sup_l2 == 0.0  # the exact score, to the bit
    assert 0 < r32.sup_l2 < 1e-5  # rounded to float32


def test_mixture_of_queries_must_match(tmp_path):
    q = flowcert.Queries.generate(MIX, **SMALL)
    other = flowcert.Mixture.builtin("two-mode-s0.1")
    with pytest.raises(flowcert.InvalidInputError, match="is not the mixture of the queries"):
        flowcert.assess_score(lambda x, t: x, other, queries=q)


def test_baseline_of_other_kind_is_refused(tmp_path):
    f = flowcert.assess_flowmap(lambda x, a, b: x, MIX, **SMALL)
    with pytest.raises(flowcert.InvalidInputError, match="is a flowmap baseline"):
        flowcert.assess_score(lambda x, t: x, MIX, baseline=f, **SMALL)
