//! One training step of an [`Mlp`] on the kernels of [`super::gemm`]: forward pass
//! with fused bias + activation + derivative, MSE, backward pass, all on buffers
//! allocated once per batch size.
//!
//! ```text
//! forward   z_l = W_l a_{l-1} + b_l,  (a_l, a'_l) = (act(z_l), act'(z_l))   (one pass per block)
//!           Psi = W_L a_{L-1} + b_L (+ x if residual)
//! loss      (1/B) sum |Psi - y|^2,    delta_L = 2 (Psi - y) / B
//! backward  dW_l = delta_l a_{l-1}^T,  db_l = delta_l 1,
//!           delta_{l-1} = (W_l^T delta_l) ⊙ a'_{l-1}
//! ```
//! The operations and their rounding are those of [`Mlp::forward`] and
//! [`Mlp::backward`]; the products accumulate in the orders of [`Mode`].

// The step drives raw-pointer kernels; the buffers' shapes are fixed at construction.
#![allow(unsafe_op_in_unsafe_fn)]

use nalgebra::DMatrix;

use super::super::elem::Elem;
use super::act::activate;
use super::gemm::{Epilogue, Mat, Mode, Nothing, gemm};
use super::simd::Simd;
use crate::nn::train::gather_columns;
use crate::nn::{Activation, Mlp, MlpGradient};

/// What a step needs to know about the network and the batch.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Geometry {
    /// Layer widths `n_0 = d_in, n_1, ..., n_L = d_out`.
    pub sizes: Vec<usize>,
    /// Columns per batch.
    pub batch: usize,
    pub activation: Activation,
    pub residual: bool,
    /// Accumulate every product in the reference order (`f64`), or always fused.
    pub reference_order: bool,
}

impl Geometry {
    pub(super) fn of(net: &Mlp, batch: usize, reference_order: bool) -> Self {
        let mut sizes = vec![net.weights()[0].ncols()];
        sizes.extend(net.weights().iter().map(|w| w.nrows()));
        Geometry {
            sizes,
            batch,
            activation: net.activation(),
            residual: net.is_residual(),
            reference_order,
        }
    }

    /// Whether buffers built for `self` serve `net` on batches of `batch` columns.
    pub(super) fn fits(&self, net: &Mlp, batch: usize) -> bool {
        let w = net.weights();
        self.batch == batch
            && self.activation == net.activation()
            && self.residual == net.is_residual()
            && self.sizes.len() == w.len() + 1
            && self.sizes[0] == w[0].ncols()
            && w.iter().zip(&self.sizes[1..]).all(|(w, &n)| w.nrows() == n)
    }

    fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The accumulation order of layer `l`'s forward product `W_l a_{l-1}`.
    fn forward_order(&self, l: usize) -> Mode {
        let (m, k) = (self.sizes[l + 1], self.sizes[l]);
        if self.reference_order {
            Mode::reference_mul(m, k, self.batch)
        } else {
            Mode::fast_mul(m, k)
        }
    }

    /// Whether a step reads `W_l^T`: the backward product of every layer but the
    /// first, a forward product in dot-product order.
    fn reads_transpose(&self, l: usize) -> bool {
        l > 0 || matches!(self.forward_order(l), Mode::Dot4 | Mode::DotLanes)
    }
}

/// The columns of a step: all of `x` (`d_in x B`) and `y` (`d_out x B`), or the columns
/// `cols` of them (`B = cols.len()`).
#[derive(Clone, Copy)]
pub(super) struct Batch<'a> {
    pub x: &'a DMatrix<f64>,
    pub y: &'a DMatrix<f64>,
    pub cols: Option<&'a [usize]>,
}

impl Batch<'_> {
    /// `B`.
    pub(super) fn len(&self) -> usize {
        self.cols.map_or(self.x.ncols(), <[usize]>::len)
    }
}

