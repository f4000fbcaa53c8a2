"""flowcert: the exact Gaussian-mixture OU model and the checks of flow-map distillation
theory, from numpy (bindings of the flowcert Rust crate).

In a Gaussian-mixture Ornstein-Uhlenbeck model the score, its Hessian, the probability-flow
ODE (PF-ODE) and its flow maps are exact, so a score network or a few-step student can be
measured against the truth. Times are OU times: ``t = 0`` is data, ``alpha_t = exp(-t)``,
``sigma_t^2 = 1 - exp(-2t)``; sampling runs the PF-ODE from ``T`` down to ``t_min > 0``.

Batches of points are ``(n, d)`` float64 arrays (one point per row); a C-contiguous float64
array is read in place and every output is allocated once. The computations release the GIL.
Reports come back as the dicts the command line prints with ``--json``, with attribute
access (``report.rows``). Errors are :mod:`flowcert.errors` exceptions with the command
line's messages.

>>> import numpy as np, flowcert
>>> mix = flowcert.Mixture.builtin("two-mode-s0.1")
>>> x = np.array([[0.1, 0.0], [-0.2, 0.3]])
>>> flowcert.flow(mix, x, 2.0, 0.01).y.shape
(2, 2)

Every call takes ``process=``: the Gaussian path ``x_t = alpha_t x_0 + sigma_t z`` that noises
the mixture (theory/07-gaussian-paths.md), as ``--process`` of the command line. Give a name
from :data:`PROCESSES` (``"ou"``, the default; ``"vp-linear"``, ``"vp-cosine"``, ``"edm"``,
``"rectified"``) or a dict of the name and its parameters, the shape of the ``process`` field
of every report::

    flowcert.score(mix, x, 0.5, process="rectified")
    flowcert.score(mix, x, 0.5, process={"name": "vp-linear", "beta_min": 0.1, "beta_max": 10})
    flowcert.score(mix, x, 2.0, process={"name": "edm", "sigma_max": 40})

Parameters: ``beta_min``/``beta_max`` (vp-linear, defaults 0.1 and 20), ``cosine_s`` (or
``s``; vp-cosine, default 0.008), ``sigma_min``/``sigma_max`` (edm, defaults 0.002 and 80);
``None`` means the default. Times are then times of that path (e.g. ``(0, 1)`` for
rectified, ``[0.002, 80]`` for edm); the errors are the command line's (they name
``--process``, ``--beta-min``, ...). :func:`process_info` validates a path and returns its
name and parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _flowcert as _fc
from .errors import ComputationError, FlowcertError, InvalidInputError, ModelOutputError

__all__ = [
    "Mixture", "Queries", "FlowResult", "Report", "Assessment",
    "logp", "score", "hessian", "velocity", "sample", "flow",
    "lipschitz", "grid", "stability", "check",
    "assess_score", "assess_flowmap", "distill",
    "FlowcertError", "InvalidInputError", "ModelOutputError", "ComputationError",
    "PROCESSES", "BUILTINS", "GRID_KINDS", "ProcessArg", "process_info",
]

__version__ = "0.1.0"

#: The Gaussian paths this build knows (the ``process=`` argument).
PROCESSES: Tuple[str, ...] = tuple(_fc.PROCESSES)
#: Names accepted by :meth:`Mixture.builtin`.
BUILTINS: Tuple[str, ...] = (
    "two-mode-s0.05", "two-mode-s0.1", "two-mode-s0.3", "ring8", "aniso8", "hetero3",
)
#: Grid kinds of :func:`grid`, :func:`stability`, :func:`distill` and the queries.
GRID_KINDS: Tuple[str, ...] = (
    "uniform", "balanced", "balanced-paper", "balanced-one-sided", "logsnr", "edm",
)

PathLike = Union[str, "os.PathLike[str]"]
#: A Gaussian path (``process=``): a name from :data:`PROCESSES` or a dict of ``name`` and
#: parameters, e.g. ``{"name": "vp-linear", "beta_max": 10}``.
ProcessArg = Union[str, Mapping[str, Any]]


# --------------------------------------------------------------------------------------
# Results


class Report(dict):
    """A command's ``--json`` document: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> Iterable[str]:  # pragma: no cover - interactive help
        return list(super().__dir__()) + list(self.keys())


