//! A computation-graph builder that lowers to layered [`Network`]s.
//!
//! Values are affine expressions ([`Lin`]) over graph nodes (the inputs and the neurons
//! created so far); linear algebra on them is free (it folds into the next layer's
//! weights). A neuron `act(lin)` sits at level `1 + max level of its inputs` (inputs are
//! level 0). Lowering puts every neuron into the layer of its level and carries a value
//! needed by a later layer through identity neurons, one per skipped layer: this is the
//! parallel combinator with identity pass-through, done once for the whole graph, so
//! branches of different depth line up automatically. Neurons no output depends on are
//! dropped.

use std::collections::BTreeMap;
use std::ops::{Add, Mul, Neg, Sub};

use super::network::{Activation, Layer, Network};

/// A node of the graph: an input coordinate or a neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// Input coordinate `i`.
    Input(u32),
    /// Neuron `i` (creation order).
    Neuron(u32),
}

/// An affine expression `sum_i w_i node_i + c` (terms sorted, merged, no zero weights).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lin {
    terms: Vec<(Node, f64)>,
    constant: f64,
}

impl Lin {
    /// The constant `c`.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Lin::constant(2.0).as_constant(), Some(2.0));
    /// ```
    pub fn constant(c: f64) -> Self {
        Lin {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// The value of one node.
    ///
    /// ```
    /// use flowcert::approx::{Lin, Node};
    /// assert_eq!(Lin::node(Node::Input(0)).terms().len(), 1);
    /// ```
    pub fn node(n: Node) -> Self {
        Lin {
            terms: vec![(n, 1.0)],
            constant: 0.0,
        }
    }

    /// The terms `(node, weight)`.
    ///
    /// ```
    /// use flowcert::approx::{Lin, Node};
    /// let l = Lin::node(Node::Input(1)) * 2.0 + Lin::node(Node::Input(0));
    /// assert_eq!(l.terms(), &[(Node::Input(0), 1.0), (Node::Input(1), 2.0)]);
    /// ```
    pub fn terms(&self) -> &[(Node, f64)] {
        &self.terms
    }

    /// The constant part.
    ///
    /// ```
    /// assert_eq!((flowcert::approx::Lin::constant(3.0) + 1.0).constant_part(), 4.0);
    /// ```
    pub fn constant_part(&self) -> f64 {
        self.constant
    }

    /// `Some(c)` when the expression has no node term.
    ///
    /// ```
    /// use flowcert::approx::{Lin, Node};
    /// assert_eq!(Lin::node(Node::Input(0)).as_constant(), None);
    /// ```
    pub fn as_constant(&self) -> Option<f64> {
        self.terms.is_empty().then_some(self.constant)
    }

    /// `self + w * other`.
    ///
    /// ```
    /// use flowcert::approx::{Lin, Node};
    /// let x = Lin::node(Node::Input(0));
    /// assert!(x.axpy(-1.0, &x).terms().is_empty());
    /// ```
    pub fn axpy(&self, w: f64, other: &Lin) -> Lin {
        let mut map: BTreeMap<Node, f64> = self.terms.iter().copied().collect();
        for &(n, v) in &other.terms {
            *map.entry(n).or_insert(0.0) += w * v;
        }
        Lin {
            terms: map.into_iter().filter(|(_, v)| *v != 0.0).collect(),
            constant: self.constant + w * other.constant,
        }
    }

    /// `w * self`.
    fn scaled(&self, w: f64) -> Lin {
        if w == 0.0 {
            return Lin::constant(0.0);
        }
        Lin {
            terms: self.terms.iter().map(|&(n, v)| (n, v * w)).collect(),
            constant: self.constant * w,
        }
    }
}

impl Add<&Lin> for &Lin {
    type Output = Lin;
    fn add(self, rhs: &Lin) -> Lin {
        self.axpy(1.0, rhs)
    }
}

impl Add<Lin> for Lin {
    type Output = Lin;
    fn add(self, rhs: Lin) -> Lin {
        self.axpy(1.0, &rhs)
    }
}

impl Sub<&Lin> for &Lin {
    type Output = Lin;
    fn sub(self, rhs: &Lin) -> Lin {
        self.axpy(-1.0, rhs)
    }
}

impl Sub<Lin> for Lin {
    type Output = Lin;
    fn sub(self, rhs: Lin) -> Lin {
        self.axpy(-1.0, &rhs)
    }
}

impl Add<f64> for Lin {
    type Output = Lin;
    fn add(mut self, rhs: f64) -> Lin {
        self.constant += rhs;
        self
    }
}

impl Mul<f64> for Lin {
    type Output = Lin;
    fn mul(self, rhs: f64) -> Lin {
        self.scaled(rhs)
    }
}

impl Mul<f64> for &Lin {
    type Output = Lin;
    fn mul(self, rhs: f64) -> Lin {
        self.scaled(rhs)
    }
}

impl Neg for Lin {
    type Output = Lin;
    fn neg(self) -> Lin {
        self.scaled(-1.0)
    }
}

impl Neg for &Lin {
    type Output = Lin;
    fn neg(self) -> Lin {
        self.scaled(-1.0)
    }
}

/// A row waiting for its layer: (slot, weights, bias, activation).
type PendingRow = (u32, Vec<(usize, f64)>, f64, Activation);

#[derive(Debug, Clone)]
struct NeuronSpec {
    act: Activation,
    input: Lin,
    level: u32,
}

/// Builds a graph of neurons over `n_inputs` inputs, then lowers it to a [`Network`].
///
/// ```
/// use flowcert::approx::{Activation, Builder};
/// let mut b = Builder::new(2);
/// let (x, y) = (b.input(0), b.input(1));
/// // x*y = ((x+y)^2 - (x-y)^2)/4 with four ReQU neurons
/// let s = &x + &y;
/// let d = &x - &y;
/// let sq = |b: &mut Builder, z: &flowcert::approx::Lin| {
///     b.neuron(Activation::Requ, z) + b.neuron(Activation::Requ, &-z)
/// };
/// let prod = (sq(&mut b, &s) - sq(&mut b, &d)) * 0.25;
/// let net = b.finish(&[prod]);
/// assert_eq!(net.eval(&[3.0, -2.0]), vec![-6.0]);
/// assert_eq!(net.counts().depth, 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    n_inputs: usize,
    neurons: Vec<NeuronSpec>,
}

impl Builder {
    /// A builder over `n_inputs` input coordinates.
    ///
    /// ```
    /// assert_eq!(flowcert::approx::Builder::new(3).n_neurons(), 0);
    /// ```
    pub fn new(n_inputs: usize) -> Self {
        Builder {
            n_inputs,
            neurons: Vec::new(),
        }
    }

