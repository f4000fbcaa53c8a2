//! Student-training throughput of flowcert, with the interface of its JAX + optax peer
//! (`benches/peers/optax_student.py`):
//!
//! ```sh
//! cargo run --release --example student_throughput -- --dim 2 --width 64 --depth 2 \
//!     --batch 256 --steps 2000 --threads 1 --precision f64
//! ```
//! prints ONE JSON line `{"steps_per_s": X, "dim": D, "precision": "f64", "threads": T, ...}`.
//!
//! It times the real `nn::train` (Adam, lr 2e-3, minibatches drawn from a permutation of
//! 4096 teacher pairs x ~ N(0, I_d), y = x + 0.5 sin(x)) on a residual SiLU MLP with He
//! initialisation, including the final full-data loss that `train` reports. With
//! `--threads T`, T independent students train at once on a pool of T threads (rayon on
//! the outer loop, one student per thread, as the distillation experiment trains its
//! segment students), and `steps_per_s` is the aggregate: T x steps / wall time.
//! The median of `--repeats` timed runs is reported, after one untimed warm-up run.
//! `--kernel reference` times the pre-SIMD training path (f64 only) for comparison;
//! `--backend avx2|portable` forces a narrower instruction set than the CPU's widest.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use flowcert::flowmap::{FlowMap, MapError};
use flowcert::nn::{
    Activation, Minibatch, Mlp, MlpConfig, Precision, ReferenceMlp, SimdBackend, TrainConfig,
    TrainWorkspace, Trainable, ValidTrainConfig, train,
};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Teacher pairs per student.
const DATA: usize = 4096;
/// Adam learning rate (the peer's).
const LR: f64 = 2e-3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kernel {
    /// The SIMD training step (`TrainWorkspace`).
    Engine,
    /// The reference forward/backward pass (`ReferenceMlp`; f64 only).
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// The widest this CPU supports.
    Detect,
    Avx512,
    Avx2,
    Portable,
}

impl Backend {
    fn resolve(self) -> SimdBackend {
        match self {
            Backend::Detect => SimdBackend::detect(),
            Backend::Avx512 => SimdBackend::Avx512,
            Backend::Avx2 => SimdBackend::Avx2,
            Backend::Portable => SimdBackend::Portable,
        }
    }
}

/// An `Mlp` whose training steps run on a chosen backend.
struct OnBackend(Mlp, SimdBackend);

impl FlowMap for OnBackend {
    fn dim_in(&self) -> usize {
        self.0.dim_in()
    }
    fn dim_out(&self) -> usize {
        self.0.dim_out()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        self.0.map_point(x)
    }
    fn map_batch(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        self.0.map_batch(x)
    }
}

impl Trainable for OnBackend {
    type Workspace = TrainWorkspace;
    fn workspace(&self, batch: usize, precision: Precision) -> TrainWorkspace {
        TrainWorkspace::with_backend(&self.0, batch, precision, self.1)
            .expect("the backend was checked before training")
    }
    fn param_count(&self) -> usize {
        self.0.param_count()
    }
    fn loss_and_grad(&self, x: &DMatrix<f64>, y: &DMatrix<f64>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad(&self.0, x, y)
    }
    fn loss_and_grad_on(&self, batch: &mut Minibatch<'_>, ws: &mut TrainWorkspace) -> f64 {
        ws.loss_and_grad_at(&self.0, batch.inputs(), batch.targets(), batch.cols())
    }
    fn visit_params(&mut self, ws: &TrainWorkspace, f: &mut dyn FnMut(&mut [f64], &[f64])) {
        self.0.visit_params(ws.gradient(), f)
    }
}

#[derive(Debug, Parser)]
#[command(about = "Adam steps per second of flowcert's student training")]
struct Args {
    /// Input and output dimension d.
    #[arg(long, default_value_t = 2)]
    dim: usize,
    /// Hidden width.
    #[arg(long, default_value_t = 64)]
    width: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Minibatch size (at most 4096, the data set size).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Adam steps per student.
    #[arg(long, default_value_t = 2000)]
    steps: usize,
    /// Threads, one student each.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Precision of the training steps: f64 or f32.
    #[arg(long, default_value = "f64")]
    precision: String,
    /// Training step implementation.
    #[arg(long, value_enum, default_value_t = Kernel::Engine)]
    kernel: Kernel,
    /// Instruction set of the engine's kernels.
    #[arg(long, value_enum, default_value_t = Backend::Detect)]
    backend: Backend,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
}

