//! Krippendorff's alpha against published worked examples, through both implementations (the
//! per-unit sums of `krippendorff_alpha` and the coincidence matrix of `alpha_from_counts`).

use sal_psychometrics::coincidence::{alpha_from_counts, CoincidenceScratch};
use sal_psychometrics::{krippendorff_alpha, Level};

const NA: f64 = f64::NAN;

/// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", sections C and D:
/// 4 observers (rows) x 12 units (columns), values 1..5, NaN = not coded.
#[rustfmt::skip]
const FOUR_OBSERVERS: [f64; 48] = [
    1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 4.0, 1.0, 2.0, NA,  NA,  NA,
    1.0, 2.0, 3.0, 3.0, 2.0, 2.0, 4.0, 1.0, 2.0, 5.0, NA,  3.0,
    NA,  3.0, 3.0, 3.0, 2.0, 3.0, 4.0, 2.0, 2.0, 5.0, 1.0, NA,
    1.0, 2.0, 3.0, 3.0, 2.0, 4.0, 4.0, 1.0, 2.0, 5.0, 1.0, NA,
];

/// The computational example of Wikipedia's "Krippendorff's alpha" article (also the docstring
/// example of grrrr/krippendorff-alpha): 3 coders x 15 units, NaN = not coded.
#[rustfmt::skip]
const THREE_CODERS: [f64; 45] = [
    NA,  NA,  NA,  NA,  NA,  3.0, 4.0, 1.0, 2.0, 1.0, 1.0, 3.0, 3.0, NA, 3.0,
    1.0, NA,  2.0, 1.0, 3.0, 3.0, 4.0, 3.0, NA,  NA,  NA,  NA,  NA,  NA, NA,
    NA,  NA,  2.0, 1.0, 3.0, 4.0, 4.0, NA,  2.0, 1.0, 1.0, 3.0, 3.0, NA, 4.0,
];

/// Alpha through the coincidence matrix: counts of the values 1..=5 per unit.
fn via_counts(data: &[f64], coders: usize, units: usize, level: Level) -> f64 {
    let values = [1.0, 2.0, 3.0, 4.0, 5.0];
    let mut counts = vec![0u32; units * values.len()];
    for c in 0..coders {
        for u in 0..units {
            let v = data[c * units + u];
            if !v.is_nan() {
                counts[u * values.len() + (v as usize - 1)] += 1;
            }
        }
    }
    alpha_from_counts(
        &counts,
        units,
        &values,
        level,
        coders,
        &mut CoincidenceScratch::default(),
    )
    .alpha
}

fn check(data: &[f64], coders: usize, units: usize, level: Level, published: f64) {
    let a = krippendorff_alpha(data, coders, units, level).unwrap();
    assert!(
        (a.alpha - published).abs() < 5e-4,
        "{level}: alpha {} vs published {published}",
        a.alpha
    );
    let b = via_counts(data, coders, units, level);
    assert!(
        (a.alpha - b).abs() < 1e-12,
        "{level}: the two implementations differ: {} vs {b}",
        a.alpha
    );
}

#[test]
fn krippendorff_2011_four_observers_with_missing_values() {
    check(&FOUR_OBSERVERS, 4, 12, Level::Nominal, 0.743);
    check(&FOUR_OBSERVERS, 4, 12, Level::Ordinal, 0.815);
    check(&FOUR_OBSERVERS, 4, 12, Level::Interval, 0.849);
    check(&FOUR_OBSERVERS, 4, 12, Level::Ratio, 0.797);
}

#[test]
fn krippendorff_2011_four_observers_pairable_values() {
    // Unit 12 has a single value and drops out; 40 values remain in 11 units (the paper's n = 40).
    let a = krippendorff_alpha(&FOUR_OBSERVERS, 4, 12, Level::Nominal).unwrap();
    assert_eq!(
        (a.pairable_values, a.pairable_units, a.coders, a.units),
        (40, 11, 4, 12)
    );
}

#[test]
fn three_coders_with_missing_values() {
    check(&THREE_CODERS, 3, 15, Level::Nominal, 0.691);
    check(&THREE_CODERS, 3, 15, Level::Interval, 0.811);
    let a = krippendorff_alpha(&THREE_CODERS, 3, 15, Level::Nominal).unwrap();
    // Units 1, 2 and 14 have fewer than two values.
    assert_eq!((a.pairable_values, a.pairable_units), (26, 12));
}
