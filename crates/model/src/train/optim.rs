//! The optimisers: SGD with (Nesterov) momentum and Adam, with L2 weight decay, as PyTorch's.

use sal_config::train::OptimizerKind;

use crate::error::{check_len, Result};
use crate::weights::Trainable;

/// Adam's first-moment decay.
pub const ADAM_BETA1: f32 = 0.9;
/// Adam's second-moment decay.
pub const ADAM_BETA2: f32 = 0.999;
/// Adam's denominator epsilon.
pub const ADAM_EPS: f32 = 1e-8;

/// Optimiser settings (the learning rate comes per step from the schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSettings {
    /// SGD or Adam.
    pub kind: OptimizerKind,
    /// SGD momentum.
    pub momentum: f32,
    /// Nesterov momentum for SGD.
    pub nesterov: bool,
    /// L2 weight decay, added to the gradient of the tensors whose decay flag is set
    /// ([`Trainable::tensors`]: conv and classifier weights).
    pub weight_decay: f32,
}

/// An optimiser with its state: per tensor, the momentum buffer (SGD) or the first and
/// second moments (Adam), and the number of steps taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    settings: OptimizerSettings,
    steps: u64,
    /// `[slot][tensor]`, tensors in [`Trainable::tensors`] order; one slot for SGD, two for Adam.
    state: Vec<Vec<Vec<f32>>>,
}

impl Optimizer {
    /// A fresh optimiser (zero state) for parameters shaped like `params`.
    pub fn new(settings: OptimizerSettings, params: &Trainable) -> Self {
        let zeros: Vec<Vec<f32>> = params
            .tensors()
            .into_iter()
            .map(|(_, t, _)| vec![0.0; t.len()])
            .collect();
        let state = vec![zeros; Self::slots(settings.kind).len()];
        Optimizer {
            settings,
            steps: 0,
            state,
        }
    }

