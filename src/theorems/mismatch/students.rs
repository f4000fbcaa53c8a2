//! Lipschitz-budgeted students: one-step and N-step compositions.
//!
//! ```text
//! grid      t_min = t_0 < t_1 < ... < t_N = T
//! teacher   (x, Phi_{t_i -> t_{i-1}}(x)),  x ~ p_{t_i}               (segment i = 1..N)
//! student   Psi = Psi_1 o ... o Psi_N,  Psi_i a LipschitzMlp with Lip(Psi_i) <= M (certified)
//! so        Lip(Psi) <= prod_i Lip(Psi_i) <= M^N                      (N = 1: one step)
//! ```
//! Each `Psi_i` is trained by Adam on its segment's teacher pairs, projected into the budget
//! after every step (`nn::LipschitzMlp`); the certificate of the composition is the product
//! of the segments' certificates, each from exact spectral norms.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::MismatchError;
use crate::dynamics::ExactFlow;
use crate::flowmap::{FlowMap, MapError};
use crate::model::Mixture;
use crate::nn::{LipschitzConfig, LipschitzMlp, ValidStudentBudget, train};
use crate::seed;

/// Teacher solves are split into chunks of this many points (the parallel work unit).
const TEACHER_CHUNK: usize = 128;

/// Teacher pairs of every segment of one grid.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherData {
    /// The grid `t_0 .. t_N`.
    pub times: Vec<f64>,
    /// `inputs[i - 1]`: samples of `p_{t_i}` (d x samples).
    pub inputs: Vec<DMatrix<f64>>,
    /// `targets[i - 1] = Phi_{t_i -> t_{i-1}}(inputs[i - 1])`.
    pub targets: Vec<DMatrix<f64>>,
}

impl TeacherData {
    /// Sample and solve (parallel over chunks of points of all segments). Deterministic in
    /// `seed`; the draws of segment i depend on `(seed, N, i)` only.
    ///
    /// ```
    /// use flowcert::dynamics::Teacher;
    /// use flowcert::theorems::mismatch::TeacherData;
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let flow = Teacher::REFERENCE.flow(&mix);
    /// let data = TeacherData::generate(&mix, &flow, &[0.1, 0.5, 1.0], 8, 3).unwrap();
    /// assert_eq!((data.inputs.len(), data.targets[1].ncols()), (2, 8));
    /// ```
    pub fn generate(
        mix: &Mixture,
        flow: &ExactFlow,
        times: &[f64],
        samples: usize,
        seed: u64,
    ) -> Result<Self, MismatchError> {
        let n = times.len() - 1;
        let inputs: Vec<DMatrix<f64>> = (1..=n)
            .map(|i| {
                let mut rng = seed::rng(seed::MISMATCH, seed, &[1, n as u64, i as u64]);
                mix.sample(times[i], samples, &mut rng)
            })
            .collect();
        let tasks: Vec<(usize, usize, usize)> = (1..=n)
            .flat_map(|i| {
                (0..samples)
                    .step_by(TEACHER_CHUNK)
                    .map(move |s| (i, s, TEACHER_CHUNK.min(samples - s)))
            })
            .collect();
        let solved: Vec<Result<DMatrix<f64>, MismatchError>> = tasks
            .par_iter()
            .map(|&(i, s, len)| {
                let x = inputs[i - 1].columns(s, len).into_owned();
                Ok(flow.map_batch_serial(&x, times[i], times[i - 1])?.0)
            })
            .collect();
        let d = mix.dim();
        let mut targets = vec![DMatrix::zeros(d, samples); n];
        for (&(i, s, len), y) in tasks.iter().zip(solved) {
            targets[i - 1].columns_mut(s, len).copy_from(&y?);
        }
        Ok(TeacherData {
            times: times.to_vec(),
            inputs,
            targets,
        })
    }
}

/// `Psi = Psi_1 o ... o Psi_N`, each step a [`LipschitzMlp`] with budget `M`.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetedStudent {
    /// The grid `t_0 .. t_N`.
    pub times: Vec<f64>,
    /// `steps[i - 1] = Psi_i`, mapping time `t_i` to `t_{i-1}`.
    pub steps: Vec<LipschitzMlp>,
    /// Final training MSE of each step.
    pub train_loss: Vec<f64>,
}