    /// Input coordinate `i` as an expression.
    ///
    /// # Panics
    /// For `i >= n_inputs` (a programming error in the construction).
    ///
    /// ```
    /// let b = flowcert::approx::Builder::new(2);
    /// assert_eq!(b.level(&b.input(1)), 0);
    /// ```
    pub fn input(&self, i: usize) -> Lin {
        assert!(i < self.n_inputs, "input {i} out of range");
        Lin::node(Node::Input(i as u32))
    }

    /// Neurons created so far (dead ones included).
    ///
    /// ```
    /// let mut b = flowcert::approx::Builder::new(1);
    /// let x = b.input(0);
    /// b.neuron(flowcert::approx::Activation::Relu, &x);
    /// assert_eq!(b.n_neurons(), 1);
    /// ```
    pub fn n_neurons(&self) -> usize {
        self.neurons.len()
    }

    /// The level of an expression: the largest level of its nodes (0 for constants).
    ///
    /// ```
    /// use flowcert::approx::{Activation, Builder};
    /// let mut b = Builder::new(1);
    /// let x = b.input(0);
    /// let h = b.neuron(Activation::Relu, &x);
    /// let h2 = b.neuron(Activation::Relu, &h);
    /// assert_eq!((b.level(&h), b.level(&(&h2 + &x))), (1, 2));
    /// ```
    pub fn level(&self, lin: &Lin) -> u32 {
        lin.terms
            .iter()
            .map(|&(n, _)| self.node_level(n))
            .max()
            .unwrap_or(0)
    }

    fn node_level(&self, n: Node) -> u32 {
        match n {
            Node::Input(_) => 0,
            Node::Neuron(i) => self.neurons[i as usize].level,
        }
    }

