//! The learning rate of every step: linear warm-up, then cosine decay or constant.

use sal_config::train::ScheduleKind;

/// A per-step learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// `cosine` or `constant` after the warm-up.
    pub kind: ScheduleKind,
    /// The learning rate at the end of the warm-up.
    pub peak: f64,
    /// Steps of linear warm-up.
    pub warmup_steps: u64,
    /// Steps of the whole run (`epochs` x steps per epoch); the cosine reaches 0 here.
    pub total_steps: u64,
}

impl Schedule {
    /// The schedule for `epochs` epochs of `steps_per_epoch` steps with `warmup_epochs` of
    /// warm-up (rounded to whole steps).
    pub fn new(
        kind: ScheduleKind,
        peak: f64,
        warmup_epochs: f64,
        epochs: usize,
        steps_per_epoch: usize,
    ) -> Self {
        let total_steps = (epochs * steps_per_epoch) as u64;
        let warmup_steps =
            ((warmup_epochs * steps_per_epoch as f64).round() as u64).min(total_steps);
        Schedule {
            kind,
            peak,
            warmup_steps,
            total_steps,
        }
    }

    /// The learning rate of step `step` (0-based): `peak * (step + 1) / warmup_steps` during the
    /// warm-up; then `peak` (constant) or `peak * (1 + cos(pi * t)) / 2` with `t` the fraction
    /// of the post-warm-up steps already done (cosine).
    pub fn learning_rate(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match self.kind {
            ScheduleKind::Constant => self.peak,
            ScheduleKind::Cosine => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
                let t = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
                self.peak * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_rises_linearly_then_cosine_falls_to_zero() {
        let s = Schedule::new(ScheduleKind::Cosine, 0.1, 1.0, 5, 10);
        assert_eq!((s.warmup_steps, s.total_steps), (10, 50));
        assert!((s.learning_rate(0) - 0.01).abs() < 1e-12);
        assert!((s.learning_rate(9) - 0.1).abs() < 1e-12);
        assert!((s.learning_rate(10) - 0.1).abs() < 1e-12);
        assert!((s.learning_rate(30) - 0.05).abs() < 1e-12);
        assert!(s.learning_rate(49) > 0.0 && s.learning_rate(49) < 1e-3);
        let rates: Vec<f64> = (10..50).map(|k| s.learning_rate(k)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn constant_after_warmup_and_no_warmup() {
        let s = Schedule::new(ScheduleKind::Constant, 0.2, 0.5, 2, 8);
        assert_eq!(s.warmup_steps, 4);
        assert!((s.learning_rate(1) - 0.1).abs() < 1e-12);
        assert_eq!(s.learning_rate(15), 0.2);
        let s = Schedule::new(ScheduleKind::Cosine, 0.2, 0.0, 2, 8);
        assert_eq!(s.learning_rate(0), 0.2);
    }
}
