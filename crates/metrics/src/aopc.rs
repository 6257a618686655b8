//! AOPC: the area over the perturbation curve.
//!
//! `AOPC_L = 1/(L+1) * sum_{k=1..L} (f(x^(0)) - f(x^(k)))` (ARCHITECTURE.md), computed in f64
//! from **drop curves** `d[k] = f(x^(0)) - f(x^(k))` (`d[0] = 0`), which the engine computes
//! without saturation ([`crate::probability`]). One curve of L+1 values gives AOPC_L' for
//! every L' <= L.

use crate::error::{MetricsError, Result};

/// AOPC_`steps` of one curve.
///
/// # Shapes
/// `drops`: `[len]` with `drops[k] = f(x^(0)) - f(x^(k))`, `len >= steps + 1`.
pub fn aopc(drops: &[f64], steps: usize) -> Result<f64> {
    if drops.len() < steps + 1 {
        return Err(MetricsError::StepsOutOfRange {
            steps,
            len: drops.len(),
        });
    }
    let sum: f64 = drops[1..=steps].iter().sum();
    Ok(sum / (steps + 1) as f64)
}

/// AOPC_L' of one curve for every L' = 0..len-1 (entry 0 is 0).
///
/// # Shapes
/// `drops`: `[L+1]`; returns `[L+1]`.
pub fn aopc_all(drops: &[f64]) -> Vec<f64> {
    if drops.is_empty() {
        return Vec::new();
    }
    let mut sum = 0.0f64;
    let mut out = Vec::with_capacity(drops.len());
    out.push(0.0);
    for (k, &d) in drops.iter().enumerate().skip(1) {
        sum += d;
        out.push(sum / (k + 1) as f64);
    }
    out
}

/// AOPC_`steps` of each row of a row-major `[n, width]` block of curves (one per image).
///
/// # Shapes
/// `curves`: `[n, width]` drop curves, `width >= steps + 1`; returns `[n]`.
pub fn aopc_rows(curves: &[f64], width: usize, steps: usize) -> Result<Vec<f64>> {
    if width == 0 || curves.len() % width != 0 {
        return Err(MetricsError::BadLength {
            what: "curves".to_owned(),
            expected: width * (curves.len() / width.max(1)),
            found: curves.len(),
            shape: format!("[n, {width}]"),
        });
    }
    curves
        .chunks_exact(width)
        .map(|row| aopc(row, steps))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // f = 1.0, 0.9, 0.7, 0.4: drops 0.1, 0.3, 0.6: AOPC_1 = 0.1 / 2, AOPC_2 = 0.4 / 3,
        // AOPC_3 = 1.0 / 4.
        let drops = [0.0, 0.1, 0.3, 0.6];
        let expect = [0.0, 0.05, 0.4 / 3.0, 0.25];
        for (l, e) in expect.iter().enumerate() {
            assert!((aopc(&drops, l).unwrap() - e).abs() < 1e-15, "L = {l}");
            assert!((aopc_all(&drops)[l] - e).abs() < 1e-15, "L = {l}");
        }
        assert!(matches!(
            aopc(&drops, 4),
            Err(MetricsError::StepsOutOfRange { steps: 4, len: 4 })
        ));
        // A flat curve has AOPC 0; a rising one is negative.
        assert_eq!(aopc(&[0.0; 11], 10).unwrap(), 0.0);
        assert!(aopc(&[0.0, -0.2], 1).unwrap() < 0.0);
        // Drops far below f32's resolution of f near 1 still count.
        assert_eq!(aopc(&[0.0, 3e-18, 1e-18], 2).unwrap(), 4e-18 / 3.0);
    }

    #[test]
    fn rows_are_curves_of_images() {
        let curves = [0.0, 0.5, 1.0, 0.0, 0.0, 0.6];
        let got = aopc_rows(&curves, 3, 2).unwrap();
        assert!((got[0] - 1.5 / 3.0).abs() < 1e-15 && (got[1] - 0.6 / 3.0).abs() < 1e-15);
        assert!(aopc_rows(&curves, 4, 2).is_err());
        assert!(aopc_rows(&curves, 3, 3).is_err());
    }
}