/// Every buffer of a step, column-major, in the compute precision `E`.
#[derive(Debug, Clone)]
pub(super) struct Buffers<E> {
    x: Vec<E>,
    y: Vec<E>,
    /// `W_l` and `W_l^T`.
    w: Vec<Vec<E>>,
    wt: Vec<Vec<E>>,
    b: Vec<Vec<E>>,
    /// Hidden activations `a_l` and derivatives `a'_l` (`n_l x B`).
    act: Vec<Vec<E>>,
    dact: Vec<Vec<E>>,
    out: Vec<E>,
    /// `dLoss/dz_l` (`n_l x B`).
    delta: Vec<Vec<E>>,
    /// Gradients of `W_l` and `b_l`.
    gw: Vec<Vec<E>>,
    gb: Vec<Vec<E>>,
    /// A transposed weight gradient, when the short side is the output.
    scratch: Vec<E>,
    /// Squared residuals of a block of columns of the read-out.
    squares: Vec<f64>,
    /// What the read-out's padding rows of `W_L` hold (zero; a test poisons them to show
    /// that they never reach a result).
    pub(super) pad_fill: E,
}

impl<E: Elem> Buffers<E> {
    pub(super) fn new(g: &Geometry) -> Self {
        let (s, bsz) = (&g.sizes, g.batch);
        let layers = g.layers();
        let z = |n: usize| vec![E::ZERO; n];
        let hidden = &s[1..layers];
        Buffers {
            x: z(s[0] * bsz),
            y: z(s[layers] * bsz),
            w: (0..layers)
                .map(|l| z(s[l] * padded(s[l + 1], g, l, MAX_LANES)))
                .collect(),
            wt: (0..layers).map(|l| z(s[l] * s[l + 1])).collect(),
            b: (0..layers).map(|l| z(s[l + 1])).collect(),
            act: hidden.iter().map(|&n| z(n * bsz)).collect(),
            dact: hidden.iter().map(|&n| z(n * bsz)).collect(),
            out: z(padded(s[layers], g, layers - 1, MAX_LANES) * bsz),
            delta: (0..layers).map(|l| z(s[l + 1] * bsz)).collect(),
            gw: (0..layers).map(|l| z(s[l] * s[l + 1])).collect(),
            gb: (0..layers).map(|l| z(s[l + 1])).collect(),
            scratch: z((0..layers).map(|l| s[l] * s[l + 1]).max().unwrap_or(0)),
            squares: vec![0.0; MAX_BLOCK * s[layers]],
            pad_fill: E::ZERO,
        }
    }

    /// Parameters and the batch, rounded to `E`; `W_l^T` beside `W_l` where a step reads
    /// it ([`Geometry::reads_transpose`]), the read-out's `W_L` with `ld_out` rows (the
    /// rows past `d_out` zero).
    #[inline(always)]
    unsafe fn load<S: Simd<E = E>>(
        &mut self,
        g: &Geometry,
        net: &Mlp,
        batch: Batch<'_>,
        ld_out: usize,
    ) {
        let put = |dst: &mut [E], src: &[f64]| {
            dst.iter_mut()
                .zip(src)
                .for_each(|(d, &s)| *d = E::from_f64(s))
        };
        let take = |dst: &mut [E], src: &DMatrix<f64>| match batch.cols {
            None => put(dst, src.as_slice()),
            Some(cols) => gather_columns(dst, src.as_slice(), src.nrows(), cols),
        };
        take(&mut self.x, batch.x);
        take(&mut self.y, batch.y);
        let last = net.depth() - 1;
        for (l, (w, b)) in net.weights().iter().zip(net.biases()).enumerate() {
            let (rows, cols) = w.shape();
            let ld = if l == last { ld_out } else { rows };
            if ld == rows {
                put(&mut self.w[l], w.as_slice());
            } else {
                for (dst, src) in self.w[l]
                    .chunks_exact_mut(ld)
                    .zip(w.as_slice().chunks_exact(rows))
                {
                    put(&mut dst[..rows], src);
                    dst[rows..].fill(self.pad_fill);
                }
            }
            put(&mut self.b[l], b.as_slice());
            if g.reads_transpose(l) {
                transpose::<S>(&self.w[l], ld, &mut self.wt[l], rows, cols);
            }
        }
    }

    /// The gradient, widened to `f64`.
    #[inline(always)]
    fn store(&self, grad: &mut MlpGradient) {
        let put = |dst: &mut [f64], src: &[E]| {
            dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s.to_f64())
        };
        for (l, (w, b)) in grad.weights.iter_mut().zip(&mut grad.biases).enumerate() {
            put(w.as_mut_slice(), &self.gw[l]);
            put(b.as_mut_slice(), &self.gb[l]);
        }
    }
}