class Assessment(Report):
    """The document of ``flowcert assess score|flowmap --json`` for your model.

    ``passes`` is ``True`` when a baseline was given and no metric regressed beyond the
    tolerance, ``False`` when one did, and ``None`` without a baseline (nothing to compare
    with: look at the metrics themselves, e.g. ``a.sup_l2 < 0.1``).
    """

    @property
    def passes(self) -> Optional[bool]:
        cmp = self.get("comparison")
        if cmp is None:
            return None
        return cmp["regressions"] == 0

    @property
    def regressions(self) -> int:
        """Metrics that regressed against the baseline (0 without one)."""
        cmp = self.get("comparison")
        return 0 if cmp is None else int(cmp["regressions"])


@dataclass(frozen=True)
class FlowResult:
    """The exact flow map of a batch of points.

    Attributes:
        y: ``Phi_{t_from -> t_to}(x)``, shape ``(n, d)``.
        jacobian: ``DPhi`` from the variational equation, shape ``(n, d, d)`` (row-major:
            ``jacobian[k, i, j] = d y_i / d x_j``), or ``None`` without ``jacobian=True``.
        jacobian_norm: its spectral norm per point, the local Lipschitz constant, shape
            ``(n,)``, or ``None``.
        stats: solver work: ``rhs_evals``, ``steps``, ``rejected``.
    """

    y: np.ndarray
    jacobian: Optional[np.ndarray]
    jacobian_norm: Optional[np.ndarray]
    stats: Dict[str, int]


# --------------------------------------------------------------------------------------
# Inputs


def _process(process: Any) -> Any:
    """``process=`` as the extension takes it: a name or a plain dict (checked there)."""
    if isinstance(process, Mapping) and not isinstance(process, dict):
        return dict(process)
    return process


def process_info(process: ProcessArg = "ou") -> Dict[str, Any]:
    """Validate a Gaussian path and return its name and parameters (defaults filled in),
    the ``process`` field of the reports.

    >>> flowcert.process_info("vp-linear")
    {'name': 'vp-linear', 'beta_min': 0.1, 'beta_max': 20.0}

    Raises:
        InvalidInputError: an unknown name, a parameter the path does not have or out of
            its range (the command line's message, naming ``--process``/``--beta-min``...).
    """
    return _fc.check_process(_process(process))


def _points(x: Any, name: str = "x") -> Tuple[np.ndarray, bool]:
    """``x`` as a C-contiguous float64 ``(n, d)`` array (no copy when it already is one),
    and whether it was one point of shape ``(d,)``."""
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise InvalidInputError(f"{name} is not an array of numbers ({e}): pass an (n, d) array") from e
    if a.dtype.kind not in "fiu":
        raise InvalidInputError(
            f"{name} has dtype {a.dtype}: pass real numbers (float64), shape (n, d)"
        )
    single = a.ndim == 1
    if single:
        a = a[None, :]
    if a.ndim != 2:
        raise InvalidInputError(
            f"{name} has shape {a.shape}: pass an array of shape (n, d), one point per row, "
            f"or (d,) for one point"
        )
    if a.dtype != np.float64 or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.float64)
    return a, single


def _time(name: str, t: Any) -> float:
    try:
        return float(t)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"{name} must be a number (a time of the path), got {t!r}") from e


def _raw(mixture: Any) -> Any:
    if isinstance(mixture, Mixture):
        return mixture._m
    if isinstance(mixture, _fc.Mixture):
        return mixture
    if isinstance(mixture, str):
        return _fc.Mixture.from_json(mixture)
    raise InvalidInputError(
        f"mixture must be a flowcert.Mixture (or a mixture file path / 'builtin:NAME'), "
        f"got {type(mixture).__name__}"
    )