fn check(a: &Args) -> Result<Precision, String> {
    for (name, v) in [
        ("--dim", a.dim),
        ("--width", a.width),
        ("--depth", a.depth),
        ("--batch", a.batch),
        ("--steps", a.steps),
        ("--threads", a.threads),
        ("--repeats", a.repeats),
    ] {
        if v == 0 {
            return Err(format!("{name} 0: use at least 1"));
        }
    }
    if a.batch > DATA {
        return Err(format!(
            "--batch {} exceeds the {DATA} teacher pairs: use at most {DATA}",
            a.batch
        ));
    }
    let precision: Precision = a
        .precision
        .parse()
        .map_err(|e| format!("--precision: {e}"))?;
    if a.kernel == Kernel::Reference && precision != Precision::F64 {
        return Err("--kernel reference computes in f64 only: use --precision f64".into());
    }
    if a.kernel == Kernel::Reference && a.backend != Backend::Detect {
        return Err("--kernel reference has no SIMD backend: drop --backend".into());
    }
    if !a.backend.resolve().is_available() {
        return Err(format!(
            "--backend {}: this CPU lacks its instructions; use --backend detect",
            a.backend.resolve().name()
        ));
    }
    Ok(precision)
}

/// One student's data, initial network and training stream (seeded by `student`).
fn student(a: &Args, student: u64) -> (DMatrix<f64>, DMatrix<f64>, Mlp, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(student);
    let x = DMatrix::from_fn(a.dim, DATA, |_, _| rng.sample::<f64, _>(StandardNormal));
    let y = x.map(|v| v + 0.5 * v.sin());
    let cfg = MlpConfig::new(a.dim, vec![a.width; a.depth], a.dim, Activation::Silu)
        .with_residual(true)
        .check()
        .expect("positive sizes were checked");
    let net = Mlp::new(&cfg, &mut rng);
    (x, y, net, rng)
}

fn fit<M: Trainable>(
    mut m: M,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    tc: &ValidTrainConfig,
    rng: &mut ChaCha8Rng,
) -> f64 {
    train(&mut m, x, y, tc, rng)
        .map(|r| r.final_loss)
        .unwrap_or(f64::NAN)
}

/// Wall time of `threads` students trained at once; the worst final loss.
fn timed(a: &Args, tc: &ValidTrainConfig, pool: &rayon::ThreadPool) -> (f64, f64) {
    let students: Vec<_> = (0..a.threads as u64).map(|s| student(a, s)).collect();
    let start = Instant::now();
    let losses: Vec<f64> = pool.install(|| {
        students
            .into_par_iter()
            .map(|(x, y, net, mut rng)| match a.kernel {
                Kernel::Engine if a.backend == Backend::Detect => fit(net, &x, &y, tc, &mut rng),
                Kernel::Engine => fit(OnBackend(net, a.backend.resolve()), &x, &y, tc, &mut rng),
                Kernel::Reference => fit(ReferenceMlp(net), &x, &y, tc, &mut rng),
            })
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    (
        secs,
        losses
            .into_iter()
            .fold(0.0, |w, l| if l.is_nan() { l } else { w.max(l) }),
    )
}

fn main() -> ExitCode {
    let a = Args::parse();
    let precision = match check(&a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("student_throughput: {e}");
            return ExitCode::from(2);
        }
    };
    let tc = TrainConfig {
        precision,
        ..TrainConfig::new(a.steps, a.batch, LR)
    }
    .check()
    .expect("positive sizes and a positive lr were checked");
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "student_throughput: cannot start {} threads: {e}",
                a.threads
            );
            return ExitCode::from(2);
        }
    };
    timed(&a, &tc, &pool); // warm-up
    let mut rates = Vec::with_capacity(a.repeats);
    let mut worst = 0.0f64;
    for _ in 0..a.repeats {
        let (secs, loss) = timed(&a, &tc, &pool);
        rates.push((a.threads * a.steps) as f64 / secs);
        worst = if loss.is_nan() { loss } else { worst.max(loss) };
    }
    if !worst.is_finite() {
        eprintln!("student_throughput: training diverged (final loss {worst})");
        return ExitCode::from(1);
    }
    rates.sort_by(f64::total_cmp);
    let backend = match a.kernel {
        Kernel::Engine => a.backend.resolve().name(),
        Kernel::Reference => "reference",
    };
    println!(
        "{}",
        serde_json::json!({
            "steps_per_s": rates[rates.len() / 2],
            "dim": a.dim,
            "precision": precision.name(),
            "threads": a.threads,
            "students": a.threads,
            "width": a.width,
            "depth": a.depth,
            "batch": a.batch,
            "steps": a.steps,
            "backend": backend,
            "final_loss": worst,
        })
    );
    ExitCode::SUCCESS
}