/// Load, step, store: the minibatch MSE, its gradient left in `grad`.
///
/// # Safety
/// `buf` and `grad` must have been built for `g`, which must describe `net` and
/// `batch`; the backend's CPU features must be enabled.
#[inline(always)]
pub(super) unsafe fn run<S: Simd, const MV: usize, const NR: usize, const NW: usize>(
    g: &Geometry,
    net: &Mlp,
    batch: Batch<'_>,
    buf: &mut Buffers<S::E>,
    grad: &mut MlpGradient,
) -> f64 {
    debug_assert!(NR <= MAX_BLOCK && NW <= MAX_BLOCK);
    buf.load::<S>(
        g,
        net,
        batch,
        padded(g.sizes[g.layers()], g, g.layers() - 1, S::LANES),
    );
    let loss = forward_backward::<S, MV, NR, NW>(g, buf);
    buf.store(grad);
    loss
}

#[inline(always)]
unsafe fn forward_backward<S: Simd, const MV: usize, const NR: usize, const NW: usize>(
    g: &Geometry,
    buf: &mut Buffers<S::E>,
) -> f64 {
    let (s, bsz, last) = (&g.sizes, g.batch, g.layers() - 1);
    let mode = |reference: Mode, fast: Mode| {
        if g.reference_order { reference } else { fast }
    };
    let col = Mat::col_major;
    let x = buf.x.as_ptr();
    let mut sum = 0.0f64;
    let mut readout_blocked = false;

    // forward
    for l in 0..=last {
        let (m, k) = (s[l + 1], s[l]);
        let input = if l == 0 { x } else { buf.act[l - 1].as_ptr() };
        let ld = padded(m, g, l, S::LANES);
        let (w, wt) = (col(buf.w[l].as_ptr(), ld), col(buf.wt[l].as_ptr(), k));
        let order = g.forward_order(l);
        readout_blocked = matches!(order, Mode::Fused | Mode::Unfused);
        let bias = buf.b[l].as_slice();
        if l < last {
            let (z, d) = (buf.act[l].as_mut_ptr(), buf.dact[l].as_mut_ptr());
            let act = g.activation;
            let mut epi = Activate::<S> { act, z, d, bias };
            gemm::<S, MV, NR, NW>(order, (m, bsz, k), w, wt, col(input, k), z, m, &mut epi);
        } else {
            // the read-out, the loss and its gradient with respect to the output; whole
            // registers of rows where the product runs in register blocks
            let o = buf.out.as_mut_ptr();
            buf.gb[last].fill(S::E::ZERO);
            let (rows, ldo) = if readout_blocked { (ld, ld) } else { (m, m) };
            let mut epi = Output::<S> {
                o,
                ld: ldo,
                whole: readout_blocked,
                bias,
                x: if g.residual { Some(x) } else { None },
                y: buf.y.as_ptr(),
                delta: buf.delta[last].as_mut_ptr(),
                db: buf.gb[last].as_mut_ptr(),
                scale: S::E::from_f64(2.0 / bsz as f64),
                squares: buf.squares.as_mut_ptr(),
                sum: 0.0,
            };
            gemm::<S, MV, NR, NW>(
                order,
                (rows, bsz, k),
                w,
                wt,
                col(input, k),
                o,
                ldo,
                &mut epi,
            );
            sum = epi.sum;
        }
    }

    // backward
    for l in (0..=last).rev() {
        let (m, n) = (s[l + 1], s[l]);
        let input = if l == 0 { x } else { buf.act[l - 1].as_ptr() };
        let delta = col(buf.delta[l].as_ptr(), m);
        let order = mode(Mode::reference_mul_bt(m, bsz, n), Mode::Fused);
        let none = col(std::ptr::null(), 0);
        if m >= n {
            // dW (m x n) = delta (m x B) input^T
            let gw = buf.gw[l].as_mut_ptr();
            gemm::<S, MV, NR, NW>(
                order,
                (m, n, bsz),
                delta,
                none,
                col(input, n).t(),
                gw,
                m,
                &mut Nothing,
            );
        } else {
            // dW^T (n x m) = input (n x B) delta^T, then transpose
            let sc = buf.scratch.as_mut_ptr();
            gemm::<S, MV, NR, NW>(
                order,
                (n, m, bsz),
                col(input, n),
                none,
                delta.t(),
                sc,
                n,
                &mut Nothing,
            );
            for (i, gcol) in buf.gw[l].chunks_exact_mut(m).enumerate() {
                for (r, v) in gcol.iter_mut().enumerate() {
                    *v = buf.scratch[i + r * n];
                }
            }
        }
        if l == last && !readout_blocked {
            // (a blocked read-out's bias gradient was summed with the loss, a hidden
            // layer's with its delta)
            row_sums(&buf.delta[l], &mut buf.gb[l]);
        }
        if l > 0 {
            // delta_{l-1} (n x B) = W_l^T (n x m) delta_l, times act'(z_{l-1})
            let order = mode(Mode::reference_mul(n, m, bsz), Mode::fast_mul(n, m));
            let ld = padded(m, g, l, S::LANES);
            let (wt, w) = (col(buf.wt[l].as_ptr(), n), col(buf.w[l].as_ptr(), ld));
            let (lower, upper) = buf.delta.split_at_mut(l);
            let prev = lower[l - 1].as_mut_ptr();
            let dact = buf.dact[l - 1].as_ptr();
            let delta = col(upper[0].as_ptr(), m);
            buf.gb[l - 1].fill(S::E::ZERO);
            let db = buf.gb[l - 1].as_mut_ptr();
            let mut epi = TimesDerivative::<S> { prev, dact, db, n };
            gemm::<S, MV, NR, NW>(order, (n, bsz, m), wt, w, delta, prev, n, &mut epi);
        }
    }
    sum / bsz as f64
}