    /// A new neuron `act(lin)`, returned as an expression. Constants are folded (no neuron).
    ///
    /// ```
    /// use flowcert::approx::{Activation, Builder, Lin};
    /// let mut b = Builder::new(1);
    /// assert_eq!(b.neuron(Activation::Requ, &Lin::constant(-3.0)).as_constant(), Some(0.0));
    /// assert_eq!(b.n_neurons(), 0);
    /// ```
    pub fn neuron(&mut self, act: Activation, lin: &Lin) -> Lin {
        if let Some(c) = lin.as_constant() {
            return Lin::constant(act.apply(c));
        }
        let level = self.level(lin) + 1;
        let id = self.neurons.len() as u32;
        self.neurons.push(NeuronSpec {
            act,
            input: lin.clone(),
            level,
        });
        Lin::node(Node::Neuron(id))
    }

    /// `ReLU(lin)`.
    ///
    /// ```
    /// let mut b = flowcert::approx::Builder::new(1);
    /// let x = b.input(0);
    /// let r = b.relu(&x);
    /// assert_eq!(b.finish(&[r]).eval(&[-2.0]), vec![0.0]);
    /// ```
    pub fn relu(&mut self, lin: &Lin) -> Lin {
        self.neuron(Activation::Relu, lin)
    }

    /// `ReQU(lin)`.
    ///
    /// ```
    /// let mut b = flowcert::approx::Builder::new(1);
    /// let x = b.input(0);
    /// let r = b.requ(&x);
    /// assert_eq!(b.finish(&[r]).eval(&[-2.0]), vec![0.0]);
    /// ```
    pub fn requ(&mut self, lin: &Lin) -> Lin {
        self.neuron(Activation::Requ, lin)
    }

    /// Materialise an expression with more than one term as one identity neuron (one
    /// more level, but later uses cost one weight instead of one per term).
    ///
    /// ```
    /// let mut b = flowcert::approx::Builder::new(2);
    /// let s = &b.input(0) + &b.input(1);
    /// let m = b.materialize(&s);
    /// assert_eq!((m.terms().len(), b.level(&m)), (1, 1));
    /// ```
    pub fn materialize(&mut self, lin: &Lin) -> Lin {
        if lin.terms.len() <= 1 {
            return lin.clone();
        }
        self.neuron(Activation::Identity, lin)
    }

    /// Evaluate the graph directly at one input, without lowering (a reference for the
    /// lowering: the network of [`Builder::finish`] computes the same values).
    ///
    /// ```
    /// use flowcert::approx::Builder;
    /// let mut b = Builder::new(1);
    /// let x = b.input(0);
    /// let h = b.requ(&(&x * 2.0));
    /// let out = vec![&h + &x];
    /// assert_eq!(b.eval_direct(&[3.0], &out), vec![39.0]);
    /// assert_eq!(b.finish(&out).eval(&[3.0]), vec![39.0]);
    /// ```
    pub fn eval_direct(&self, input: &[f64], outputs: &[Lin]) -> Vec<f64> {
        let mut vals: Vec<f64> = Vec::with_capacity(self.neurons.len());
        let value = |lin: &Lin, vals: &[f64]| {
            lin.terms.iter().fold(lin.constant, |acc, &(n, w)| {
                acc + w * match n {
                    Node::Input(i) => input[i as usize],
                    Node::Neuron(i) => vals[i as usize],
                }
            })
        };
        for s in &self.neurons {
            let z = value(&s.input, &vals);
            vals.push(s.act.apply(z));
        }
        outputs.iter().map(|o| value(o, &vals)).collect()
    }

