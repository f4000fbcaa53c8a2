//! The training step of an [`Mlp`] on SIMD kernels chosen at run time:
//! [`TrainWorkspace`] computes the minibatch MSE and its gradient, in `f64` or `f32`
//! ([`Precision`]), on AVX-512, AVX2 + FMA or portable code ([`SimdBackend`]).
//!
//! ```text
//! act.rs    bias + activation + derivative on registers (the forward epilogue)
//! silu64.rs the f64 SiLU: table-driven exp + fused steps, shared with the scalar path
//! gemm.rs   register-blocked products with fused epilogues, fixed accumulation orders
//! simd.rs   the vector registers of each backend
//! step.rs   forward, MSE, backward on buffers allocated once per batch size
//! ```
//!
//! Same seed, same bytes: in `f64` every operation is the one of [`Mlp::forward`] /
//! [`Mlp::backward`] in the same order, so training is bit-identical to the reference
//! path; in `f32` the bytes do not depend on the backend either (every backend fuses
//! where the hardware has an FMA, and no sum depends on the vector width).
//! No `-C target-cpu` is needed: the CPU is probed once ([`SimdBackend::detect`]).

use nalgebra::{DMatrix, DVector};

use super::{Mlp, MlpGradient, NnError, Precision};

mod act;
mod gemm;
pub(crate) mod silu64;
mod simd;
mod step;

pub(crate) use gemm::dot4;
use step::{Batch, Buffers, Geometry};

/// Instruction set of the training kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SimdBackend {
    /// AVX-512F (x86-64): 8 `f64` or 16 `f32` per register.
    Avx512,
    /// AVX2 and FMA (x86-64): 4 `f64` or 8 `f32` per register.
    Avx2,
    /// Plain scalar code, for any CPU.
    Portable,
}

impl SimdBackend {
    /// The widest backend this CPU supports.
    ///
    /// ```
    /// use flowcert::nn::SimdBackend;
    /// assert!(SimdBackend::detect().is_available());
    /// assert!(SimdBackend::Portable.is_available());
    /// ```
    pub fn detect() -> Self {
        [SimdBackend::Avx512, SimdBackend::Avx2]
            .into_iter()
            .find(|b| b.is_available())
            .unwrap_or(SimdBackend::Portable)
    }

    /// Whether this CPU can run the backend.
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            SimdBackend::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && SimdBackend::Avx2.is_available()
            }
            #[cfg(target_arch = "x86_64")]
            SimdBackend::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            SimdBackend::Portable => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Lower-case name (`avx512`, `avx2`, `portable`).
    ///
    /// ```
    /// assert_eq!(flowcert::nn::SimdBackend::Avx2.name(), "avx2");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SimdBackend::Avx512 => "avx512",
            SimdBackend::Avx2 => "avx2",
            SimdBackend::Portable => "portable",
        }
    }
}

#[derive(Debug, Clone)]
enum Store {
    F64(Buffers<f64>),
    F32(Buffers<f32>),
}

/// Buffers and kernels for training steps of one network shape and batch size
/// (nothing is allocated per step). The workspace of [`Trainable`](super::Trainable)
/// for [`Mlp`] and [`LipschitzMlp`](super::LipschitzMlp).
///
/// ```
/// use flowcert::nn::{Activation, Mlp, MlpConfig, Precision, TrainWorkspace};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
/// let cfg = MlpConfig::new(2, vec![16], 2, Activation::Silu).with_residual(true);
/// let net = Mlp::new(&cfg.check().unwrap(), &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
/// let (x, y) = (DMatrix::from_element(2, 8, 0.5), DMatrix::from_element(2, 8, 1.0));
/// // f64 steps are bit-identical to the reference forward/backward pass
/// let mut ws = TrainWorkspace::new(&net, 8, Precision::F64);
/// let mut reference = net.workspace(8);
/// assert_eq!(ws.loss_and_grad(&net, &x, &y), net.loss_and_grad(&x, &y, &mut reference));
/// assert_eq!(ws.gradient(), reference.gradient());
/// ```
#[derive(Debug, Clone)]
pub struct TrainWorkspace {
    backend: SimdBackend,
    precision: Precision,
    geometry: Geometry,
    store: Store,
    grad: MlpGradient,
}

impl TrainWorkspace {
    /// Workspace for `net` and batches of `batch` columns, on [`SimdBackend::detect`].
    pub fn new(net: &Mlp, batch: usize, precision: Precision) -> Self {
        Self::build(net, batch, precision, SimdBackend::detect())
    }