/// Hidden layer: bias, activation and its derivative ([`activate`]).
struct Activate<'a, S: Simd> {
    act: Activation,
    z: *mut S::E,
    d: *mut S::E,
    bias: &'a [S::E],
}

impl<S: Simd> Epilogue for Activate<'_, S> {
    #[inline(always)]
    unsafe fn finish(&mut self, j0: usize, nr: usize) {
        let m = self.bias.len();
        activate::<S>(
            self.act,
            self.z.add(j0 * m),
            self.d.add(j0 * m),
            self.bias,
            nr,
        );
    }
}

/// Read-out and loss, column by column as the read-out's blocks finish (the running
/// sums then overlap the next block's products):
///
/// ```text
/// Psi = (z + b) + x   (+ x for a residual network: two roundings, as the reference adds them)
/// r = Psi - y,   sum += r^2 (in f64),   delta_L = (2 / B) r,   db_L += delta_L
/// ```
/// in the reference's orders: `sum` over the entries in column-major order, `db_L`
/// over the columns from the first (what [`row_sums`] would add afterwards). On whole
/// registers of rows where the product stored whole registers (`ld` padded); entry by
/// entry after the dot-product orders, which store single entries (a register load of
/// entries just stored one by one waits for the stores to retire), and `db_L` is then
/// left to [`row_sums`].
struct Output<'a, S: Simd> {
    /// `Psi`, leading dimension `ld` (see [`padded`]).
    o: *mut S::E,
    ld: usize,
    whole: bool,
    bias: &'a [S::E],
    x: Option<*const S::E>,
    y: *const S::E,
    delta: *mut S::E,
    /// The bias gradient, zeroed before the first block.
    db: *mut S::E,
    scale: S::E,
    /// Room for a block's squared residuals (`NW d_out`).
    squares: *mut f64,
    sum: f64,
}

