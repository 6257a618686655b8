//! Intervals of Spearman correlations computed from rho and n alone (the stats stage records
//! Table 2's rho and the number of image pairs behind it, not resamples).

use crate::aopc::normal_quantile;

/// The interval at `level` of a Spearman rho over `n` pairs: Fisher's z = atanh(rho) with the
/// variance Bonett and Wright (2000, Psychometrika 65) give for Spearman's rho,
/// (1 + rho^2 / 2) / (n - 3), mapped back through tanh. `None` for n <= 3, a non-finite rho
/// or |rho| = 1 (no interval can be formed).
pub fn spearman_interval(rho: f64, n: usize, level: f64) -> Option<(f64, f64)> {
    if n <= 3 || !rho.is_finite() || rho.abs() >= 1.0 {
        return None;
    }
    let z = rho.atanh();
    let se = ((1.0 + rho * rho / 2.0) / (n - 3) as f64).sqrt();
    let half = normal_quantile(level) * se;
    Some(((z - half).tanh(), (z + half).tanh()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed by hand (Python's math.atanh/tanh, z = 1.959963984540054).
    #[test]
    fn intervals_match_values_computed_by_hand() {
        let cases = [
            (
                -0.052369841479365915,
                500,
                -0.13947925144589318,
                0.03554388268954001,
            ),
            (0.5, 30, 0.1481321833905542, 0.7395031949196345),
            (0.11, 10000, 0.09053653131294445, 0.12937947012829148),
        ];
        for (rho, n, lo, hi) in cases {
            let (a, b) = spearman_interval(rho, n, 0.95).unwrap();
            assert!(
                (a - lo).abs() < 1e-9 && (b - hi).abs() < 1e-9,
                "{rho} {n}: {a} {b}"
            );
        }
    }

    #[test]
    fn no_interval_without_enough_pairs_or_a_finite_rho() {
        assert_eq!(spearman_interval(0.3, 3, 0.95), None);
        assert_eq!(spearman_interval(f64::NAN, 100, 0.95), None);
        assert_eq!(spearman_interval(1.0, 100, 0.95), None);
    }
}
