"""Baseline for README: the PF-ODE teacher solved one trajectory at a time with
scipy's solve_ivp (DOP853), as a researcher would write it in NumPy.

2-D two-mode mixture, sigma0 = 0.1, means (+-1.5, 0), T = 2.5 -> t_min = 0.01, rtol = atol = 1e-10.
Usage: python3 benches/scipy_teacher.py [n_trajectories]
Compare with: flowcert flow --mixture builtin:two-mode-s0.1 --from 2.5 --to 0.01 --points P --method dop853
"""
import sys, time
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
    r = np.exp(logw); r /= r.sum()
    score = -(r[:, None] * diff).sum(0) / s
    return -x - score

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((n, 2))
    t0 = time.perf_counter()
    for x in xs:
        solve_ivp(velocity, (2.5, 0.01), x, method="DOP853", rtol=1e-10, atol=1e-10)
    dt = time.perf_counter() - t0
    print(f"{n} trajectories in {dt:.3f} s: {1e3 * dt / n:.2f} ms per trajectory")

if __name__ == "__main__":
    main()