impl<S: Simd> Epilogue for Output<'_, S> {
    /// One vector of rows at a time across the block's columns (its bias-gradient
    /// sums stay in a register), then the squares of the block in column-major order.
    #[inline(always)]
    unsafe fn finish(&mut self, j0: usize, nr: usize) {
        let (m, l) = (self.bias.len(), S::LANES);
        if !self.whole {
            return self.finish_entries(j0, nr);
        }
        let scale = S::splat(self.scale);
        let mut i = 0;
        while i < m {
            let v = Lanes::<S>::at(i, m);
            let load = |p: *const S::E| v.load(p);
            let store = |p: *mut S::E, x: S::V| v.store(p, x);
            let (bias, mut db) = (load(self.bias.as_ptr().add(i)), load(self.db.add(i)));
            for j in j0..j0 + nr {
                let (at, ato) = (i + j * m, i + j * self.ld);
                let mut o = S::add(S::load(self.o.add(ato)), bias);
                if let Some(x) = self.x {
                    o = S::add(o, load(x.add(at)));
                }
                S::store(self.o.add(ato), o);
                let d = S::mul(scale, S::sub(o, load(self.y.add(at))));
                store(self.delta.add(at), d);
                db = S::add(db, d);
            }
            store(self.db.add(i), db);
            i += l;
        }
        self.add_squares(j0, nr);
    }
}

impl<S: Simd> Output<'_, S> {
    /// [`Output`] entry by entry, leaving `db_L` to [`row_sums`].
    #[inline(always)]
    unsafe fn finish_entries(&mut self, j0: usize, nr: usize) {
        let m = self.bias.len();
        let (at, len) = (j0 * m, nr * m);
        let os = std::slice::from_raw_parts_mut(self.o.add(at), len);
        let ys = std::slice::from_raw_parts(self.y.add(at), len);
        let ds = std::slice::from_raw_parts_mut(self.delta.add(at), len);
        for (oc, bias) in os.chunks_exact_mut(m).zip(std::iter::repeat(self.bias)) {
            oc.iter_mut().zip(bias).for_each(|(v, &bi)| *v = *v + bi);
        }
        if let Some(x) = self.x {
            let xs = std::slice::from_raw_parts(x.add(at), len);
            os.iter_mut().zip(xs).for_each(|(v, &xi)| *v = *v + xi);
        }
        for ((d, &o), &t) in ds.iter_mut().zip(&*os).zip(ys) {
            *d = self.scale * (o - t);
        }
        self.add_squares(j0, nr);
    }

    /// The squares of the block's residuals (exact in f64 for f32 differences) side by
    /// side, then their running sum in order: one dependent add per entry.
    #[inline(always)]
    unsafe fn add_squares(&mut self, j0: usize, nr: usize) {
        let m = self.bias.len();
        let ld = self.ld;
        let sq = std::slice::from_raw_parts_mut(self.squares, nr * m);
        let os = std::slice::from_raw_parts(self.o.add(j0 * ld), nr * ld);
        let ys = std::slice::from_raw_parts(self.y.add(j0 * m), nr * m);
        for ((sc, oc), yc) in sq
            .chunks_exact_mut(m)
            .zip(os.chunks_exact(ld))
            .zip(ys.chunks_exact(m))
        {
            for ((s, &o), &t) in sc.iter_mut().zip(oc).zip(yc) {
                let r = (o - t).to_f64();
                *s = r * r;
            }
        }
        self.sum = sum_in_order(self.sum, sq);
    }
}

/// `sum + v_0 + v_1 + ...`, one rounding per term in order. Not inlined: the running sum
/// stays in a register of its own, rather than in a stack slot of the step's large frame
/// (a store and a load per term); its few instructions per term let the chain of adds
/// overlap the next block's products.
#[inline(never)]
fn sum_in_order(mut sum: f64, v: &[f64]) -> f64 {
    for &t in v {
        sum += t;
    }
    sum
}

/// `wt (cols x rows) = w^T`, `w` column-major `rows x cols` with leading dimension `ld`:
/// a register of `wt`'s column at a time, gathered from a row of `w` (whole registers,
/// then single entries).
#[inline(always)]
unsafe fn transpose<S: Simd>(w: &[S::E], ld: usize, wt: &mut [S::E], rows: usize, cols: usize) {
    assert!(w.len() >= ld * cols && ld >= rows && wt.len() >= rows * cols);
    let l = S::LANES;
    // gather offsets are 32-bit (they are tiny: one layer's weights)
    let whole = if ld * l <= i32::MAX as usize {
        cols / l * l
    } else {
        0
    };
    let (w, wt) = (w.as_ptr(), wt.as_mut_ptr());
    for i in 0..rows {
        let col = wt.add(i * cols);
        let mut p = 0;
        while p < whole {
            S::store(col.add(p), S::gather(w.add(i + p * ld), ld));
            p += l;
        }
        for p in whole..cols {
            *col.add(p) = *w.add(i + p * ld);
        }
    }
}

