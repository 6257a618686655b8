//! How similar a randomised model's map is to the trained model's map of the same image.
//!
//! Four measures, as Adebayo et al. (2018): Spearman's rho of the absolute maps and of the
//! signed maps (over the 1024 pixels, ties average-ranked), SSIM of the maps scaled to [0, 1]
//! ([`ssim`]), and Pearson's r of the HOG features of the scaled maps ([`hog`]). A map is
//! scaled as `|m| / max |m|` (an all-zero map stays zero). Undefined values (a map without
//! variance) are NaN, never 0.

pub mod hog;
pub mod ssim;

use sal_model::arch::{IMAGE_SIZE, PIXELS};
use sal_psychometrics::{pearson, spearman};

use crate::error::{check_len, Result};

/// The similarity measures, in the order of [`MEASURES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Spearman's rho of the absolute maps.
    SpearmanAbs,
    /// Spearman's rho of the signed maps.
    SpearmanSigned,
    /// SSIM (7 x 7 uniform window) of the maps scaled to [0, 1].
    Ssim,
    /// Pearson's r of the HOG features of the maps scaled to [0, 1].
    HogPearson,
}

/// Every measure, in output order.
pub const MEASURES: [Measure; 4] = [
    Measure::SpearmanAbs,
    Measure::SpearmanSigned,
    Measure::Ssim,
    Measure::HogPearson,
];

impl Measure {
    /// The name in tensor names and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Measure::SpearmanAbs => "spearman_abs",
            Measure::SpearmanSigned => "spearman_signed",
            Measure::Ssim => "ssim",
            Measure::HogPearson => "hog_pearson",
        }
    }

    /// A short label for tables and figures.
    pub fn label(self) -> &'static str {
        match self {
            Measure::SpearmanAbs => "Spearman (absolute)",
            Measure::SpearmanSigned => "Spearman (signed)",
            Measure::Ssim => "SSIM",
            Measure::HogPearson => "Pearson of HOG",
        }
    }
}

/// A map prepared for comparison: signed and absolute values, scaled map and its HOG.
#[derive(Debug, Clone)]
pub struct Prepared {
    signed: Vec<f64>,
    abs: Vec<f64>,
    scaled: Vec<f64>,
    hog: Vec<f64>,
}

impl Prepared {
    /// Prepares one map.
    ///
    /// # Shapes
    /// `map`: `[32, 32]`.
    pub fn new(map: &[f32]) -> Result<Self> {
        check_len("saliency map", map.len(), PIXELS, || "[32, 32]".to_owned())?;
        let signed: Vec<f64> = map.iter().map(|&v| f64::from(v)).collect();
        let abs: Vec<f64> = signed.iter().map(|v| v.abs()).collect();
        let scaled = scale_unit(&abs);
        let hog = hog::hog(&scaled, IMAGE_SIZE);
        Ok(Prepared {
            signed,
            abs,
            scaled,
            hog,
        })
    }

    /// The map scaled to [0, 1] (`|m| / max |m|`).
    ///
    /// # Shapes
    /// `[32, 32]`.
    pub fn scaled(&self) -> &[f64] {
        &self.scaled
    }

    /// Every measure of `self` against `other`, in [`MEASURES`] order.
    pub fn compare(&self, other: &Prepared) -> Result<[f64; 4]> {
        Ok([
            exact_if_identical(
                &self.abs,
                &other.abs,
                spearman(&self.abs, &other.abs)?.value,
            ),
            exact_if_identical(
                &self.signed,
                &other.signed,
                spearman(&self.signed, &other.signed)?.value,
            ),
            ssim::ssim(&self.scaled, &other.scaled, IMAGE_SIZE),
            exact_if_identical(&self.hog, &other.hog, pearson(&self.hog, &other.hog)?.value),
        ])
    }
}

/// A correlation `r` of two samples, exactly 1 when they are bit-identical and `r` is defined
/// (rounding leaves r(x, x) one ulp below 1; the edge control compares with exactly 1).
fn exact_if_identical(x: &[f64], y: &[f64], r: f64) -> f64 {
    let identical = x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits());
    if identical && !r.is_nan() {
        1.0
    } else {
        r
    }
}

/// `|v| / max |v|` of non-negative values; all zeros stay zeros.
///
/// # Shapes
/// `abs`: `[n]`, every value >= 0; returns `[n]`.
pub fn scale_unit(abs: &[f64]) -> Vec<f64> {
    let max = abs.iter().copied().fold(0.0f64, f64::max);
    if max > 0.0 {
        abs.iter().map(|v| v / max).collect()
    } else {
        vec![0.0; abs.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(f: impl Fn(usize) -> f32) -> Vec<f32> {
        (0..PIXELS).map(f).collect()
    }

    #[test]
    fn a_map_is_exactly_as_similar_to_itself_as_possible() {
        let m = map(|p| ((p * 7919) % 1013) as f32 - 500.0);
        let a = Prepared::new(&m).unwrap();
        assert_eq!(a.compare(&a).unwrap(), [1.0; 4]);
    }

    #[test]
    fn a_sign_flip_shows_in_the_signed_rank_only() {
        let m = map(|p| ((p * 7919) % 1013) as f32 - 500.0);
        let flipped: Vec<f32> = m.iter().map(|v| -v).collect();
        let s = Prepared::new(&m)
            .unwrap()
            .compare(&Prepared::new(&flipped).unwrap())
            .unwrap();
        assert_eq!(s[0], 1.0);
        assert!((s[1] + 1.0).abs() < 1e-12, "{s:?}");
        assert_eq!(s[2], 1.0);
        assert_eq!(s[3], 1.0);
    }

    #[test]
    fn a_constant_map_has_undefined_rank_correlation() {
        let flat = Prepared::new(&vec![0.0; PIXELS]).unwrap();
        let m = Prepared::new(&map(|p| p as f32)).unwrap();
        let s = flat.compare(&m).unwrap();
        assert!(s[0].is_nan() && s[1].is_nan() && s[3].is_nan(), "{s:?}");
        assert!(s[2].is_finite());
    }
}
