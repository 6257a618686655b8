//! Laws of Krippendorff's alpha, the rank table and the bootstrap.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_psychometrics::coincidence::{alpha_from_counts, CoincidenceScratch};
use sal_psychometrics::{
    alpha_bootstrap, bootstrap_many, column_means_bootstrap, krippendorff_alpha,
    spearman_bootstrap, Bootstrap, Direction, Level, RankTable,
};

/// `coders x units` values drawn from `1..=k`, each missing with probability `p_missing`.
fn random_discrete(
    rng: &mut ChaCha8Rng,
    coders: usize,
    units: usize,
    k: u32,
    p_missing: f64,
) -> Vec<f64> {
    (0..coders * units)
        .map(|_| {
            if rng.random_bool(p_missing) {
                f64::NAN
            } else {
                f64::from(rng.random_range(1..=k))
            }
        })
        .collect()
}

/// Each coder ranks `units` units by a random permutation (complete rankings, no ties).
fn random_rankings(rng: &mut ChaCha8Rng, coders: usize, units: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(coders * units);
    let mut perm: Vec<f64> = (1..=units).map(|r| r as f64).collect();
    for _ in 0..coders {
        perm.shuffle(rng);
        out.extend_from_slice(&perm);
    }
    out
}

fn alpha(data: &[f64], coders: usize, units: usize, level: Level) -> f64 {
    krippendorff_alpha(data, coders, units, level)
        .unwrap()
        .alpha
}

#[test]
fn alpha_is_one_when_all_coders_agree_even_with_missing_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (coders, units) = (6, 20);
    let truth: Vec<f64> = (0..units)
        .map(|_| f64::from(rng.random_range(0..=9u32)))
        .collect();
    let data: Vec<f64> = (0..coders * units)
        .map(|i| {
            if rng.random_bool(0.2) {
                f64::NAN
            } else {
                truth[i % units]
            }
        })
        .collect();
    for level in Level::ALL {
        assert!(
            (alpha(&data, coders, units, level) - 1.0).abs() < 1e-12,
            "{level}"
        );
    }
}

#[test]
fn alpha_is_about_zero_for_random_ratings_with_many_coders() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (coders, units) = (2000, 5);
    let rankings = random_rankings(&mut rng, coders, units);
    let values = random_discrete(&mut rng, coders, units, 5, 0.1);
    for level in Level::ALL {
        for (name, data) in [("rankings", &rankings), ("values", &values)] {
            let a = alpha(data, coders, units, level);
            assert!(a.abs() < 0.01, "{level} {name}: alpha {a}");
        }
    }
}

#[test]
fn ordinal_equals_interval_for_complete_rankings_without_ties() {
    // Every rank 1..=m occurs once per coder, so all marginal frequencies n_g equal the number of
    // coders and the ordinal distance is that number squared times the interval distance.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (coders, units) in [(3, 4), (10, 5), (57, 8)] {
        let data = random_rankings(&mut rng, coders, units);
        let (o, i) = (
            alpha(&data, coders, units, Level::Ordinal),
            alpha(&data, coders, units, Level::Interval),
        );
        assert!(
            (o - i).abs() < 1e-12,
            "{coders}x{units}: ordinal {o} vs interval {i}"
        );
    }
}

#[test]
fn ordinal_and_interval_differ_once_rankings_have_ties_or_gaps() {
    // The law above needs its premise: with ties (average ranks) or a missing rank the marginal
    // frequencies are no longer equal and the two levels disagree.
    let tied = [
        1.0, 2.0, 3.0, 4.0, /* */ 1.0, 2.0, 3.5, 3.5, /* */ 1.5, 1.5, 3.0, 4.0,
    ];
    let (o, i) = (
        alpha(&tied, 3, 4, Level::Ordinal),
        alpha(&tied, 3, 4, Level::Interval),
    );
    assert!((o - i).abs() > 1e-3, "ties: ordinal {o} vs interval {i}");
    let gap = [
        1.0,
        2.0,
        3.0,
        4.0,
        /* */ 2.0,
        1.0,
        3.0,
        4.0,
        /* */ 1.0,
        2.0,
        3.0,
        f64::NAN,
    ];
    let (o, i) = (
        alpha(&gap, 3, 4, Level::Ordinal),
        alpha(&gap, 3, 4, Level::Interval),
    );
    assert!((o - i).abs() > 1e-3, "missing: ordinal {o} vs interval {i}");
}

