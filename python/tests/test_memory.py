"""Large batches: a C-contiguous float64 input is read in place and the output is the only
allocation (measured with tracemalloc, which sees numpy's allocations); any other layout
costs exactly one copy."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import flowcert

MIX = flowcert.Mixture.builtin("two-mode-s0.1")
SLACK = 1 << 16  # bytes: small Python objects


def peak_during(f):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = f()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak - base


@pytest.fixture(scope="module")
def million():
    return np.random.default_rng(0).normal(size=(1_000_000, 2))


@pytest.mark.parametrize("f", [flowcert.score, flowcert.velocity, flowcert.logp, flowcert.hessian])
def test_million_points_allocate_only_the_output(million, f):
    out, peak = peak_during(lambda: f(MIX, million, 0.5))
    assert out.shape[0] == 1_000_000
    assert out.nbytes <= peak <= out.nbytes + SLACK, (peak, out.nbytes)
    assert not np.shares_memory(out, million)
    assert np.isfinite(out).all()


def test_other_layouts_cost_one_copy(million):
    view = million[:, ::-1]  # not contiguous
    out, peak = peak_during(lambda: flowcert.score(MIX, view, 0.5))
    assert out.nbytes + view.nbytes <= peak <= out.nbytes + view.nbytes + SLACK, peak
    np.testing.assert_array_equal(out, flowcert.score(MIX, np.ascontiguousarray(view), 0.5))


def test_flow_allocates_only_its_outputs():
    x = np.random.default_rng(1).normal(size=(20_000, 2))
    r, peak = peak_during(lambda: flowcert.flow(MIX, x, 1.0, 0.5, jacobian=True, rtol=1e-6, atol=1e-6))
    outputs = r.y.nbytes + r.jacobian.nbytes + r.jacobian_norm.nbytes
    assert r.y.nbytes + r.jacobian.nbytes <= peak <= outputs + SLACK, (peak, outputs)


def test_measurement_sees_a_copy(million):
    # The check above could not pass vacuously: an explicit copy shows up in the peak.
    out, peak = peak_during(lambda: flowcert.score(MIX, million.copy(), 0.5))
    assert peak >= out.nbytes + million.nbytes