    /// The names of the state slots of an optimiser kind.
    pub fn slots(kind: OptimizerKind) -> &'static [&'static str] {
        match kind {
            OptimizerKind::Sgd => &["momentum"],
            OptimizerKind::Adam => &["m", "v"],
        }
    }

    /// The settings.
    pub fn settings(&self) -> &OptimizerSettings {
        &self.settings
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update of `params` with gradients `grads` (without weight decay; added here) at
    /// learning rate `lr`.
    ///
    /// SGD (PyTorch, dampening 0): `g = grad + wd * w`, `b = momentum * b + g`,
    /// `w -= lr * (g + momentum * b)` (Nesterov) or `w -= lr * b`.
    /// Adam (PyTorch `Adam`, not AdamW): `g = grad + wd * w`, `m = b1 m + (1 - b1) g`,
    /// `v = b2 v + (1 - b2) g^2`, `w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.
    ///
    /// # Shapes
    /// `params` and `grads` shaped for the same architecture.
    pub fn step(&mut self, params: &mut Trainable, grads: &Trainable, lr: f64) -> Result<()> {
        self.steps += 1;
        let s = self.settings;
        let lr = lr as f32;
        let (bias1, bias2) = (
            1.0 - f64::from(ADAM_BETA1).powi(self.steps as i32),
            1.0 - f64::from(ADAM_BETA2).powi(self.steps as i32),
        );
        let (bias1, bias2) = (bias1 as f32, bias2 as f32);
        let grads = grads.tensors();
        for (t, (name, w, decays)) in params.tensors_mut().into_iter().enumerate() {
            let g = grads[t].1;
            check_len(&format!("gradient of {name}"), g.len(), w.len(), || {
                format!("[{}]", w.len())
            })?;
            let wd = if decays { s.weight_decay } else { 0.0 };
            match s.kind {
                OptimizerKind::Sgd => {
                    let buf = &mut self.state[0][t];
                    for i in 0..w.len() {
                        let gi = g[i] + wd * w[i];
                        buf[i] = s.momentum * buf[i] + gi;
                        let update = if s.nesterov {
                            gi + s.momentum * buf[i]
                        } else {
                            buf[i]
                        };
                        w[i] -= lr * update;
                    }
                }
                OptimizerKind::Adam => {
                    let (first, rest) = self.state.split_at_mut(1);
                    let (m, v) = (&mut first[0][t], &mut rest[0][t]);
                    for i in 0..w.len() {
                        let gi = g[i] + wd * w[i];
                        m[i] = ADAM_BETA1 * m[i] + (1.0 - ADAM_BETA1) * gi;
                        v[i] = ADAM_BETA2 * v[i] + (1.0 - ADAM_BETA2) * gi * gi;
                        let denom = (v[i] / bias2).sqrt() + ADAM_EPS;
                        w[i] -= lr * (m[i] / bias1) / denom;
                    }
                }
            }
        }
        Ok(())
    }

    /// The state as named tensors for a checkpoint: `optim.<slot>.<tensor name>`, in a fixed
    /// order.
    ///
    /// # Shapes
    /// Each like the parameter tensor of the same name, flattened.
    pub fn state_tensors(&self, params: &Trainable) -> Vec<(String, &[f32])> {
        let names: Vec<String> = params
            .tensors()
            .into_iter()
            .map(|(name, _, _)| name)
            .collect();
        let mut out = Vec::new();
        for (slot, tensors) in Self::slots(self.settings.kind).iter().zip(&self.state) {
            for (name, t) in names.iter().zip(tensors) {
                out.push((format!("optim.{slot}.{name}"), t.as_slice()));
            }
        }
        out
    }

    /// Restores a state saved by [`Optimizer::state_tensors`]: `read(name, len)` returns the
    /// tensor of that name, `steps` the step count.
    pub fn restore(
        settings: OptimizerSettings,
        params: &Trainable,
        steps: u64,
        mut read: impl FnMut(&str, usize) -> Result<Vec<f32>>,
    ) -> Result<Self> {
        let mut opt = Self::new(settings, params);
        opt.steps = steps;
        let names: Vec<(String, usize)> = params
            .tensors()
            .into_iter()
            .map(|(n, t, _)| (n, t.len()))
            .collect();
        for (slot, tensors) in Self::slots(settings.kind).iter().zip(opt.state.iter_mut()) {
            for ((name, len), t) in names.iter().zip(tensors.iter_mut()) {
                *t = read(&format!("optim.{slot}.{name}"), *len)?;
            }
        }
        Ok(opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Architecture;

    fn tiny() -> (Trainable, Trainable) {
        let arch = Architecture::with_widths([1, 1, 1, 1, 1, 1]);
        let mut p = Trainable::zeros(&arch);
        let mut g = Trainable::zeros(&arch);
        p.conv[0].fill(1.0);
        p.bn_weight[0].fill(1.0);
        g.conv[0].fill(0.5);
        g.bn_weight[0].fill(0.5);
        (p, g)
    }

    #[test]
    fn sgd_nesterov_matches_hand_computation_and_decays_only_weights() {
        let (mut p, g) = tiny();
        let settings = OptimizerSettings {
            kind: OptimizerKind::Sgd,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.1,
        };
        let mut opt = Optimizer::new(settings, &p);
        opt.step(&mut p, &g, 0.1).unwrap();
        // conv: g = 0.5 + 0.1 = 0.6, b = 0.6, update = 0.6 + 0.54 = 1.14 -> w = 1 - 0.114.
        assert!((p.conv[0][0] - 0.886).abs() < 1e-6);
        // BN scale: no decay: g = 0.5, b = 0.5, update = 0.95 -> 0.905.
        assert!((p.bn_weight[0][0] - 0.905).abs() < 1e-6);
        opt.step(&mut p, &g, 0.1).unwrap();
        // BN scale: b = 0.45 + 0.5 = 0.95, update = 0.5 + 0.855 = 1.355.
        assert!((p.bn_weight[0][0] - (0.905 - 0.1355)).abs() < 1e-6);
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn adam_first_step_moves_by_lr_and_state_round_trips() {
        let (mut p, g) = tiny();
        let settings = OptimizerSettings {
            kind: OptimizerKind::Adam,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        let mut opt = Optimizer::new(settings, &p);
        opt.step(&mut p, &g, 0.01).unwrap();
        assert!((p.conv[0][0] - 0.99).abs() < 1e-6);
        let saved: Vec<(String, Vec<f32>)> = opt
            .state_tensors(&p)
            .into_iter()
            .map(|(n, t)| (n, t.to_vec()))
            .collect();
        assert_eq!(saved.len(), 2 * 19);
        let back = Optimizer::restore(settings, &p, opt.steps(), |name, len| {
            let t = &saved.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(t.len(), len);
            Ok(t.clone())
        })
        .unwrap();
        assert_eq!(back, opt);
    }
}