impl BudgetedStudent {
    /// Train every step on `data` under the budget `M`, one after the other (see
    /// [`BudgetedStudent::train_step`] for the parallel unit). Initialisation and minibatches of step i depend on `(seed, N, i)` only, so
    /// students of different budgets share their random numbers.
    ///
    /// ```
    /// use flowcert::{nn::StudentBudget, theorems::mismatch::{BudgetedStudent, TeacherData, student}};
    /// use nalgebra::DMatrix;
    /// let x = DMatrix::from_fn(2, 32, |i, j| (i + j) as f64 / 32.0);
    /// let data = TeacherData { times: vec![0.1, 1.0], inputs: vec![x.clone()], targets: vec![x * 3.0] };
    /// let spec = StudentBudget { width: 8, steps: 20, batch: 8, samples: 32, ..student() }.check().unwrap();
    /// let s = BudgetedStudent::train(&data, 2.0, &spec, 0).unwrap();
    /// assert!(s.certified_lipschitz() <= 2.0);
    /// ```
    pub fn train(
        data: &TeacherData,
        budget: f64,
        spec: &ValidStudentBudget,
        seed: u64,
    ) -> Result<Self, MismatchError> {
        let n = data.times.len() - 1;
        let steps = (1..=n)
            .map(|i| Self::train_step(data, i, budget, spec, seed))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_steps(data, steps))
    }

    /// Train step `i` (`1..=N`, mapping `t_i` to `t_{i-1}`) alone, with its final training
    /// MSE: the unit of [`BudgetedStudent::train`], which callers may run in parallel
    /// across steps and students (the result depends on `(seed, N, i)` only).
    ///
    /// ```
    /// use flowcert::{nn::StudentBudget, theorems::mismatch::{BudgetedStudent, TeacherData, student}};
    /// let x = nalgebra::DMatrix::from_fn(2, 16, |i, j| (i * j) as f64 / 16.0);
    /// let data = TeacherData { times: vec![0.1, 0.5, 1.0], inputs: vec![x.clone(), x.clone()],
    ///     targets: vec![x.clone(), x] };
    /// let spec = StudentBudget { width: 4, steps: 5, batch: 4, samples: 16, ..student() }.check().unwrap();
    /// let whole = BudgetedStudent::train(&data, 3.0, &spec, 1).unwrap();
    /// let parts = (1..=2).map(|i| BudgetedStudent::train_step(&data, i, 3.0, &spec, 1).unwrap()).collect();
    /// assert_eq!(BudgetedStudent::from_steps(&data, parts), whole);
    /// ```
    pub fn train_step(
        data: &TeacherData,
        i: usize,
        budget: f64,
        spec: &ValidStudentBudget,
        seed: u64,
    ) -> Result<(LipschitzMlp, f64), MismatchError> {
        let n = data.times.len() - 1;
        let d = data.inputs.first().map_or(0, |x| x.nrows());
        let cfg = LipschitzConfig {
            mlp: spec.network(d),
            budget,
        }
        .check()?;
        let tcfg = spec.training()?;
        let mut rng = seed::rng(seed::MISMATCH, seed, &[2, n as u64, i as u64]);
        let mut net = LipschitzMlp::new(&cfg, &mut rng);
        let rep = train(
            &mut net,
            &data.inputs[i - 1],
            &data.targets[i - 1],
            &tcfg,
            &mut rng,
        )?;
        Ok((net, rep.final_loss))
    }

    /// The student whose steps `1..=N` are `steps` (in order, as
    /// [`BudgetedStudent::train_step`] returns them) on the grid of `data`.
    pub fn from_steps(data: &TeacherData, steps: Vec<(LipschitzMlp, f64)>) -> Self {
        let (steps, train_loss) = steps.into_iter().unzip();
        BudgetedStudent {
            times: data.times.clone(),
            steps,
            train_loss,
        }
    }

    /// Number of steps N.
    ///
    /// ```
    /// use flowcert::{nn::StudentBudget, theorems::mismatch::{BudgetedStudent, TeacherData, student}};
    /// let x = nalgebra::DMatrix::from_fn(2, 16, |i, j| (i * j) as f64 / 16.0);
    /// let data = TeacherData { times: vec![0.1, 0.5, 1.0], inputs: vec![x.clone(), x.clone()],
    ///     targets: vec![x.clone(), x] };
    /// let spec = StudentBudget { width: 4, steps: 5, batch: 4, samples: 16, ..student() }.check().unwrap();
    /// let s = BudgetedStudent::train(&data, 3.0, &spec, 1).unwrap();
    /// assert_eq!(s.segments(), 2);
    /// assert!(s.certified_lipschitz() <= 9.0);
    /// ```
    pub fn segments(&self) -> usize {
        self.steps.len()
    }

    /// `prod_i certified Lip(Psi_i) >= Lip(Psi)` (each factor `<= M`).
    ///
    /// ```
    /// use flowcert::{nn::StudentBudget, theorems::mismatch::{BudgetedStudent, TeacherData, student}};
    /// let x = nalgebra::DMatrix::from_fn(2, 16, |i, j| (i * j) as f64 / 16.0);
    /// let data = TeacherData { times: vec![0.1, 0.5, 1.0], inputs: vec![x.clone(), x.clone()],
    ///     targets: vec![x.clone(), x] };
    /// let spec = StudentBudget { width: 4, steps: 5, batch: 4, samples: 16, ..student() }.check().unwrap();
    /// let s = BudgetedStudent::train(&data, 3.0, &spec, 1).unwrap();
    /// assert_eq!(s.segments(), 2);
    /// assert!(s.certified_lipschitz() <= 9.0);
    /// ```
    pub fn certified_lipschitz(&self) -> f64 {
        self.steps
            .iter()
            .map(LipschitzMlp::certified_lipschitz)
            .product()
    }
}

/// `Psi(x) = Psi_1(...Psi_N(x))`: the steps are applied from `t_N = T` down to `t_0`.
impl FlowMap for BudgetedStudent {
    fn dim_in(&self) -> usize {
        self.steps.last().map_or(0, |s| s.dim_in())
    }
    fn dim_out(&self) -> usize {
        self.steps.first().map_or(0, |s| s.dim_out())
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        let y = self.map_batch(&DMatrix::from_column_slice(x.len(), 1, x))?;
        Ok(y.column(0).into_owned())
    }
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        MapError::check_input(self.dim_in(), xs.nrows())?;
        self.steps
            .iter()
            .rev()
            .try_fold(xs.clone(), |z, s| s.map_batch(&z))
    }
}

/// The mode centres `alpha_t mu_k` at time `t` (labels of the images in the pair search).
///
/// ```
/// let c = flowcert::theorems::mismatch::students::centres(&flowcert::model::builtin::two_mode(0.1), 0.0);
/// assert_eq!(c[1][0], 1.5);
/// ```
pub fn centres(mix: &Mixture, t: f64) -> Vec<DVector<f64>> {
    let a = mix.coeffs(t).alpha;
    mix.components().iter().map(|c| &c.mean * a).collect()
}