    /// Lower the graph to layers; the outputs form the final affine layer.
    ///
    /// ```
    /// use flowcert::approx::{Activation, Builder};
    /// let mut b = Builder::new(1);
    /// let x = b.input(0);
    /// let h1 = b.relu(&x);
    /// let h2 = b.relu(&h1);
    /// let h3 = b.relu(&h2);
    /// let out = &h3 + &x; // x is carried through two identity neurons
    /// let net = b.finish(&[out]);
    /// assert_eq!(net.counts().depth, 4);
    /// assert_eq!(net.eval(&[2.0]), vec![4.0]);
    /// assert_eq!(net.layers()[1].count(Activation::Identity), 1);
    /// ```
    pub fn finish(self, outputs: &[Lin]) -> Network {
        let nn = self.neurons.len();
        let ni = self.n_inputs;
        // Reachability from the outputs (neurons only reference earlier neurons).
        let mut used = vec![false; nn];
        for o in outputs {
            for &(n, _) in &o.terms {
                if let Node::Neuron(i) = n {
                    used[i as usize] = true;
                }
            }
        }
        for i in (0..nn).rev() {
            if used[i] {
                for &(n, _) in &self.neurons[i].input.terms {
                    if let Node::Neuron(j) = n {
                        used[j as usize] = true;
                    }
                }
            }
        }
        let depth = self
            .neurons
            .iter()
            .zip(&used)
            .filter(|(_, u)| **u)
            .map(|(s, _)| s.level)
            .max()
            .unwrap_or(0)
            + 1;
        // Node index: inputs 0..ni, neuron i -> ni + i.
        let idx = |n: Node| match n {
            Node::Input(i) => i as usize,
            Node::Neuron(i) => ni + i as usize,
        };
        let level_of = |k: usize| {
            if k < ni {
                0
            } else {
                self.neurons[k - ni].level
            }
        };
        let mut last_use = vec![0u32; ni + nn];
        for (i, s) in self.neurons.iter().enumerate() {
            if used[i] {
                for &(n, _) in &s.input.terms {
                    let k = idx(n);
                    last_use[k] = last_use[k].max(s.level);
                }
            }
        }
        for o in outputs {
            for &(n, _) in &o.terms {
                let k = idx(n);
                last_use[k] = last_use[k].max(depth);
            }
        }
        // slot[k] = (first layer with a slot for node k, slots in consecutive layers).
        let mut slots: Vec<Vec<u32>> = vec![Vec::new(); ni + nn];
        let mut layer_len = vec![0u32; depth as usize + 1];
        layer_len[0] = ni as u32;
        for (k, s) in slots.iter_mut().enumerate().take(ni) {
            s.push(k as u32);
        }
        // Neurons first (creation order), then carriers, layer by layer.
        for (i, s) in self.neurons.iter().enumerate() {
            if used[i] {
                let l = s.level as usize;
                slots[ni + i].push(layer_len[l]);
                layer_len[l] += 1;
            }
        }
        for (l, len) in layer_len
            .iter_mut()
            .enumerate()
            .take(depth as usize)
            .skip(1)
        {
            for (k, s) in slots.iter_mut().enumerate() {
                let lev = level_of(k) as usize;
                let live = k < ni || used[k - ni];
                if live && lev < l && (last_use[k] as usize) > l {
                    s.push(*len);
                    *len += 1;
                }
            }
        }
        let slot_at = |k: usize, layer: usize| -> usize {
            let lev = level_of(k) as usize;
            slots[k][layer - lev] as usize
        };
        let mut layers: Vec<Layer> = (1..=depth as usize)
            .map(|l| Layer::new(layer_len[l - 1] as usize))
            .collect();
        // Rows must be pushed in slot order: collect (slot, row) per layer, then sort.
        let mut rows: Vec<Vec<PendingRow>> = vec![Vec::new(); depth as usize];
        for (i, s) in self.neurons.iter().enumerate() {
            if !used[i] {
                continue;
            }
            let l = s.level as usize;
            let w = s
                .input
                .terms
                .iter()
                .map(|&(n, v)| (slot_at(idx(n), l - 1), v))
                .collect();
            rows[l - 1].push((slots[ni + i][0], w, s.input.constant, s.act));
        }
        for (k, s) in slots.iter().enumerate() {
            let lev = level_of(k) as usize;
            for (off, &slot) in s.iter().enumerate().skip(1) {
                let l = lev + off;
                rows[l - 1].push((
                    slot,
                    vec![(slot_at(k, l - 1), 1.0)],
                    0.0,
                    Activation::Identity,
                ));
            }
        }
        let out_l = depth as usize;
        for (j, o) in outputs.iter().enumerate() {
            let w = o
                .terms
                .iter()
                .map(|&(n, v)| (slot_at(idx(n), out_l - 1), v))
                .collect();
            rows[out_l - 1].push((j as u32, w, o.constant, Activation::Identity));
        }
        for (l, mut rs) in rows.into_iter().enumerate() {
            rs.sort_by_key(|r| r.0);
            for (_, w, b, a) in rs {
                layers[l]
                    .push(&w, b, a)
                    .expect("slots index the previous layer");
            }
        }
        Network::new(ni, layers).expect("layers are chained by construction")
    }
}