#[test]
fn per_unit_sums_and_coincidence_matrix_agree_on_random_data() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let values: Vec<f64> = (1..=6).map(f64::from).collect();
    for trial in 0..30 {
        let (coders, units) = (rng.random_range(2..8), rng.random_range(1..15));
        let data = random_discrete(&mut rng, coders, units, 6, 0.3);
        let mut counts = vec![0u32; units * 6];
        for (i, v) in data.iter().enumerate() {
            if !v.is_nan() {
                counts[(i % units) * 6 + (*v as usize - 1)] += 1;
            }
        }
        for level in Level::ALL {
            let a = krippendorff_alpha(&data, coders, units, level).unwrap();
            let b = alpha_from_counts(
                &counts,
                units,
                &values,
                level,
                coders,
                &mut CoincidenceScratch::default(),
            );
            assert_eq!(
                (a.pairable_values, a.pairable_units),
                (b.pairable_values, b.pairable_units)
            );
            let same = (a.alpha - b.alpha).abs() < 1e-10 || (a.alpha.is_nan() && b.alpha.is_nan());
            assert!(same, "trial {trial}, {level}: {} vs {}", a.alpha, b.alpha);
        }
    }
}

#[test]
fn alpha_is_invariant_to_the_order_of_coders_and_units() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (coders, units) = (5, 9);
    let data = random_discrete(&mut rng, coders, units, 4, 0.2);
    let mut coder_order: Vec<usize> = (0..coders).collect();
    let mut unit_order: Vec<usize> = (0..units).collect();
    coder_order.shuffle(&mut rng);
    unit_order.shuffle(&mut rng);
    let permuted: Vec<f64> = coder_order
        .iter()
        .flat_map(|&c| unit_order.iter().map(move |&u| (c, u)))
        .map(|(c, u)| data[c * units + u])
        .collect();
    for level in Level::ALL {
        let (a, b) = (
            alpha(&data, coders, units, level),
            alpha(&permuted, coders, units, level),
        );
        assert!((a - b).abs() < 1e-12, "{level}: {a} vs {b}");
    }
}

#[test]
fn each_level_is_invariant_to_its_admissible_transformations() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (coders, units) = (4, 12);
    let data = random_discrete(&mut rng, coders, units, 5, 0.15);
    // Missing values stay missing.
    let map = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        data.iter()
            .map(|&v| if v.is_nan() { v } else { f(v) })
            .collect()
    };
    let same = |level: Level, other: &[f64]| {
        let (a, b) = (
            alpha(&data, coders, units, level),
            alpha(other, coders, units, level),
        );
        assert!((a - b).abs() < 1e-12, "{level}: {a} vs {b}");
    };
    same(
        Level::Nominal,
        &map(&|v| [0.0, 17.0, -3.0, 2.5, 9.0, 1.0][v as usize]),
    ); // any relabelling
    same(Level::Ordinal, &map(&|v| v.powi(3) + 10.0 * v.ln())); // strictly increasing
    same(Level::Interval, &map(&|v| -2.5 * v + 40.0)); // affine
    same(Level::Ratio, &map(&|v| 7.0 * v)); // scaling
                                            // ...and not to transformations beyond them:
    let squashed = map(&|v| v.powi(3));
    let (a, b) = (
        alpha(&data, coders, units, Level::Interval),
        alpha(&squashed, coders, units, Level::Interval),
    );
    assert!(
        (a - b).abs() > 1e-3,
        "interval alpha should change under a non-affine map: {a} vs {b}"
    );
}

