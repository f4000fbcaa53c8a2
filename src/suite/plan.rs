//! The configurations of every section at every scale: one place, shared by `flowcert
//! check` (the checkers at the tiny configuration, on every built-in mixture) and `flowcert
//! reproduce` (every section at the chosen scale, on the section's mixtures).
//!
//! | section | tiny | quick | full |
//! |---|---|---|---|
//! | bounds: L(t) at [`REPORT_TIMES`], stability on the balanced grid, 4 segments on [0.01, 3] | two-mode-s0.3, quick searches | every built-in, quick searches | every built-in, default searches |
//! | composition: 4 segments on [0.01, 3], eps_i = 1e-3, uniform and balanced grids | two-mode-s0.1, 4 paths | + aniso8, 12 paths | every built-in, 48 paths |
//! | mismatch: regime experiment, balanced grids on [0.05, 2] | two-mode-s0.3, M = 4, N in {1, 2}, quick students | two-mode s0.05/0.1/0.3, M in {2, 4, 8, 16}, N up to 8 | the same, N up to 16, default students |
//! | score-net: eps sweep on [0.01, 1] | two-mode-s0.1, eps 1e-1, 1e-2, 4 times x 400 samples | + hetero3, eps down to 1e-3, 6 x 1000 | every built-in, eps down to 1e-5, 8 x 4000, dependence table, DSM comparison |
//! | distill: cells mixture x grid x N x seed | two-mode-s0.3, 2 grids, N in {1, 2}, 2 seeds | two-mode mixtures, 6 grids, N up to 8, 3 seeds | every built-in, N up to 16, 5 seeds |
//! | budget: the distill cells at several student budgets ([`super::budget`]) | two-mode-s0.3, N = 2, 3 seeds, 4 budgets | two-mode-s0.3, 4 grids, N in {2, 4, 8}, 4 budgets | two-mode mixtures and ring8, N in {2, 4, 8}, 5 seeds, 4 budgets (18 with `--budget-sweep full`) |
//!
//! Plans are plain data: change a field to run a variant (a user's mixture list, another
//! student budget, more seeds).

use crate::bounds::SearchConfig;
use crate::dynamics::Teacher;
use crate::experiments::distill::DistillPlan;
use crate::grids::GridKind;
use crate::model::builtin::Builtin;
use crate::nn::StudentBudget;
use crate::theorems::composition::Probe;
use crate::theorems::lipschitz::REPORT_TIMES;
use crate::theorems::mismatch::{MismatchConfig, REGIME_BUDGETS, SegmentGrid};
use crate::theorems::score_approx::trained::DsmConfig;
use crate::theorems::score_approx::{CheckConfig, EPS_LIST};
use crate::theorems::stability::StabilityConfig;

use super::Scale;
use super::budget::BudgetSize;
use super::oracle::OraclePlan;
use super::paths::PathsPlan;
use crate::experiments::budget::BudgetSweepPlan;
use crate::experiments::oracle::OracleConfig;

/// The configuration of every section at one scale.
///
/// ```
/// use flowcert::suite::{Plan, Scale};
/// let full = Plan::at(Scale::Full);
/// assert!(full.score_net.dsm.is_some() && full.score_net.dependence.is_some());
/// assert!(Plan::at(Scale::Quick).score_net.dsm.is_none());
/// assert_eq!(Plan::at(Scale::Tiny).with_seed(5).composition.probe.seed, 5);
/// ```
#[derive(Debug, Clone)]
pub struct Plan {
    /// The scale the plan was made for.
    pub scale: Scale,
    /// L(t) bounds and flow-map stability.
    pub bounds: BoundsPlan,
    /// The composition checker with perturbed students.
    pub composition: CompositionPlan,
    /// The Lipschitz-mismatch regime experiment.
    pub mismatch: MismatchPlan,
    /// The score-approximation sweep and its comparisons.
    pub score_net: ScoreNetPlan,
    /// The distillation sweep.
    pub distill: DistillPlan,
    /// The process axis (theory/07): bounds, stability and distillation on every path.
    pub paths: PathsPlan,
    /// The student-budget sweep of the distillation experiment (theory/04, "Budget sweep").
    pub budget: BudgetSweepPlan,
    /// Which budget sweep (`reproduce --budget-sweep`).
    pub budget_size: BudgetSize,
    /// The oracle and fitted grids (theory/04, "Oracle and fitted grids").
    pub oracle: OraclePlan,
}

