"""Throughput of the Python calls against the Rust library, measured in the same process.

    python python/bench/throughput.py [--repeats 7] [--mixtures two-mode-s0.1,aniso8]

For each batch size n >= 10^4 and each of score, velocity and flow it times
  python: the public call (flowcert.score(mix, x, t), ...), conversions and checks included;
  rust:   the library's own batch method on the same points, timed inside Rust
          (Marginal::score_batch / velocity_batch, ExactFlow::map_slice_par), through the
          benchmark-only functions flowcert._flowcert.*_timed;
best of `repeats` each, the two interleaved so that load on a shared machine hits both, and
prints `ratio = rust time / python time` of the bests (1.0: the binding costs nothing; >= 0.9:
within 10%) and the median of the ratios of the back-to-back pairs (steadier under load).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import flowcert
from flowcert import _flowcert as _fc


def best_python(f, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--mixtures", default="two-mode-s0.1,aniso8")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--flow-sizes", default="10000")
    ap.add_argument("--calls", default="score,velocity,flow")
    a = ap.parse_args()
    print(f"{'mixture':<14} {'call':<9} {'n':>7} {'python s':>10} {'rust s':>10} {'ratio':>6} {'median':>6}")
    for name in a.mixtures.split(","):
        mix = flowcert.Mixture.builtin(name)
        raw = mix._m
        rng = np.random.default_rng(0)
        cases = []
        for n in (int(s) for s in a.sizes.split(",")):
            x = rng.normal(size=(n, mix.dim))
            cases.append(("score", n, lambda x=x: flowcert.score(mix, x, 0.5),
                          lambda x=x: _fc.score_timed(raw, x, 0.5, 1)))
            cases.append(("velocity", n, lambda x=x: flowcert.velocity(mix, x, 0.5),
                          lambda x=x: _fc.velocity_timed(raw, x, 0.5, 1)))
        for n in (int(s) for s in a.flow_sizes.split(",")):
            x = rng.normal(size=(n, mix.dim))
            cases.append(("flow", n, lambda x=x: flowcert.flow(mix, x, 1.0, 0.05),
                          lambda x=x: _fc.flow_timed(raw, x, 1.0, 0.05, 1)))
        for call, n, py, rs in cases:
            if call not in a.calls.split(","):
                continue
            py()  # warm-up
            pairs = []
            for k in range(a.repeats):  # interleaved, alternating which goes first
                if k % 2:
                    r = rs()
                    pairs.append((best_python(py, 1), r))
                else:
                    pairs.append((best_python(py, 1), rs()))
            tp, tr = min(p for p, _ in pairs), min(r for _, r in pairs)
            med = float(np.median([r / p for p, r in pairs]))
            print(f"{name:<14} {call:<9} {n:>7} {tp:>10.4g} {tr:>10.4g} {tr / tp:>6.3f} {med:>6.3f}")


if __name__ == "__main__":
    main()
