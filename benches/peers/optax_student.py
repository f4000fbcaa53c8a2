"""JAX + optax peer of flowcert's student training (`examples/student_throughput.rs`).

The same model and step as `flowcert::nn::train`: residual MLP Psi(x) = x + f(x), `depth`
hidden layers of `width` SiLU units, He-normal weights, zero biases, Adam (lr 2e-3,
b1 0.9, b2 0.999, eps 1e-8) on the minibatch mean squared error
(1/B) sum_j |Psi(x_j) - y_j|^2, minibatches of `batch` pairs drawn without replacement
from a permutation of 4096 random teacher pairs (x ~ N(0, I_d), y = x + 0.5 sin(x)),
reshuffled each epoch.

The whole run is one jitted `lax.scan` over the steps (no Python dispatch per step, the
fastest way to drive a small model from JAX; `--loop python` times a Python loop over a
jitted step instead, the way most training scripts are written). Compilation and a
warm-up run are excluded from the timing; the timed run starts from fresh parameters.

Threads: `--threads T` pins the process to the first T CPUs (sched_setaffinity) before
JAX starts, and for T = 1 also turns XLA's multi-threaded Eigen off
(`--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`).
`--students K` trains K independent students at once with `jax.vmap` (aggregate
student-steps per second are reported), the fair peer of flowcert training K students
on K cores.

Install: `pip install jax optax` (CPU wheels from PyPI; tested with jax 0.10, optax 0.2.8).
Usage:
    python3 benches/peers/optax_student.py --dim 2 --width 64 --depth 2 --batch 256 \
        --steps 2000 --threads 1 --precision f64
Prints ONE JSON line:
    {"steps_per_s": X, "dim": D, "precision": "f64", "threads": T, "students": K, ...}
"""
import argparse
import json
import os
import sys
import time

DATA = 4096
LR = 2e-3


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--precision", choices=["f64", "f32"], default="f64")
    p.add_argument("--students", type=int, default=1,
                   help="independent students trained at once with jax.vmap")
    p.add_argument("--loop", choices=["scan", "python"], default="scan",
                   help="scan: all steps in one jitted lax.scan; python: a Python loop over a jitted step")
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the median is reported")
    a = p.parse_args()
    for name in ("dim", "width", "depth", "batch", "steps", "threads", "students", "repeats"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be at least 1")
    if a.batch > DATA:
        p.error(f"--batch must be at most {DATA} (the data set size)")
    if a.threads > os.cpu_count():
        p.error(f"--threads {a.threads} exceeds the {os.cpu_count()} CPUs of this machine")
    return a


def main():
    a = parse()
    # Thread control must happen before jax is imported.
    os.sched_setaffinity(0, set(range(a.threads)))
    if a.threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false"
                                   + " intra_op_parallelism_threads=1").strip()
    import jax
    if a.precision == "f64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    dtype = jnp.float64 if a.precision == "f64" else jnp.float32
    d, w, h, b, n = a.dim, a.width, a.depth, a.batch, DATA
    sizes = [d] + [w] * h + [d]

    def init(key):
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            key, sub = jax.random.split(key)
            wl = jax.random.normal(sub, (fan_out, fan_in), dtype) * jnp.sqrt(2.0 / fan_in).astype(dtype)
            params.append((wl, jnp.zeros((fan_out,), dtype)))
        return params

    def apply(params, x):  # x: (B, d), points as rows
        a_ = x
        for wl, bl in params[:-1]:
            a_ = jax.nn.silu(a_ @ wl.T + bl)
        wl, bl = params[-1]
        return x + a_ @ wl.T + bl

    def loss(params, x, y):
        r = apply(params, x) - y
        return jnp.sum(r * r) / x.shape[0]

    opt = optax.adam(LR, b1=0.9, b2=0.999, eps=1e-8)
    steps_per_epoch = n // b

    def student_run(key, x, y, steps):
        params = init(key)
        state = opt.init(params)

        def step(carry, i):
            params, state, key, perm = carry
            j = i % steps_per_epoch
            key, sub = jax.random.split(key)
            perm = jax.lax.cond(j == 0, lambda: jax.random.permutation(sub, n), lambda: perm)
            idx = jax.lax.dynamic_slice(perm, (j * b,), (b,))
            l, g = jax.value_and_grad(loss)(params, x[idx], y[idx])
            upd, state = opt.update(g, state, params)
            return (optax.apply_updates(params, upd), state, key, perm), l

        carry = (params, state, key, jnp.arange(n))
        carry, losses = jax.lax.scan(step, carry, jnp.arange(steps))
        return carry[0], losses[-1]

    key = jax.random.PRNGKey(0)
    kx, kinit = jax.random.split(key)
    x = jax.random.normal(kx, (n, d), dtype)
    y = x + 0.5 * jnp.sin(x)
    keys = jax.random.split(kinit, a.students)

    if a.loop == "scan":
        run = jax.jit(jax.vmap(student_run, in_axes=(0, None, None, None)), static_argnums=3)

        def timed():
            params, last = run(keys, x, y, a.steps)
            jax.block_until_ready((params, last))
            return last
    else:
        def one_step(params, state, xb, yb):
            l, g = jax.value_and_grad(loss)(params, xb, yb)
            upd, state = opt.update(g, state, params)
            return optax.apply_updates(params, upd), state, l

        vstep = jax.jit(jax.vmap(one_step, in_axes=(0, 0, None, None)))
        vinit = jax.jit(jax.vmap(lambda k: (lambda p: (p, opt.init(p)))(init(k))))
        rng = jax.random.PRNGKey(1)

        def timed():
            params, state = vinit(keys)
            l = None
            r = rng
            for i in range(a.steps):
                j = i % steps_per_epoch
                if j == 0:
                    r, sub = jax.random.split(r)
                    perm = jax.random.permutation(sub, n)
                idx = perm[j * b:(j + 1) * b]
                params, state, l = vstep(params, state, x[idx], y[idx])
            jax.block_until_ready((params, l))
            return l

    timed()  # compile and warm up
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        last = timed()
        dt = time.perf_counter() - t0
        rates.append(a.students * a.steps / dt)
    if not bool(jnp.all(jnp.isfinite(last))):
        print("training diverged: the last minibatch loss is not finite", file=sys.stderr)
        sys.exit(1)
    rates.sort()
    print(json.dumps({
        "steps_per_s": rates[len(rates) // 2],
        "dim": d,
        "precision": a.precision,
        "threads": a.threads,
        "students": a.students,
        "width": w,
        "depth": h,
        "batch": b,
        "steps": a.steps,
        "peer": f"jax {jax.__version__} + optax {optax.__version__}, jit, {a.loop}",
    }))


if __name__ == "__main__":
    main()
