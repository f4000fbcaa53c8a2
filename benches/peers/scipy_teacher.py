"""Peer of `flowcert flow --method dop853`: the PF-ODE teacher solved one trajectory at a
time with SciPy's solve_ivp (DOP853), as a researcher would write it in NumPy.

2-D two-mode mixture (builtin:two-mode-s0.1: sigma0 = 0.1, means (+-1.5, 0)),
T = 2.5 -> t_min = 0.01, rtol = atol = 1e-10.

Usage:
    python3 benches/peers/scipy_teacher.py [n_trajectories]          # N(0, I) start points
    python3 benches/peers/scipy_teacher.py --points p.csv --limit 100 [--reference ref.json]

Prints a human-readable line, or with --json ONE JSON line
    {"peer": "scipy", "n", "seconds", "per_trajectory_s", "err_max", "err_median"}.
Compare with: flowcert flow --mixture builtin:two-mode-s0.1 --from 2.5 --to 0.01 --points P --method dop853
Install: pip install numpy scipy
"""
import argparse
import json
import time

from peer_io import load_points

import numpy as np
from scipy.integrate import solve_ivp

MU = np.array([[-1.5, 0.0], [1.5, 0.0]])
W = np.array([0.5, 0.5])
S0 = 0.1 ** 2


def velocity(t, x):
    a = np.exp(-t)
    s = a * a * S0 + (-np.expm1(-2 * t))
    diff = x[None, :] - a * MU
    logw = np.log(W) - 0.5 * (diff ** 2).sum(1) / s
    logw -= logw.max()
    r = np.exp(logw)
    r /= r.sum()
    score = -(r[:, None] * diff).sum(0) / s
    return -x - score


def main():
    p = argparse.ArgumentParser()
    p.add_argument("n", nargs="?", type=int, default=200, help="trajectories from N(0, I) start points")
    p.add_argument("--points", help="start points (CSV or JSON), e.g. from flowcert sample")
    p.add_argument("--limit", type=int, help="use only the first LIMIT points of --points")
    p.add_argument("--reference", help="flowcert flow --json output for the same points")
    p.add_argument("--rtol", type=float, default=1e-10)
    p.add_argument("--atol", type=float, default=1e-10)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.points:
        xs = load_points(a.points)[: a.limit]
    else:
        xs = np.random.default_rng(0).standard_normal((a.n, 2))
    t0 = time.perf_counter()
    ys = np.array([solve_ivp(velocity, (2.5, 0.01), x, method="DOP853",
                             rtol=a.rtol, atol=a.atol).y[:, -1] for x in xs])
    dt = time.perf_counter() - t0
    out = {"peer": "scipy", "solver": "solve_ivp DOP853", "n": len(xs), "rtol": a.rtol,
           "atol": a.atol, "seconds": dt, "per_trajectory_s": dt / len(xs)}
    if a.reference:
        err = np.linalg.norm(ys - load_points(a.reference)[: len(xs)], axis=1)
        out.update(err_max=float(err.max()), err_median=float(np.median(err)))
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{len(xs)} trajectories in {dt:.3f} s: {1e3 * dt / len(xs):.2f} ms per trajectory")


if __name__ == "__main__":
    main()
