//! Pearson correlation in f64, NaN where it is undefined.

/// The Pearson correlation of `x` and `y` (same length), computed in f64 with centred sums.
///
/// NaN when it is undefined: fewer than 2 pairs, or zero variance in either series. Never 0 in
/// those cases: an undefined faithfulness must stay visible (the stage counts and reports them).
///
/// # Shapes
/// `x`, `y`: `[n]`.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson needs paired series");
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_undefined_cases() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-15);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        // x = 1..5, y = (2, 1, 4, 3, 5): sxy = 8, sxx = syy = 10, r = 0.8.
        assert!(
            (pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]) - 0.8).abs() < 1e-15
        );
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(pearson(&[1.0, 2.0, 3.0], &[0.5; 3]).is_nan());
        assert!(pearson(&[1.0], &[2.0]).is_nan());
    }
}