/// L(t) against empirical suprema, and the stability estimate on a grid.
#[derive(Debug, Clone)]
pub struct BoundsPlan {
    /// Mixtures of `reproduce`.
    pub mixtures: Vec<Builtin>,
    /// Times of the L(t) comparison.
    pub times: Vec<f64>,
    /// The empirical search.
    pub search: SearchConfig,
    /// The stability grid kind.
    pub grid: GridKind,
    /// `t_min` of the stability grid.
    pub t_min: f64,
    /// `T` of the stability grid.
    pub t_max: f64,
    /// Segments of the stability grid.
    pub segments: usize,
    /// The stability checker.
    pub stability: StabilityConfig,
    /// The interval of the Lambda(t) plot.
    pub lambda_interval: (f64, f64),
    /// Times of the Lambda(t) plot.
    pub lambda_points: usize,
    /// A deliberately wrong bound for the tests that show the L(t) and stability checks
    /// can fail (e.g. [`crate::bounds::Mutation::OuFactors`] on another path); `None`
    /// (always, outside those tests) is the real check.
    pub mutation: Option<crate::bounds::Mutation>,
}

/// Perturbed students with a known sup error on each grid.
#[derive(Debug, Clone)]
pub struct CompositionPlan {
    /// Mixtures of `reproduce`.
    pub mixtures: Vec<Builtin>,
    /// Grid kinds compared.
    pub grids: Vec<GridKind>,
    /// `t_min`.
    pub t_min: f64,
    /// `T`.
    pub t_max: f64,
    /// Segments N.
    pub segments: usize,
    /// The sup error `eps_i` of every student.
    pub eps: f64,
    /// Start points, perturbation frequency and seed.
    pub probe: Probe,
    /// The exact flow's solver.
    pub teacher: Teacher,
}

/// The regime experiment of the mismatch checker.
#[derive(Debug, Clone)]
pub struct MismatchPlan {
    /// Mixtures of `reproduce`.
    pub mixtures: Vec<Builtin>,
    /// Lipschitz budgets M.
    pub budgets: Vec<f64>,
    /// Segment counts N.
    pub segments: Vec<usize>,
    /// The checker (its grid places the N-step students).
    pub config: MismatchConfig,
}

/// The dependence of the network size on the mixture geometry (theory/06).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DependencePlan {
    /// Target accuracy.
    pub eps: f64,
    /// Monte Carlo samples per time.
    pub samples: usize,
    /// Times per case.
    pub n_times: usize,
}

/// The DSM-trained network of the same size as the construction (theory/06).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsmPlan {
    /// The mixture.
    pub mixture: Builtin,
    /// Target accuracy of the construction it is compared with.
    pub eps: f64,
    /// Times of the comparison.
    pub n_times: usize,
    /// The training.
    pub config: DsmConfig,
}

/// The score-approximation section.
#[derive(Debug, Clone)]
pub struct ScoreNetPlan {
    /// Mixtures of `reproduce`.
    pub mixtures: Vec<Builtin>,
    /// The eps sweep on every mixture.
    pub sweep: CheckConfig,
    /// Sizes against the geometry (full scale only).
    pub dependence: Option<DependencePlan>,
    /// The DSM comparison (full scale only).
    pub dsm: Option<DsmPlan>,
}

impl Plan {
    /// The plan of a scale (module table).
    pub fn at(scale: Scale) -> Plan {
        let distill = distill_plan(scale);
        Plan {
            budget: super::budget::plan(scale, BudgetSize::Default, &distill),
            budget_size: BudgetSize::Default,
            scale,
            bounds: BoundsPlan::at(scale),
            composition: CompositionPlan::at(scale),
            mismatch: MismatchPlan::at(scale),
            score_net: ScoreNetPlan::at(scale),
            distill,
            paths: paths_plan(scale),
            oracle: oracle_plan(scale),
        }
    }

    /// The same plan with the budget sweep of `size` (`reproduce --budget-sweep`).
    ///
    /// ```
    /// use flowcert::suite::{Plan, Scale, budget::BudgetSize};
    /// let p = Plan::at(Scale::Full).with_budget_sweep(BudgetSize::Full);
    /// assert_eq!(p.budget.budgets.len(), 18);
    /// ```
    #[must_use]
    pub fn with_budget_sweep(mut self, size: BudgetSize) -> Plan {
        self.budget = super::budget::plan(self.scale, size, &self.distill);
        self.budget_size = size;
        self
    }

    /// The same plan with every checker's seed set to `seed` (the distillation seeds, a
    /// list, are left alone).
    pub fn with_seed(mut self, seed: u64) -> Plan {
        self.bounds.search.seed = seed;
        self.bounds.stability.seed = seed;
        self.composition.probe.seed = seed;
        self.mismatch.config.seed = seed;
        self.score_net.sweep.seed = seed;
        self.paths.search.seed = seed;
        self.paths.stability.seed = seed;
        self
    }
}