/// Widest register of any backend, in elements (16 x `f32`).
const MAX_LANES: usize = super::gemm::DOT_LANES;
/// Most columns in a block of the products' epilogues (the `NW` of every backend).
pub(super) const MAX_BLOCK: usize = 16;

/// Leading dimension of layer `l`'s `W_l` and output: the read-out's `d_out` rounded up
/// to whole registers of `lanes` (its rows past `d_out` are zero), so that its products
/// and epilogue load and store whole registers; a masked store followed by a load of the
/// same entries (the epilogue reading what the product just wrote) cannot be forwarded
/// and waits for the store to retire. Hidden layers: `m`.
fn padded(m: usize, g: &Geometry, l: usize, lanes: usize) -> usize {
    if l + 1 == g.layers() {
        m.div_ceil(lanes) * lanes
    } else {
        m
    }
}

/// Backward: `delta_{l-1} = (W_l^T delta_l) ⊙ act'(z_{l-1})`, and the bias gradient
/// `db_{l-1} = delta_{l-1} 1` summed as the blocks finish: one vector of rows at a time
/// across the block's columns (its sums stay in a register), over the columns in order
/// from the first, as [`row_sums`] would add them afterwards.
struct TimesDerivative<S: Simd> {
    prev: *mut S::E,
    dact: *const S::E,
    /// The bias gradient, zeroed before the first block.
    db: *mut S::E,
    n: usize,
}

impl<S: Simd> Epilogue for TimesDerivative<S> {
    #[inline(always)]
    unsafe fn finish(&mut self, j0: usize, nr: usize) {
        let n = self.n;
        let mut i = 0;
        while i < n {
            let v = Lanes::<S>::at(i, n);
            let mut db = v.load(self.db.add(i));
            for j in j0..j0 + nr {
                let at = i + j * n;
                let p = S::mul(v.load(self.prev.add(at)), v.load(self.dact.add(at)));
                v.store(self.prev.add(at), p);
                db = S::add(db, p);
            }
            v.store(self.db.add(i), db);
            i += S::LANES;
        }
    }
}

/// A vector of rows `i .. i + LANES` of a column of `m` entries: whole, or masked
/// past `m`.
#[derive(Clone, Copy)]
struct Lanes<S: Simd> {
    part: bool,
    mask: S::Mask,
}

impl<S: Simd> Lanes<S> {
    #[inline(always)]
    unsafe fn at(i: usize, m: usize) -> Self {
        let part = m - i < S::LANES;
        let mask = S::mask(if part { m - i } else { 0 });
        Lanes { part, mask }
    }

    #[inline(always)]
    unsafe fn load(self, p: *const S::E) -> S::V {
        if self.part {
            S::load_masked(p, self.mask)
        } else {
            S::load(p)
        }
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut S::E, v: S::V) {
        if self.part {
            S::store_masked(p, v, self.mask)
        } else {
            S::store(p, v)
        }
    }
}

/// Rows whose running sums [`row_sums`] keeps in registers at once.
const ROW_BLOCK: usize = 64;

/// `out = sum_j delta[:, j]` over the columns of `delta` (`m` rows), in order of `j`
/// from zero (the reference's order), [`ROW_BLOCK`] running sums at a time.
#[inline(always)]
fn row_sums<E: Elem>(delta: &[E], out: &mut [E]) {
    let m = out.len();
    let mut blocks = out.chunks_exact_mut(ROW_BLOCK);
    for (b, ob) in (&mut blocks).enumerate() {
        let mut acc = [E::ZERO; ROW_BLOCK];
        for col in delta.chunks_exact(m) {
            let c = &col[b * ROW_BLOCK..(b + 1) * ROW_BLOCK];
            acc.iter_mut().zip(c).for_each(|(a, &v)| *a = *a + v);
        }
        ob.copy_from_slice(&acc);
    }
    let done = m - blocks.into_remainder().len();
    for (q, o) in out.iter_mut().enumerate().skip(done) {
        *o = delta.chunks_exact(m).fold(E::ZERO, |s, col| s + col[q]);
    }
}
