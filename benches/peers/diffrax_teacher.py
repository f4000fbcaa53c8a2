"""Peer of `flowcert flow --method dop853`: the PF-ODE teacher in JAX + diffrax.

The probability-flow ODE of a Gaussian-mixture OU model (theory/01-model.md),

    v(x, t) = -x - s(x, t),   s = sum_k r_k(x, t) (-S_k(t)^{-1} (x - alpha_t mu_k)),
    S_k(t) = alpha_t^2 Sigma_k + sigma_t^2 I,   alpha_t = e^{-t},   sigma_t^2 = -expm1(-2t),

solved from T down to t_min with diffrax's Dopri8 and a PIDController at rtol/atol, in f64,
jit-compiled and vmapped over the trajectories (the way a JAX user batches a teacher).

Prints ONE JSON line:
    {"peer": "diffrax", "n", "rtol", "atol", "seconds" (median of --reps compiled calls,
     compile excluded), "seconds_all" (every call), "compile_and_first_s" (jit compile +
     first call), "steps_max", "steps_mean", "err_max", "err_median" (Euclidean error per
     trajectory against --reference, when given), "threads", "devices"}

Usage (points from `flowcert sample ... --out p.csv`, reference from
`flowcert flow ... --json --rtol 1e-13 --atol 1e-13 --method dop853 > ref.json`):

    python3 benches/peers/diffrax_teacher.py --points p.csv [--reference ref.json] \
        [--mixture builtin:two-mode-s0.1 | FILE.json] [--from 2.5 --to 0.01] \
        [--rtol 1e-10 --atol 1e-10] [--reps 5] [--threads N] [--out ends.csv]

Install: pip install jax diffrax   (CPU wheels; f64 is switched on below).
"""
import argparse
import json
import os
import sys
import time

from peer_io import load_points


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", required=True, help="CSV (optional header) or JSON array of points")
    p.add_argument("--reference", help="flowcert flow --json output (or CSV/JSON points) to compare with")
    p.add_argument("--mixture", default="builtin:two-mode-s0.1",
                   help="mixture JSON file of the CLI contract, or builtin:two-mode-s0.1")
    p.add_argument("--from", dest="t0", type=float, default=2.5)
    p.add_argument("--to", dest="t1", type=float, default=0.01)
    p.add_argument("--rtol", type=float, default=1e-10)
    p.add_argument("--atol", type=float, default=1e-10)
    p.add_argument("--reps", type=int, default=5, help="timed compiled calls (median reported)")
    p.add_argument("--max-steps", type=int, default=100_000)
    p.add_argument("--out", help="also write the end points, one per row, to this CSV file")
    p.add_argument("--threads", type=int, default=0,
                   help="run on the first N cores only (CPU affinity; 0: every core)")
    return p.parse_args()


def load_mixture(spec):
    if spec == "builtin:two-mode-s0.1":
        s2 = 0.1 ** 2
        return {"weights": [0.5, 0.5], "means": [[-1.5, 0.0], [1.5, 0.0]],
                "covariances": [[[s2, 0.0], [0.0, s2]], [[s2, 0.0], [0.0, s2]]]}
    if spec.startswith("builtin:"):
        sys.exit(f"--mixture {spec}: only builtin:two-mode-s0.1 is known here; pass a JSON file")
    with open(spec) as f:
        return json.load(f)


def main():
    a = parse_args()
    if a.threads > 0:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: a.threads])
    import numpy as np
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import diffrax

    mix = load_mixture(a.mixture)
    w = np.asarray(mix["weights"], dtype=np.float64)
    mu = np.asarray(mix["means"], dtype=np.float64)            # K x d
    cov = np.asarray(mix["covariances"], dtype=np.float64)     # K x d x d
    lam, q = np.linalg.eigh(0.5 * (cov + np.swapaxes(cov, 1, 2)))
    lam = np.maximum(lam, 0.0)                                 # K x d, K x d x d
    mu_rot = np.einsum("kji,kj->ki", q, mu)                    # Q_k^T mu_k
    logw, lam_j, q_j, mu_rot_j = map(jnp.asarray, (np.log(w), lam, q, mu_rot))

    def velocity(t, x, args):
        alpha = jnp.exp(-t)
        a2, s2 = jnp.exp(-2.0 * t), -jnp.expm1(-2.0 * t)
        s = a2 * lam_j + s2                                    # K x d eigenvalues of S_k
        z = jnp.einsum("kij,i->kj", q_j, x) - alpha * mu_rot_j  # Q_k^T (x - alpha mu_k)
        u = z / s
        lw = logw - 0.5 * jnp.sum(jnp.log(s), axis=1) - 0.5 * jnp.sum(z * u, axis=1)
        r = jax.nn.softmax(lw)
        score = -jnp.einsum("k,kij,kj->i", r, q_j, u)
        return -x - score

    term = diffrax.ODETerm(velocity)
    solver = diffrax.Dopri8()
    ctrl = diffrax.PIDController(rtol=a.rtol, atol=a.atol)

    def solve_one(x0):
        sol = diffrax.diffeqsolve(term, solver, t0=a.t0, t1=a.t1, dt0=None, y0=x0,
                                  stepsize_controller=ctrl, max_steps=a.max_steps,
                                  saveat=diffrax.SaveAt(t1=True))
        return sol.ys[-1], sol.stats["num_accepted_steps"]

    solve = jax.jit(jax.vmap(solve_one))
    xs = jnp.asarray(load_points(a.points))
    t = time.perf_counter()
    ys, steps = solve(xs)
    ys.block_until_ready()
    compile_first = time.perf_counter() - t
    times, cpu = [], []
    for _ in range(a.reps):
        t, c = time.perf_counter(), time.process_time()
        ys, steps = solve(xs)
        ys.block_until_ready()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)  # every thread of the process (XLA's pool too)
    ys = np.asarray(ys)
    steps = np.asarray(steps)
    out = {"peer": "diffrax", "solver": "Dopri8+PIDController", "n": int(xs.shape[0]),
           "rtol": a.rtol, "atol": a.atol, "seconds": float(np.median(times)),
           "seconds_all": times,
           "cpu_seconds": float(np.median(cpu)), "cpu_seconds_all": cpu, "compile_and_first_s": compile_first,
           "steps_max": int(steps.max()), "steps_mean": float(steps.mean()),
           "threads": len(os.sched_getaffinity(0)), "devices": str(jax.devices()),
           "versions": {"jax": jax.__version__, "diffrax": diffrax.__version__}}
    if a.out:
        np.savetxt(a.out, ys, delimiter=",", fmt="%.17g")
    if a.reference:
        ref = load_points(a.reference)
        if ref.shape != ys.shape:
            sys.exit(f"--reference has shape {ref.shape} but the solution has {ys.shape}")
        err = np.linalg.norm(ys - ref, axis=1)
        out["err_max"] = float(err.max())
        out["err_median"] = float(np.median(err))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