impl BoundsPlan {
    fn at(scale: Scale) -> Self {
        let (mixtures, search, stability) = match scale {
            Scale::Tiny => (
                vec![Builtin::TwoModeS03],
                SearchConfig::quick(),
                StabilityConfig::quick(),
            ),
            Scale::Quick => (
                Builtin::ALL.to_vec(),
                SearchConfig::quick(),
                StabilityConfig::quick(),
            ),
            Scale::Full => (
                Builtin::ALL.to_vec(),
                SearchConfig::default(),
                StabilityConfig::default(),
            ),
        };
        BoundsPlan {
            mixtures,
            times: REPORT_TIMES.to_vec(),
            search,
            grid: GridKind::Balanced,
            t_min: 0.01,
            t_max: 3.0,
            segments: 4,
            stability,
            lambda_interval: (1e-3, 3.0),
            lambda_points: 60,
            mutation: None,
        }
    }
}

impl CompositionPlan {
    fn at(scale: Scale) -> Self {
        let (mixtures, points) = match scale {
            Scale::Tiny => (vec![Builtin::TwoModeS01], 4),
            Scale::Quick => (vec![Builtin::TwoModeS01, Builtin::Aniso8], 12),
            Scale::Full => (Builtin::ALL.to_vec(), 48),
        };
        CompositionPlan {
            mixtures,
            grids: vec![GridKind::Uniform, GridKind::Balanced],
            t_min: 0.01,
            t_max: 3.0,
            segments: 4,
            eps: 1e-3,
            probe: Probe {
                points,
                freq: 2.0,
                seed: 7,
            },
            teacher: Teacher::PRECISE,
        }
    }
}

impl MismatchPlan {
    fn at(scale: Scale) -> Self {
        let regime = vec![
            Builtin::TwoModeS005,
            Builtin::TwoModeS01,
            Builtin::TwoModeS03,
        ];
        let (mixtures, budgets, segments, config) = match scale {
            Scale::Tiny => (
                vec![Builtin::TwoModeS03],
                vec![4.0],
                vec![1, 2],
                MismatchConfig::quick(),
            ),
            Scale::Quick => (
                regime,
                REGIME_BUDGETS.to_vec(),
                vec![1, 2, 4, 8],
                MismatchConfig::quick(),
            ),
            Scale::Full => (
                regime,
                REGIME_BUDGETS.to_vec(),
                vec![1, 2, 4, 8, 16],
                MismatchConfig::default(),
            ),
        };
        MismatchPlan {
            mixtures,
            budgets,
            segments,
            config: MismatchConfig {
                grid: SegmentGrid::Kind(GridKind::Balanced),
                ..config
            },
        }
    }
}

impl ScoreNetPlan {
    fn at(scale: Scale) -> Self {
        let base = CheckConfig::default();
        match scale {
            Scale::Tiny => ScoreNetPlan {
                mixtures: vec![Builtin::TwoModeS01],
                sweep: CheckConfig {
                    eps_list: EPS_LIST[..2].to_vec(),
                    n_times: 4,
                    samples: 400,
                    ..base
                },
                dependence: None,
                dsm: None,
            },
            Scale::Quick => ScoreNetPlan {
                mixtures: vec![Builtin::TwoModeS01, Builtin::Hetero3],
                sweep: CheckConfig {
                    eps_list: EPS_LIST[..3].to_vec(),
                    n_times: 6,
                    samples: 1000,
                    ..base
                },
                dependence: None,
                dsm: None,
            },
            Scale::Full => ScoreNetPlan {
                mixtures: Builtin::ALL.to_vec(),
                sweep: base,
                dependence: Some(DependencePlan {
                    eps: 1e-3,
                    samples: 2000,
                    n_times: 4,
                }),
                dsm: Some(DsmPlan {
                    mixture: Builtin::TwoModeS01,
                    eps: 1e-3,
                    n_times: 8,
                    config: DsmConfig {
                        steps: 10_000,
                        ..DsmConfig::default()
                    },
                }),
            },
        }
    }
}