#[test]
fn rank_table_alpha_is_alpha_of_its_ranks_and_its_bootstrap_resamples_coders() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (coders, units) = (40, 5);
    // Scores with ties (rounded) and missing values.
    let scores: Vec<f64> = (0..coders * units)
        .map(|_| {
            if rng.random_bool(0.05) {
                f64::NAN
            } else {
                (rng.random::<f64>() * 6.0).round()
            }
        })
        .collect();
    let table = RankTable::from_scores(&scores, coders, units, Direction::Descending).unwrap();
    let ranks = table.ranks();
    for level in Level::ALL {
        let a = table.alpha(level);
        let b = krippendorff_alpha(&ranks, coders, units, level).unwrap();
        assert!(
            (a.alpha - b.alpha).abs() < 1e-12,
            "{level}: {} vs {}",
            a.alpha,
            b.alpha
        );
        assert_eq!(a.pairable_values, b.pairable_values);
    }
    let boot = Bootstrap {
        resamples: 20,
        seed: 8,
    };
    let fast = table.bootstrap(Level::Ordinal, &boot);
    let other = RankTable::from_scores(&ranks, coders, units, Direction::Ascending).unwrap();
    let shared = bootstrap_many(&[table.clone(), other.clone()], Level::Ordinal, &boot).unwrap();
    let separate = [fast.clone(), other.bootstrap(Level::Ordinal, &boot)];
    assert_eq!(shared, separate, "shared resamples are the same resamples");
    let general = alpha_bootstrap(&ranks, coders, units, Level::Ordinal, &boot).unwrap();
    for (b, (x, y)) in fast.iter().zip(&general).enumerate() {
        assert!((x - y).abs() < 1e-12, "resample {b}: {x} vs {y}");
    }
}

#[test]
fn one_method_always_best_gives_higher_alpha_than_random_scores() {
    // Unit 0 always ranks first, the rest at random: alpha is clearly positive, and 1 when
    // every unit has a fixed place.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (coders, units) = (300, 5);
    let mut scores = random_rankings(&mut rng, coders, units);
    for row in scores.chunks_exact_mut(units) {
        row[0] = 100.0;
    }
    let a = RankTable::from_scores(&scores, coders, units, Direction::Descending)
        .unwrap()
        .alpha(Level::Ordinal)
        .alpha;
    assert!(a > 0.2 && a < 1.0, "{a}");
    let fixed: Vec<f64> = (0..coders * units).map(|i| (i % units) as f64).collect();
    let a = RankTable::from_scores(&fixed, coders, units, Direction::Ascending)
        .unwrap()
        .alpha(Level::Ordinal)
        .alpha;
    assert!((a - 1.0).abs() < 1e-12, "{a}");
}

#[test]
fn bootstraps_are_identical_on_one_and_two_threads() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let (coders, units) = (200, 5);
    let scores = random_discrete(&mut rng, coders, units, 7, 0.05);
    let table = RankTable::from_scores(&scores, coders, units, Direction::Descending).unwrap();
    let boot = Bootstrap {
        resamples: 300,
        seed: 11,
    };
    let x: Vec<f64> = scores.iter().step_by(units).copied().collect();
    let y: Vec<f64> = scores.iter().skip(1).step_by(units).copied().collect();
    let run = || {
        (
            table.bootstrap(Level::Ordinal, &boot),
            alpha_bootstrap(&scores, coders, units, Level::Interval, &boot).unwrap(),
            spearman_bootstrap(&x, &y, &boot).unwrap(),
            column_means_bootstrap(&scores, coders, units, &boot).unwrap(),
        )
    };
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    let one = pool(1).install(run);
    let two = pool(2).install(run);
    // Bitwise identical, NaN included.
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&two.0));
    assert_eq!(bits(&one.1), bits(&two.1));
    assert_eq!(bits(&one.2), bits(&two.2));
    assert_eq!(bits(&one.3), bits(&two.3));
    assert!(
        one.0.iter().any(|a| *a != one.0[0]),
        "replicates should vary"
    );
}