    /// Workspace on a given backend; fails if this CPU cannot run it.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig, Precision, SimdBackend, TrainWorkspace};
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(1, vec![4], 1, Activation::Relu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let ws = TrainWorkspace::with_backend(&net, 4, Precision::F32, SimdBackend::Portable).unwrap();
    /// assert_eq!((ws.backend(), ws.precision(), ws.batch()), (SimdBackend::Portable, Precision::F32, 4));
    /// ```
    pub fn with_backend(
        net: &Mlp,
        batch: usize,
        precision: Precision,
        backend: SimdBackend,
    ) -> Result<Self, NnError> {
        if !backend.is_available() {
            return Err(NnError::InvalidParameter {
                name: "backend",
                value: f64::NAN,
                fix: "this CPU lacks the backend's instructions: use SimdBackend::detect()",
            });
        }
        Ok(Self::build(net, batch, precision, backend))
    }

    fn build(net: &Mlp, batch: usize, precision: Precision, backend: SimdBackend) -> Self {
        let geometry = Geometry::of(net, batch, precision == Precision::F64);
        let store = match precision {
            Precision::F64 => Store::F64(Buffers::new(&geometry)),
            Precision::F32 => Store::F32(Buffers::new(&geometry)),
        };
        let grad = MlpGradient {
            weights: net
                .weights()
                .iter()
                .map(|w| DMatrix::zeros(w.nrows(), w.ncols()))
                .collect(),
            biases: net
                .biases()
                .iter()
                .map(|b| DVector::zeros(b.len()))
                .collect(),
        };
        TrainWorkspace {
            backend,
            precision,
            geometry,
            store,
            grad,
        }
    }

    /// The backend the steps run on.
    pub fn backend(&self) -> SimdBackend {
        self.backend
    }

    /// The precision of the forward and backward passes.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Batch size the buffers are sized for.
    pub fn batch(&self) -> usize {
        self.geometry.batch
    }

    /// Gradient left by the last [`TrainWorkspace::loss_and_grad`], in `f64`.
    pub fn gradient(&self) -> &MlpGradient {
        &self.grad
    }

    /// Minibatch MSE `(1/B) sum_j |Psi(x_j) - y_j|^2` of `net`, leaving its gradient in
    /// [`TrainWorkspace::gradient`] (see [`TrainWorkspace`] for an example). Rebuilds the
    /// buffers if `net` or the batch has another shape than they were built for.
    ///
    /// # Panics
    /// If `x` is not `d_in x B` or `y` is not `d_out x B` (as [`Mlp::loss_and_grad`]).
    pub fn loss_and_grad(&mut self, net: &Mlp, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
        let d_out = net.biases()[net.depth() - 1].len();
        assert_eq!(y.shape(), (d_out, x.ncols()), "Mlp: target shape");
        self.step(net, Batch { x, y, cols: None })
    }

    /// [`TrainWorkspace::loss_and_grad`] on the columns `cols` of `inputs` and `targets`
    /// (`B = cols.len()`), read where they are and rounded to the step's precision on
    /// the way: the same bits as on the gathered columns.
    ///
    /// ```
    /// use flowcert::nn::{Activation, Mlp, MlpConfig, Precision, TrainWorkspace};
    /// use nalgebra::DMatrix;
    /// use rand::SeedableRng;
    /// let cfg = MlpConfig::new(2, vec![8], 2, Activation::Silu).check().unwrap();
    /// let net = Mlp::new(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// let x = DMatrix::from_fn(2, 10, |i, j| (i + 2 * j) as f64 / 10.0);
    /// let y = x.map(f64::sin);
    /// let cols = [7, 2, 2, 9];
    /// let mut ws = TrainWorkspace::new(&net, 4, Precision::F32);
    /// let at = ws.loss_and_grad_at(&net, &x, &y, &cols);
    /// let pick = |m: &DMatrix<f64>| m.select_columns(&cols);
    /// assert_eq!(at, ws.loss_and_grad(&net, &pick(&x), &pick(&y)));
    /// ```
    ///
    /// # Panics
    /// If `inputs` has not `d_in` rows, `targets` not `d_out` rows or another number of
    /// columns, `cols` is empty or names a column past the last.
    pub fn loss_and_grad_at(
        &mut self,
        net: &Mlp,
        inputs: &DMatrix<f64>,
        targets: &DMatrix<f64>,
        cols: &[usize],
    ) -> f64 {
        let d_out = net.biases()[net.depth() - 1].len();
        let n = inputs.ncols();
        assert_eq!(targets.shape(), (d_out, n), "Mlp: target shape");
        assert!(
            cols.iter().all(|&c| c < n),
            "Mlp: a minibatch column out of range"
        );
        let batch = Batch {
            x: inputs,
            y: targets,
            cols: Some(cols),
        };
        self.step(net, batch)
    }

    fn step(&mut self, net: &Mlp, batch: Batch<'_>) -> f64 {
        let d_in = net.weights()[0].ncols();
        assert_eq!(
            batch.x.nrows(),
            d_in,
            "Mlp: input has the wrong number of rows"
        );
        assert!(batch.len() > 0, "Mlp: empty batch");
        if !self.geometry.fits(net, batch.len()) {
            *self = Self::build(net, batch.len(), self.precision, self.backend);
        }
        let (g, grad) = (&self.geometry, &mut self.grad);
        // SAFETY: the buffers were built for `g`, which describes `net` and `batch`;
        // each backend runs only where `is_available` said its features are present.
        unsafe {
            match (&mut self.store, self.backend) {
                #[cfg(target_arch = "x86_64")]
                (Store::F64(b), SimdBackend::Avx512) => x86::avx512_f64(g, net, batch, b, grad),
                #[cfg(target_arch = "x86_64")]
                (Store::F32(b), SimdBackend::Avx512) => x86::avx512_f32(g, net, batch, b, grad),
                #[cfg(target_arch = "x86_64")]
                (Store::F64(b), SimdBackend::Avx2) => x86::avx2_f64(g, net, batch, b, grad),
                #[cfg(target_arch = "x86_64")]
                (Store::F32(b), SimdBackend::Avx2) => x86::avx2_f32(g, net, batch, b, grad),
                (Store::F64(b), _) => {
                    step::run::<simd::Portable<f64>, 4, 4, 8>(g, net, batch, b, grad)
                }
                (Store::F32(b), _) => {
                    step::run::<simd::Portable<f32>, 4, 4, 8>(g, net, batch, b, grad)
                }
            }
        }
    }
}

/// The step compiled for each x86-64 backend: 4 x 6 (AVX-512) and 2 x 4 (AVX2)
/// register blocks of C, filling 24 of 32 and 8 of 16 vector registers; a C of less than
/// one block of rows (the read-out) in 1 x 16 and 1 x 8 blocks.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::simd::{Avx2F32, Avx2F64, Avx512F32, Avx512F64};
    use super::step::{Batch, Buffers, Geometry, run};
    use crate::nn::{Mlp, MlpGradient};