/// The distillation sweep of a scale.
fn distill_plan(scale: Scale) -> DistillPlan {
    let named = |list: &[Builtin]| -> Vec<(String, crate::model::Mixture)> {
        list.iter()
            .map(|b| (b.name().to_string(), b.mixture()))
            .collect()
    };
    let quick = DistillPlan {
        mixtures: named(&[
            Builtin::TwoModeS005,
            Builtin::TwoModeS01,
            Builtin::TwoModeS03,
        ]),
        grids: GridKind::all().to_vec(),
        segments: vec![1, 2, 4, 8],
        seeds: vec![0, 1, 2],
        t_min: 1e-3,
        t_max: 3.0,
        budget: StudentBudget {
            width: 32,
            depth: 2,
            steps: 300,
            batch: 128,
            samples: 2048,
            lr: 3e-3,
            ..StudentBudget::default()
        },
        eval_samples: 1024,
        teacher: Teacher::EXPERIMENT,
    };
    match scale {
        Scale::Tiny => DistillPlan {
            mixtures: named(&[Builtin::TwoModeS03]),
            grids: vec![GridKind::Uniform, GridKind::Balanced],
            segments: vec![1, 2],
            seeds: vec![0, 1],
            budget: StudentBudget {
                width: 8,
                depth: 1,
                steps: 20,
                batch: 32,
                samples: 128,
                lr: 3e-3,
                ..StudentBudget::default()
            },
            eval_samples: 64,
            ..quick
        },
        Scale::Quick => quick,
        Scale::Full => DistillPlan {
            mixtures: named(&Builtin::ALL),
            segments: vec![1, 2, 4, 8, 16],
            seeds: vec![0, 1, 2, 3, 4],
            budget: StudentBudget {
                steps: 1000,
                ..StudentBudget::default()
            },
            eval_samples: 2048,
            ..quick
        },
    }
}

/// The process axis of a scale (theory/07-gaussian-paths.md): every built-in path on a
/// two-mode mixture; a small distillation sweep (uniform, balanced, logsnr grids).
fn paths_plan(scale: Scale) -> PathsPlan {
    let quick = distill_plan(Scale::Quick);
    match scale {
        Scale::Tiny => {
            let tiny = distill_plan(Scale::Tiny);
            PathsPlan::new(
                Builtin::TwoModeS03,
                SearchConfig::quick(),
                StabilityConfig::quick(),
                DistillPlan {
                    mixtures: Vec::new(),
                    grids: vec![GridKind::Uniform, GridKind::Balanced],
                    segments: vec![2],
                    seeds: vec![0],
                    ..tiny
                },
            )
        }
        Scale::Quick | Scale::Full => PathsPlan::new(
            Builtin::TwoModeS01,
            SearchConfig::quick(),
            StabilityConfig::quick(),
            DistillPlan {
                mixtures: Vec::new(),
                grids: vec![GridKind::Uniform, GridKind::Balanced, GridKind::LogSnr],
                segments: vec![2, 4, 8],
                seeds: vec![0, 1, 2],
                ..quick
            },
        ),
    }
}

/// The oracle-and-fitted-grids section of a scale (theory/04-composition-and-grids.md):
/// the distillation sweep's budget, evaluation seeds and points (so the peer cells are the
/// main sweep's), candidate students at selection seeds of their own.
///
/// | scale | mixtures | N | candidates (log-spaced + peers' points), span | selection / evaluation seeds |
/// |---|---|---|---|---|
/// | tiny | two-mode-s0.3 | 2 | 6 + uniform, balanced; span 3 | 1 / 2 |
/// | quick | two-mode-s0.1, s0.3 | 2, 4 | 10 + uniform, balanced, balanced-paper, logsnr, edm; span 4 | 1 / 3 |
/// | full | the whole suite (two-mode s0.05, s0.1, s0.3, ring8, aniso8, hetero3) | 2, 4, 8 | 12 + the same peers; span 5 | 1 / 5 |
fn oracle_plan(scale: Scale) -> OraclePlan {
    let peers = vec![
        GridKind::Uniform,
        GridKind::Balanced,
        GridKind::BalancedPaper,
        GridKind::LogSnr,
        GridKind::Edm {
            rho: crate::grids::DEFAULT_RHO,
        },
    ];
    let config = OracleConfig {
        log_points: 12,
        span: 5,
        peers,
        segments: vec![2, 4, 8],
        selection_seeds: vec![1000],
        probe_samples: 256,
        pilot_points: 6,
        pilot_span: 2,
        fine_points: 48,
    };
    let distill = distill_plan(scale);
    match scale {
        Scale::Tiny => OraclePlan {
            mixtures: vec![Builtin::TwoModeS03],
            config: OracleConfig {
                log_points: 6,
                span: 3,
                peers: vec![GridKind::Uniform, GridKind::Balanced],
                segments: vec![2],
                probe_samples: 64,
                pilot_points: 5,
                fine_points: 16,
                ..config
            },
            distill,
        },
        Scale::Quick => OraclePlan {
            mixtures: vec![Builtin::TwoModeS01, Builtin::TwoModeS03],
            config: OracleConfig {
                log_points: 10,
                span: 4,
                segments: vec![2, 4],
                fine_points: 32,
                ..config
            },
            distill,
        },
        Scale::Full => OraclePlan {
            mixtures: Builtin::ALL.to_vec(),
            config: OracleConfig {
                probe_samples: 512,
                ..config
            },
            distill,
        },
    }
}