def _doc_from(f: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(g: Callable[..., Any]) -> Callable[..., Any]:
        g.__doc__ = f"Same as :func:`flowcert.{f.__name__}` with this mixture.\n\n{f.__doc__}"
        return g

    return wrap


# --------------------------------------------------------------------------------------
# The exact model


def logp(mixture: Mixture, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
    """``log p_t(x)`` of the OU marginal at each point (theory/01-model.md).

    Args:
        mixture: the data law.
        x: points, shape ``(n, d)`` (or ``(d,)`` for one point).
        t: a time of the path (OU: ``> 0``; rectified: in ``(0, 1)``; ...).
        process: the Gaussian path: a name or ``{"name": ..., params}`` (see the module).

    Returns:
        shape ``(n,)`` (a float for one point).

    Raises:
        InvalidInputError: wrong shape, NaN/inf in ``x``, ``t`` outside the path's times,
            a bad ``process``.
    """
    a, single = _points(x)
    out = _fc.logp(_raw(mixture), a, _time("t", t), _process(process))
    return float(out[0]) if single else out


def score(mixture: Mixture, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
    """The score ``grad_x log p_t(x)`` at each point, shape ``(n, d)``.

    Computed as the library's ``Marginal::score_into`` (stable log-sum-exp over the
    components). Raises :class:`InvalidInputError` for a wrong shape, NaN/inf in ``x`` or
    ``t`` outside the path's times.
    """
    a, single = _points(x)
    out = _fc.score(_raw(mixture), a, _time("t", t), _process(process))
    return out[0] if single else out


def velocity(mixture: Mixture, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
    """The PF-ODE velocity at each point, shape ``(n, d)``: on OU ``v(x, t) = -x - score(x, t)``,
    on a general path ``v = f_t x - (g_t^2 / 2) score(x, t)`` (theory/07-gaussian-paths.md).

    ``dx/dt = v`` runs the probability-flow ODE forward in time (towards noise); sampling
    integrates it backwards from ``T`` to ``t_min``.
    """
    a, single = _points(x)
    out = _fc.velocity(_raw(mixture), a, _time("t", t), _process(process))
    return out[0] if single else out


def hessian(mixture: Mixture, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
    """The Hessian of ``log p_t`` at each point, shape ``(n, d, d)`` (symmetric).

    The Jacobian of the velocity is ``f_t I - (g_t^2 / 2) hessian`` (OU: ``-I - hessian``).
    """
    a, single = _points(x)
    out = _fc.hessian(_raw(mixture), a, _time("t", t), _process(process))
    return out[0] if single else out


def sample(
    mixture: Mixture, n: int, t: float = 0.0, seed: int = 0, *, process: ProcessArg = "ou"
) -> Tuple[np.ndarray, np.ndarray]:
    """``n`` exact samples of ``p_t`` (``t = 0``: the data law), as ``flowcert sample``.
    On another path ``t`` may be any time of its closed range (rectified ``t = 1``:
    ``N(0, I)``).

    Returns:
        ``(points, labels)``: shape ``(n, d)`` and the mixture component of each, ``(n,)``.
        The same seed gives the same points as ``flowcert sample --seed``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InvalidInputError(f"n must be a whole number >= 1, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a whole number >= 0, got {seed!r}")
    return _fc.sample(_raw(mixture), int(n), _time("t", t), int(seed), _process(process))


def flow(
    mixture: Mixture,
    x: Any,
    t_from: float,
    t_to: float,
    *,
    jacobian: bool = False,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    method: str = "dopri5",
    process: ProcessArg = "ou",
) -> FlowResult:
    """The exact flow map ``Phi_{t_from -> t_to}`` of the PF-ODE at each point.

    As ``flowcert flow``: an adaptive Runge-Kutta solve per point (in parallel over blocks
    of points, results in input order, independent of the number of threads), the GIL
    released throughout. ``t_to < t_from`` is the sampling direction.

    Args:
        mixture: the data law.
        x: start points at time ``t_from``, shape ``(n, d)`` (or ``(d,)``).
        t_from: start time (a time of the path; OU: ``> 0``).
        t_to: end time (a time of the path; OU: ``> 0``).
        jacobian: also integrate the variational equation: ``DPhi`` and its spectral norm.
        rtol: relative tolerance of the solver.
        atol: absolute tolerance of the solver.
        method: ``"dopri5"`` (Dormand-Prince 5(4)) or ``"dop853"`` (8(5,3)).
        process: the Gaussian path: a name or ``{"name": ..., params}`` (see the module).

    Returns:
        :class:`FlowResult` with ``y`` ``(n, d)``, ``jacobian`` ``(n, d, d)`` or None,
        ``jacobian_norm`` ``(n,)`` or None, and the solver ``stats``.

    Raises:
        InvalidInputError: wrong shape, NaN/inf, a time outside the path's times, bad
            tolerances, method or process.
        ComputationError: the solver failed (e.g. step size underflow).
    """
    a, single = _points(x)
    r = _fc.flow(
        _raw(mixture), a, _time("t_from", t_from), _time("t_to", t_to), bool(jacobian),
        _time("rtol", rtol), _time("atol", atol), str(method), _process(process),
    )
    if single:
        return FlowResult(
            r["y"][0],
            None if r["jacobian"] is None else r["jacobian"][0],
            None if r["jacobian_norm"] is None else r["jacobian_norm"][:1],
            r["stats"],
        )
    return FlowResult(r["y"], r["jacobian"], r["jacobian_norm"], r["stats"])


# --------------------------------------------------------------------------------------
# Bounds, grids, stability, the suite


def _times(times: Any) -> List[float]:
    arr = np.atleast_1d(np.asarray(times, dtype=float)) if not isinstance(times, str) else None
    if arr is None or arr.ndim != 1:
        raise InvalidInputError(f"times must be a list of OU times > 0, e.g. [0.01, 0.1, 1], got {times!r}")
    return [float(v) for v in arr]


def lipschitz(
    mixture: Mixture, times: Sequence[float], *, quick: bool = False, seed: int = 0,
    process: ProcessArg = "ou",
) -> Report:
    """The bounds on the Lipschitz constant of the PF-ODE velocity against the empirical sup
    of ``||J||`` (theory/02-lipschitz.md), as ``flowcert lipschitz --json``.

    Returns:
        :class:`Report` with ``rows``: per time ``t``, ``bound`` (two-sided L(t)),
        ``bound_paper``, ``one_sided`` (mu(t)), ``empirical_sup``, ``region_radius``
        (None when the bound holds on all of R^d) and more; ``violations`` counts times
        where a bound lies below its empirical sup; ``process`` names the path. The times
        are times of ``process`` (a name or ``{"name": ..., params}``, see the module).
    """
    return Report(_fc.lipschitz(_raw(mixture), _times(times), bool(quick), int(seed), _process(process)))


def grid(
    mixture: Mixture, kind: str, n: int, t_min: float, t_max: float, *, rho: float = 7.0,
    process: ProcessArg = "ou",
) -> Report:
    """The ``n + 1`` times of a grid on ``[t_min, t_max]`` and the two-sided stability
    coordinate ``Lambda`` at each (theory/04), as ``flowcert grid --json``.

    Args:
        kind: one of :data:`GRID_KINDS` (``balanced`` equalises the increments of Lambda).
        n: number of segments ``>= 1``.
        rho: the EDM exponent (``kind="edm"`` only).
        process: the Gaussian path: a name or ``{"name": ..., params}`` (see the module).

    Returns:
        :class:`Report` with ``kind``, ``times``, ``lambda``, ``segments``, ``rho``.
    """
    return Report(_fc.grid(_raw(mixture), str(kind), int(n), _time("t_min", t_min), _time("t_max", t_max), _time("rho", rho), _process(process)))


def stability(
    mixture: Mixture,
    t_from: float,
    t_to: float,
    *,
    grid: str = "balanced",
    segments: int = 4,
    rho: float = 7.0,
    samples: int = 64,
    separatrix_steps: int = 60,
    ascent_starts: int = 4,
    ascent_evals: int = 80,
    seed: int = 0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    method: str = "dopri5",
    process: ProcessArg = "ou",
) -> Report:
    """Flow-map stability (theory/03-stability.md), as ``flowcert stability --json``: per
    segment of the grid from ``T = t_from`` down to ``t_min = t_to``, the measured
    ``max ||DPhi||`` against ``exp(int mu)`` and ``exp(int L)``.

    Returns:
        :class:`Report` with ``segments`` (per-segment rows), ``violations``,
        ``log_slack``, ``region_radius``, and ``process`` (the path of ``process=``, a name
        or ``{"name": ..., params}``, see the module; the times are times of that path).
    """
    return Report(_fc.stability(
        _raw(mixture), _time("t_from", t_from), _time("t_to", t_to), str(grid), int(segments),
        _time("rho", rho), int(samples), int(separatrix_steps), int(ascent_starts),
        int(ascent_evals), int(seed), _time("rtol", rtol), _time("atol", atol), str(method),
        _process(process),
    ))


def check(
    mixtures: Union[None, Mapping[str, Mixture], Sequence[Tuple[str, Mixture]]] = None,
    *,
    scale: str = "tiny",
    seed: Optional[int] = None,
    process: ProcessArg = "ou",
) -> Report:
    """Every theorem checker of the suite, as ``flowcert check --json``.

    Args:
        mixtures: ``{name: Mixture}`` or ``[(name, Mixture)]``; default every built-in
            mixture (what ``flowcert check`` runs).
        scale: ``"tiny"`` (seconds), ``"quick"`` or ``"full"``.
        seed: the seed of every checker (default: the plan's own seeds).
        process: the Gaussian path (name or ``{name, params}`` dict), as
            ``flowcert check --process``: every checker runs on it, the suite's OU times
            mapped to the path's times of equal ``sigma/alpha`` (theory/07); the
            score-net row checks the OU network carried to the path by its clock and
            scaling (theory/07, Corollary 6a). The report carries ``process``.

    Returns:
        :class:`Report` with one row per (mixture, checker) and ``violations``.
    """
    cases = None
    if mixtures is not None:
        items = mixtures.items() if isinstance(mixtures, Mapping) else mixtures
        cases = [(str(name), _raw(m)) for name, m in items]
    return Report(_fc.check(cases, str(scale), None if seed is None else int(seed), _process(process)))


# --------------------------------------------------------------------------------------
# The mixture


class Mixture:
    """A validated Gaussian mixture ``sum_k w_k N(mu_k, Sigma_k)`` in R^d: the data law.

    ``Mixture(weights, means, covariances)`` takes lists or numpy arrays of shapes
    ``(K,)``, ``(K, d)``, ``(K, d, d)``; weights positive summing to 1 (within 1e-9),
    covariances symmetric positive semi-definite, every number finite. A bad mixture
    raises :class:`InvalidInputError` with the message of the command line.
    """

    __slots__ = ("_m",)

    def __init__(self, weights: Any, means: Any, covariances: Any) -> None:
        self._m = _fc.Mixture(weights, means, covariances)

    @classmethod
    def _wrap(cls, raw: Any) -> Mixture:
        m = cls.__new__(cls)
        m._m = raw
        return m

    @classmethod
    def builtin(cls, name: str) -> Mixture:
        """A built-in mixture: one of :data:`BUILTINS` (as ``--mixture builtin:NAME``)."""
        return cls._wrap(_fc.Mixture.builtin(str(name)))

    @classmethod
    def from_json(cls, path: PathLike) -> Mixture:
        """A mixture JSON file (or ``"builtin:NAME"``), as ``--mixture`` of the command line."""
        return cls._wrap(_fc.Mixture.from_json(os.fspath(path)))

    @property
    def dim(self) -> int:
        """The dimension d."""
        return self._m.dim

    @property
    def n_components(self) -> int:
        """The number of components K."""
        return self._m.n_components

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self._m.spec()["weights"])

    @property
    def means(self) -> np.ndarray:
        return np.asarray(self._m.spec()["means"])

    @property
    def covariances(self) -> np.ndarray:
        return np.asarray(self._m.spec()["covariances"])

    def to_json(self) -> str:
        """The mixture file's JSON text."""
        return self._m.to_json()

    def hash(self) -> str:
        """The hash ``flowcert queries`` records for this mixture."""
        return self._m.hash()

    def __repr__(self) -> str:
        return f"flowcert.Mixture(d={self.dim}, K={self.n_components})"

    @_doc_from(logp)
    def logp(self, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
        return logp(self, x, t, process=process)

    @_doc_from(score)
    def score(self, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
        return score(self, x, t, process=process)

    @_doc_from(velocity)
    def velocity(self, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
        return velocity(self, x, t, process=process)

    @_doc_from(hessian)
    def hessian(self, x: Any, t: float, *, process: ProcessArg = "ou") -> np.ndarray:
        return hessian(self, x, t, process=process)

    @_doc_from(sample)
    def sample(self, n: int, t: float = 0.0, seed: int = 0, *, process: ProcessArg = "ou") -> Tuple[np.ndarray, np.ndarray]:
        return sample(self, n, t, seed, process=process)

    @_doc_from(flow)
    def flow(self, x: Any, t_from: float, t_to: float, **kw: Any) -> FlowResult:
        return flow(self, x, t_from, t_to, **kw)

    @_doc_from(lipschitz)
    def lipschitz(self, times: Sequence[float], **kw: Any) -> Report:
        return lipschitz(self, times, **kw)

    @_doc_from(grid)
    def grid(self, kind: str, n: int, t_min: float, t_max: float, **kw: Any) -> Report:
        return grid(self, kind, n, t_min, t_max, **kw)

    @_doc_from(stability)
    def stability(self, t_from: float, t_to: float, **kw: Any) -> Report:
        return stability(self, t_from, t_to, **kw)


# --------------------------------------------------------------------------------------
# Outside models


class Queries:
    """The points where an outside model is asked, as ``flowcert queries`` writes them.

    ``Queries.generate(mixture, ...)`` draws them in process (the same settings and seed
    give the same points as the command line); ``Queries.load(dir)`` reads a directory
    written by ``flowcert queries --out DIR``; ``write(dir)`` writes one.
    """

    __slots__ = ("_q",)

    def __init__(self, raw: Any) -> None:
        self._q = raw

    @classmethod
    def generate(
        cls, mixture: Mixture, *, times: Optional[Sequence[float]] = None, samples: int = 1000,
        seed: int = 0, grid: str = "balanced", segments: int = 8, t_min: float = 0.01,
        t_max: float = 1.0, rho: float = 7.0, process: ProcessArg = "ou",
    ) -> Queries:
        """Draw a query set (defaults as ``flowcert queries``: 8 geometric score times on
        ``[t_min, t_max]``, 1000 points per time and per segment, 8 balanced segments)."""
        return cls(_fc.Queries.generate(
            _raw(mixture), None if times is None else _times(times), int(samples), int(seed),
            str(grid), int(segments), _time("t_min", t_min), _time("t_max", t_max),
            _time("rho", rho), _process(process),
        ))

    @classmethod
    def load(cls, path: PathLike) -> Queries:
        """Read a directory written by ``flowcert queries --out DIR``."""
        return cls(_fc.Queries.load(os.fspath(path)))

    def write(self, path: PathLike) -> None:
        """Write the manifest, CSV and .npy files of ``flowcert queries`` into ``path``."""
        self._q.write(os.fspath(path))

    @property
    def mixture(self) -> Mixture:
        return Mixture._wrap(self._q.mixture())

    @property
    def manifest(self) -> Report:
        """``queries.json``: times, grid, Lambda, rows and fingerprints."""
        return Report(self._q.manifest())

    @property
    def score_queries(self) -> np.ndarray:
        """Rows ``(t, x_0 .. x_{d-1})``."""
        return self._q.score_queries()

    @property
    def flowmap_queries(self) -> np.ndarray:
        """Rows ``(i, t_from, t_to, x_0 .. x_{d-1})``: segment ``i`` maps ``t_i -> t_{i-1}``."""
        return self._q.flowmap_queries()

    @property
    def rollout_queries(self) -> np.ndarray:
        """Rows ``(T, t_min, x_0 .. x_{d-1})``: start points of the composed sampler."""
        return self._q.rollout_queries()


def _call(fn: Callable[..., Any], args: Tuple[Any, ...], n: int, d: int, what: str) -> np.ndarray:
    """Call the user's model and check its answer: ``(n, d)`` real numbers, all finite."""
    out = fn(*args)  # an exception of the model propagates unchanged
    try:
        a = np.asarray(out)
    except Exception as e:
        raise ModelOutputError(
            f"{what} returned {type(out).__name__}, which numpy cannot read ({e}): "
            f"return a numpy array of shape ({n}, {d})"
        ) from e
    if a.dtype.kind not in "fiu":
        raise ModelOutputError(
            f"{what} returned dtype {a.dtype}: return real numbers (float32 or float64), "
            f"shape ({n}, {d})"
        )
    if a.shape != (n, d):
        raise ModelOutputError(
            f"{what} returned shape {a.shape} but the query has {n} points in d = {d}: "
            f"return one row per point, shape ({n}, {d})"
        )
    a = a.astype(np.float64, copy=False)
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        raise ModelOutputError(
            f"{what} returned {a[i].tolist()} for point {i} (x = {args[0][i].tolist()}): "
            f"a NaN or inf is not an answer; fix the model or its input scaling"
        )
    return a


def _query_set(mixture: Optional[Mixture], queries: Any, settings: Dict[str, Any], process: Any) -> Queries:
    if queries is None:
        if mixture is None:
            raise InvalidInputError("give a mixture (or queries=, a directory written by `flowcert queries`)")
        return Queries.generate(mixture, process=process, **settings)
    q = queries if isinstance(queries, Queries) else Queries.load(queries)
    if mixture is not None and Mixture._wrap(_raw(mixture)).hash() != q._q.mixture().hash():
        raise InvalidInputError(
            f"mixture (hash {Mixture._wrap(_raw(mixture)).hash()}) is not the mixture of the queries "
            f"(hash {q._q.mixture().hash()}): give the queries generated for this mixture"
        )
    return q


def _baseline(baseline: Any) -> Any:
    if baseline is None:
        return None
    if isinstance(baseline, (str, os.PathLike)):
        return os.fspath(baseline)
    return dict(baseline)


def assess_score(
    fn: Callable[[np.ndarray, float], Any],
    mixture: Optional[Mixture] = None,
    *,
    queries: Union[None, PathLike, Queries] = None,
    times: Optional[Sequence[float]] = None,
    samples: int = 1000,
    seed: int = 0,
    grid: str = "balanced",
    segments: int = 8,
    t_min: float = 0.01,
    t_max: float = 1.0,
    rho: float = 7.0,
    baseline: Union[None, PathLike, Mapping[str, Any]] = None,
    tolerance: float = 0.1,
    save_baseline: Optional[PathLike] = None,
    process: ProcessArg = "ou",
) -> Assessment:
    """Measure your score model against the exact score, as ``flowcert queries`` +
    ``flowcert assess score --json``.

    ``fn(x, t)`` gets the query points at one time, ``x`` of shape ``(n, d)`` (float64)
    and ``t`` a float, and returns the model's score there, ``(n, d)`` (a numpy array, or
    anything ``numpy.asarray`` reads: wrap a torch or JAX model to take and return numpy).
    It is called once per query time.

    Args:
        fn: your score model.
        mixture: the data law (or give ``queries=``).
        queries: a :class:`Queries` or a directory of ``flowcert queries``; default: drawn
            in process from the settings below (the command line's defaults).
        baseline: a saved assessment (a path from ``save_baseline=`` or
            ``flowcert assess --save-baseline``, or a previous result) to compare with.
        tolerance: relative tolerance of the comparison (a metric regresses when
            ``current > baseline * (1 + tolerance) + 1e-12``).
        save_baseline: write this assessment there (not when a metric regressed).
        process: the Gaussian path the queries are drawn on: a name or
            ``{"name": ..., params}`` (see the module); ignored with ``queries=``, whose
            mixture carries its own path.

    Returns:
        :class:`Assessment`: per time ``rows`` (``l1``, ``l2`` with 95% CIs,
        ``relative_l2``), ``sup_l1``, ``sup_l2``, ``metrics``, and with a baseline the
        ``comparison`` and ``passes``.

    Raises:
        ModelOutputError: ``fn`` returned the wrong shape or dtype, or a NaN/inf.
        InvalidInputError: bad settings, a baseline of other queries.
        Exception: whatever ``fn`` raises, unchanged.
    """
    settings = dict(times=times, samples=samples, seed=seed, grid=grid, segments=segments,
                    t_min=t_min, t_max=t_max, rho=rho)
    q = _query_set(mixture, queries, settings, _process(process))
    man = q.manifest["score"]
    n, d = int(man["samples_per_time"]), q.mixture.dim
    sq = q.score_queries
    answers = np.empty((sq.shape[0], d))
    for i, t in enumerate(man["times"]):
        x = np.ascontiguousarray(sq[i * n:(i + 1) * n, 1:])
        answers[i * n:(i + 1) * n] = _call(fn, (x, float(t)), n, d, f"fn(x, t={t})")
    return Assessment(_fc.assess_score(
        q._q, answers, _baseline(baseline), float(tolerance),
        None if save_baseline is None else os.fspath(save_baseline),
    ))


def assess_flowmap(
    fn: Callable[[np.ndarray, float, float], Any],
    mixture: Optional[Mixture] = None,
    *,
    rollout: bool = True,
    queries: Union[None, PathLike, Queries] = None,
    times: Optional[Sequence[float]] = None,
    samples: int = 1000,
    seed: int = 0,
    grid: str = "balanced",
    segments: int = 8,
    t_min: float = 0.01,
    t_max: float = 1.0,
    rho: float = 7.0,
    baseline: Union[None, PathLike, Mapping[str, Any]] = None,
    tolerance: float = 0.1,
    save_baseline: Optional[PathLike] = None,
    process: ProcessArg = "ou",
) -> Assessment:
    """Measure your flow maps (a few-step student) against the exact flow, as
    ``flowcert queries`` + ``flowcert assess flowmap --json``.

    ``fn(x, t_from, t_to)`` maps points ``x`` ``(n, d)`` at time ``t_from`` to time
    ``t_to < t_from`` and returns ``(n, d)``. It is called once per segment of the grid
    ``t_min = t_0 < ... < t_N = T`` (segment ``i`` maps ``t_i -> t_{i-1}``), and with
    ``rollout=True`` also composed from ``T`` down to ``t_min`` on the rollout points (the
    sampler; gives the end-to-end error and its ratio to the composition bound).

    Returns:
        :class:`Assessment`: per segment ``eps_i`` (``rms``, ``max``) and its weight
        ``exp(Lambda)``, the composition bounds ``bound_rms``/``bound_max``,
        ``end_to_end`` (with ``rollout``), ``metrics``, and with a baseline the
        ``comparison`` and ``passes``. Other arguments as :func:`assess_score`.
    """
    settings = dict(times=times, samples=samples, seed=seed, grid=grid, segments=segments,
                    t_min=t_min, t_max=t_max, rho=rho)
    q = _query_set(mixture, queries, settings, _process(process))
    man = q.manifest["flowmap"]
    n, d = int(man["samples_per_segment"]), q.mixture.dim
    ts = man["times"]
    fq = q.flowmap_queries
    answers = np.empty((fq.shape[0], d))
    for i in range(1, len(ts)):
        rows = slice((i - 1) * n, i * n)
        x = np.ascontiguousarray(fq[rows, 3:])
        answers[rows] = _call(fn, (x, float(ts[i]), float(ts[i - 1])), n, d,
                              f"fn(x, t_from={ts[i]}, t_to={ts[i - 1]})")
    roll = None
    if rollout:
        y = np.ascontiguousarray(q.rollout_queries[:, 2:])
        for i in range(len(ts) - 1, 0, -1):
            y = _call(fn, (y, float(ts[i]), float(ts[i - 1])), y.shape[0], d,
                      f"fn(x, t_from={ts[i]}, t_to={ts[i - 1]}) in the rollout")
        roll = np.ascontiguousarray(y)
    return Assessment(_fc.assess_flowmap(
        q._q, answers, roll, _baseline(baseline), float(tolerance),
        None if save_baseline is None else os.fspath(save_baseline),
    ))


# --------------------------------------------------------------------------------------
# The distillation experiment


def distill(
    mixture: Mixture,
    *,
    segments: Sequence[int] = (1, 2, 4, 8),
    grids: Sequence[str] = GRID_KINDS,
    seeds: Union[int, Sequence[int]] = 3,
    t_min: float = 1e-3,
    t_max: float = 3.0,
    rho: float = 7.0,
    width: int = 64,
    depth: int = 2,
    steps: int = 1000,
    samples: int = 4096,
    batch: int = 128,
    lr: float = 2e-3,
    precision: str = "f32",
    eval_samples: int = 2048,
    out: Optional[PathLike] = None,
    shard: str = "0/1",
    name: str = "mixture",
    as_frame: Optional[bool] = None,
    process: ProcessArg = "ou",
) -> Any:
    """The trajectory-distillation experiment (theory/04), as ``flowcert distill --json``:
    for each grid kind, segment count N and seed, one student per segment trained on exact
    teacher pairs, and the end-to-end relative MSE against the composition bound.

    Args:
        seeds: a count S (seeds ``0..S-1``) or a list of seeds.
        out: keep finished cells here; a rerun resumes (default: a temporary directory).
        as_frame: return a pandas DataFrame (default: when pandas is installed).
        Others: as the command's flags (``--width``, ``--steps``, ...).

    Returns:
        the rows (``mixture, grid, segments, seed, times, lambda, rel_mse, local_errors,
        train_loss, bound``) as a list of dicts, or a pandas DataFrame.
    """
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise InvalidInputError(f"seeds {seeds} runs nothing: give a count >= 1 or a list such as [0, 1, 2]")
        seed_list = list(range(int(seeds)))
    else:
        seed_list = [int(s) for s in seeds]
    doc = _fc.distill(
        _raw(mixture), [int(s) for s in segments], [str(g) for g in grids], seed_list,
        _time("t_min", t_min), _time("t_max", t_max), _time("rho", rho), int(width), int(depth),
        int(steps), int(samples), int(batch), _time("lr", lr), str(precision), int(eval_samples),
        None if out is None else os.fspath(out), str(shard), str(name), _process(process),
    )
    rows = doc["rows"]
    if as_frame is None or as_frame:
        try:
            import pandas as pd  # type: ignore[import-not-found]
        except ImportError:
            if as_frame:
                raise
            return rows
        return pd.DataFrame(rows)
    return rows