    macro_rules! entry {
        ($name:ident, $simd:ty, $e:ty, $mv:literal, $nr:literal, $nw:literal, $features:literal) => {
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $name(
                g: &Geometry,
                net: &Mlp,
                batch: Batch<'_>,
                buf: &mut Buffers<$e>,
                grad: &mut MlpGradient,
            ) -> f64 {
                // SAFETY: forwarded from `TrainWorkspace::step`.
                unsafe { run::<$simd, $mv, $nr, $nw>(g, net, batch, buf, grad) }
            }
        };
    }

    entry!(
        avx512_f64,
        Avx512F64,
        f64,
        4,
        6,
        16,
        "avx512f,avx512vl,avx2,fma"
    );
    entry!(
        avx512_f32,
        Avx512F32,
        f32,
        4,
        6,
        16,
        "avx512f,avx512vl,avx2,fma"
    );
    entry!(avx2_f64, Avx2F64, f64, 2, 4, 8, "avx2,fma");
    entry!(avx2_f32, Avx2F32, f32, 2, 4, 8, "avx2,fma");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, MlpConfig};
    use rand::SeedableRng;

    /// The read-out's padding rows (`W_L` rounded up to whole registers of rows) never
    /// reach the loss or the gradient: poisoned with NaN, every backend and precision
    /// gives the same bits as with zeros. The kept mutation: poisoning a real row of
    /// `W_L` instead must change them (so the comparison can fail).
    #[test]
    fn padding_rows_of_the_read_out_never_reach_a_result() {
        for (d, hidden, batch) in [(8, 64, 256), (20, 32, 100), (3, 9, 37)] {
            let cfg = MlpConfig::new(d, vec![hidden], d, Activation::Silu).with_residual(true);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(d as u64);
            let net = Mlp::new(&cfg.check().unwrap(), &mut rng);
            let x = DMatrix::from_fn(d, batch, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.3 - 1.5);
            let y = x.map(|v| v.sin());
            for backend in [
                SimdBackend::Avx512,
                SimdBackend::Avx2,
                SimdBackend::Portable,
            ] {
                for precision in [Precision::F64, Precision::F32] {
                    let Ok(mut ws) = TrainWorkspace::with_backend(&net, batch, precision, backend)
                    else {
                        continue;
                    };
                    let bits = |ws: &mut TrainWorkspace| {
                        let loss = ws.loss_and_grad(&net, &x, &y).to_bits();
                        let grad = ws.gradient().flat().iter().map(|v| v.to_bits()).collect();
                        (loss, grad)
                    };
                    let clean: (u64, Vec<u64>) = bits(&mut ws);
                    let poison = |ws: &mut TrainWorkspace| match &mut ws.store {
                        Store::F64(b) => b.pad_fill = f64::NAN,
                        Store::F32(b) => b.pad_fill = f32::NAN,
                    };
                    poison(&mut ws);
                    let what = format!("d = {d} on {} in {precision:?}", backend.name());
                    assert_eq!(bits(&mut ws), clean, "{what}");
                    // the mutation: a NaN in a row the read-out uses
                    let mut broken = net.clone();
                    let mut p = broken.params();
                    let last = p.len() - d * hidden - d;
                    p[last] = f64::NAN;
                    broken.set_params(&p).unwrap();
                    let loss = ws.loss_and_grad(&broken, &x, &y);
                    assert!(loss.is_nan(), "{what}: a NaN weight must reach the loss");
                }
            }
        }
    }
}
