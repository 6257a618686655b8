//! Checks against the global scores of Figure 2 and the model's facts.

use super::{
    against_random, against_random_text, join_words, mean_with_interval, method_list, Finding,
    Interval, Ours, Verdict,
};
use crate::describe::Describe;
use crate::load::metrics::{Metrics, Order};
use crate::paper::PaperValues;
use crate::render::num;

/// How far our test accuracy may be from the paper's to count as comparable (3 points).
const ACCURACY_TOLERANCE: f64 = 0.03;
/// How far our share of very confident images may be from the paper's (10 points).
const SHARE_TOLERANCE: f64 = 0.10;

/// Methods of `metrics` ranked by adjusted AOPC at L_max, best first, with (mean, lo, hi).
pub(crate) fn ranking(
    metrics: &Metrics,
    order: Order,
    fill: &str,
) -> Vec<(String, (f64, f64, f64))> {
    let mut ranked: Vec<(String, (f64, f64, f64))> = metrics
        .methods
        .iter()
        .filter_map(|m| {
            let band = metrics.adjusted(m, order, fill)?;
            let l = band.len() - 1;
            Some((m.clone(), (band.centre[l], band.lo[l], band.hi[l])))
        })
        .collect();
    ranked.sort_by(|a, b| {
        let ord = a.1 .0.total_cmp(&b.1 .0);
        if order == Order::Morf {
            ord.reverse()
        } else {
            ord
        }
    });
    ranked
}

/// Whether `a` is ranked better than `b` beyond the 95% intervals of both means: their intervals
/// are disjoint and `a`'s is on the better side (higher for MoRF, lower for LeRF). Where the
/// intervals overlap the two methods are tied for the ranking claims, the rule the paper uses
/// for sensitivity against deep Taylor ("indistinguishable").
fn clearly_better(a: (f64, f64, f64), b: (f64, f64, f64), order: Order) -> bool {
    match order {
        Order::Morf => a.1 > b.2,
        Order::Lerf => a.2 < b.1,
    }
}

/// The pairs that contradict a ranking that puts the methods in the order of `rank` (lower =
/// better; methods `rank` gives the same number are unordered): `(a, b)` where `a` is clearly
/// better ([`clearly_better`]) than `b` although `rank` puts `b` before it.
fn contradicting_pairs(
    ranked: &[(String, (f64, f64, f64))],
    rank: impl Fn(&str) -> usize,
    order: Order,
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (a, va) in ranked {
        for (b, vb) in ranked {
            if rank(b) < rank(a) && clearly_better(*va, *vb, order) {
                pairs.push((a.clone(), b.clone()));
            }
        }
    }
    pairs
}

/// A ranking claim's finding: agrees if our means give the paper's order (`strict`), or if no
/// method is clearly better than one the paper puts before it (the text then says that the
/// methods it swaps are tied within our intervals); where it differs, the evidence names the
/// pairs ordered the other way beyond our intervals.
fn ranking_finding(
    paper: &PaperValues,
    id: String,
    topic: String,
    said: String,
    text: String,
    strict: bool,
    pairs: &[(String, String)],
) -> Finding {
    let contradiction = (!pairs.is_empty()).then(|| {
        format!(
            "beyond our 95% intervals, {}",
            join_words(
                &pairs
                    .iter()
                    .map(|(a, b)| format!(
                        "{} is better than {}",
                        paper.method_label(a),
                        paper.method_label(b)
                    ))
                    .collect::<Vec<_>>()
            )
        )
    });
    Finding::judged(
        id,
        topic,
        said,
        text,
        strict,
        contradiction,
        "the paper's order holds within our 95% intervals (the methods it swaps are tied)",
    )
}

fn ranking_text(paper: &PaperValues, ranked: &[(String, (f64, f64, f64))]) -> String {
    ranked
        .iter()
        .map(|(m, (v, _, _))| format!("{} {}", paper.method_label(m), num(*v, 3)))
        .collect::<Vec<_>>()
        .join(" > ")
}

pub(super) fn findings(paper: &PaperValues, ours: Ours<'_>) -> Vec<Finding> {
    let mut out = vec![accuracy(paper, ours)];
    let metrics = ours.metrics;
    let l = metrics.steps;
    let claims = &paper.claims;

    for (fill, best) in &claims.morf_best.data.by_fill {
        let topic = format!("Best method under MoRF, {fill} fill");
        let said = format!("{} is the top-ranked method", paper.method_label(best));
        let ranked = ranking(metrics, Order::Morf, fill);
        if ranked.is_empty() {
            out.push(Finding::not_comparable(
                format!("morf_best.{fill}"),
                topic,
                said,
                format!("no {fill} fill in this run"),
            ));
            continue;
        }
        let ours_text = format!(
            "AOPC_MoRF - random at L={l}: {}",
            ranking_text(paper, &ranked)
        );
        let strict = &ranked[0].0 == best;
        let rank = |m: &str| usize::from(m != best.as_str());
        out.push(ranking_finding(
            paper,
            format!("morf_best.{fill}"),
            topic,
            said,
            ours_text,
            strict,
            &contradicting_pairs(&ranked, rank, Order::Morf),
        ));
    }

    for (fill, expected) in &claims.morf_sensitivity_vs_deep_taylor.data.by_fill {
        let id = format!("morf_sensitivity_vs_deep_taylor.{fill}");
        let topic = format!("Sensitivity against deep Taylor under MoRF, {fill} fill");
        let said = if expected == "indistinguishable" {
            "indistinguishable".to_owned()
        } else {
            format!("{} ranked better", paper.method_label(expected))
        };
        let ranked = ranking(metrics, Order::Morf, fill);
        let get = |m: &str| ranked.iter().find(|(name, _)| name == m).map(|(_, v)| *v);
        let (Some(s), Some(d)) = (get("sensitivity"), get("deep_taylor")) else {
            out.push(Finding::not_comparable(
                id,
                topic,
                said,
                "sensitivity or deep Taylor missing",
            ));
            continue;
        };
        let overlap = s.1 <= d.2 && d.1 <= s.2;
        let higher = if s.0 > d.0 {
            "sensitivity"
        } else {
            "deep_taylor"
        };
        let ours_text = format!(
            "at L={l}: sensitivity {} ({}–{}), deep Taylor {} ({}–{}); 95% intervals {}",
            num(s.0, 3),
            num(s.1, 3),
            num(s.2, 3),
            num(d.0, 3),
            num(d.1, 3),
            num(d.2, 3),
            if overlap { "overlap" } else { "are disjoint" }
        );
        let ok = if expected == "indistinguishable" {
            overlap
        } else {
            higher == expected
        };
        out.push(Finding::new(
            id,
            topic,
            said,
            ours_text,
            Verdict::from_bool(ok),
        ));
    }

    let lerf = &claims.lerf_order.data;
    let lerf_said = format!(
        "{} best, {} third, {} last",
        method_list(paper, &lerf.best_two),
        paper.method_label(&lerf.third),
        paper.method_label(&lerf.last)
    );
    let mut orders = Vec::new();
    for fill in paper_fills(paper, metrics) {
        let ranked = ranking(metrics, Order::Lerf, fill);
        let names: Vec<String> = ranked.iter().map(|(m, _)| m.clone()).collect();
        let needed = lerf.best_two.iter().chain([&lerf.third, &lerf.last]);
        let id = format!("lerf_order.{fill}");
        let topic = format!("LeRF ranking, {fill} fill");
        if needed.clone().any(|m| !names.contains(m)) {
            out.push(Finding::not_comparable(
                id,
                topic,
                lerf_said.clone(),
                "a method the paper ranks is missing",
            ));
            continue;
        }
        let best_two_ok = names.len() >= 2 && lerf.best_two.iter().all(|m| names[..2].contains(m));
        let third_ok = names.get(2) == Some(&lerf.third);
        let last_ok = names.last() == Some(&lerf.last);
        let parts = [
            ("best two", best_two_ok),
            ("third", third_ok),
            ("last", last_ok),
        ];
        let detail = parts
            .iter()
            .map(|(p, ok)| format!("{p} {}", if *ok { "as in the paper" } else { "differ" }))
            .collect::<Vec<_>>();
        let ours_text = format!(
            "AOPC_LeRF - random at L={l} (lower is better): {}; {}",
            ranking_text(paper, &ranked),
            detail.join(", ")
        );
        // The paper's order: its best two (unordered), its third, the methods it does not
        // place, its last.
        let rank = |m: &str| {
            if lerf.best_two.iter().any(|b| b == m) {
                0
            } else if m == lerf.third {
                1
            } else if m == lerf.last {
                3
            } else {
                2
            }
        };
        out.push(ranking_finding(
            paper,
            id,
            topic,
            lerf_said.clone(),
            ours_text,
            best_two_ok && third_ok && last_ok,
            &contradicting_pairs(&ranked, rank, Order::Lerf),
        ));
        orders.push((fill.clone(), ranked));
    }
    if lerf.consistent_between_fills && orders.len() >= 2 {
        let names = |ranked: &[(String, (f64, f64, f64))]| -> Vec<String> {
            ranked.iter().map(|(m, _)| m.clone()).collect()
        };
        let same = orders.windows(2).all(|w| names(&w[0].1) == names(&w[1].1));
        // Contradicted only by a pair of methods clearly ordered one way under one fill and
        // clearly the other way under another.
        let reversed = orders.iter().any(|(_, x)| {
            orders.iter().any(|(_, y)| {
                x.iter().any(|(a, xa)| {
                    x.iter().any(|(b, xb)| {
                        let get = |m: &str| y.iter().find(|(n, _)| n == m).map(|(_, v)| *v);
                        let (Some(ya), Some(yb)) = (get(a), get(b)) else {
                            return false;
                        };
                        clearly_better(*xa, *xb, Order::Lerf) && clearly_better(yb, ya, Order::Lerf)
                    })
                })
            })
        });
        let ours_text = if same {
            "the LeRF ranking is the same for every fill".to_owned()
        } else {
            let per: Vec<String> = orders
                .iter()
                .map(|(f, ranked)| {
                    format!(
                        "{f}: {}",
                        names(ranked)
                            .iter()
                            .map(|m| paper.method_label(m))
                            .collect::<Vec<_>>()
                            .join(" > ")
                    )
                })
                .collect();
            format!(
                "the LeRF rankings differ between fills ({})",
                per.join("; ")
            )
        };
        out.push(Finding::judged(
            "lerf_order.consistent",
            "LeRF ranking consistent between fills",
            "ranked consistently between mean and random RGB perturbation",
            ours_text,
            same,
            reversed.then(|| {
                "a pair of methods is ordered one way under one fill and the other way under another, beyond our 95% intervals under both".to_owned()
            }),
            "no pair of methods is ordered oppositely beyond our 95% intervals under both fills",
        ));
    }

    let worse = &claims.lerf_worse_than_random.data.methods;
    for fill in paper_fills(paper, metrics) {
        let said = format!(
            "{} perform worse than random under LeRF",
            method_list(paper, worse)
        );
        let id = format!("lerf_worse_than_random.{fill}");
        let topic =
            format!("Methods with negative relevance worse than random under LeRF, {fill} fill");
        let end = |b: &crate::aopc::Band| {
            let i = b.len() - 1;
            (b.centre[i], b.lo[i], b.hi[i])
        };
        let values: Vec<(String, Interval)> = worse
            .iter()
            .filter_map(|m| {
                let band = metrics.aopc.get(&(m.clone(), Order::Lerf, fill.clone()))?;
                Some((m.clone(), end(band)))
            })
            .collect();
        let random = metrics.random_mean.get(fill).map(end);
        let Some(random) = random.filter(|_| values.len() == worse.len()) else {
            out.push(Finding::not_comparable(
                id,
                topic,
                said,
                "a method the claim names, or the random baseline, is missing",
            ));
            continue;
        };
        let (strict, opposite) = against_random(&values, random, true);
        let ours_text = format!(
            "AOPC_LeRF - random at L={l}: {} (positive = worse than random); means with 95% intervals: {}",
            values
                .iter()
                .map(|(m, v)| format!("{} {}", paper.method_label(m), num(v.0 - random.0, 3)))
                .collect::<Vec<_>>()
                .join(", "),
            against_random_text(paper, &values, random)
        );
        let contradiction = (!opposite.is_empty()).then(|| {
            let mut text = format!(
                "{} better than random beyond our 95% intervals",
                method_list(paper, &opposite)
            );
            if let Some(confident) =
                super::breakdown::confident_lerf(paper, ours.stats, worse, fill)
            {
                text.push_str("; ");
                text.push_str(&confident);
            }
            text
        });
        out.push(Finding::judged(
            id,
            topic,
            said,
            ours_text,
            strict,
            contradiction,
            "the methods at or below random are within our 95% intervals of it",
        ));
    }

    out.push(random_fill_helps(paper, metrics));
    out.push(faithfulness_lowest(paper, metrics));
    out.push(confidence_share(paper, ours));
    out
}

/// The run's fills that the paper has (its claims are checked on those only).
fn paper_fills<'a>(
    paper: &'a PaperValues,
    metrics: &'a Metrics,
) -> impl Iterator<Item = &'a String> + 'a {
    metrics.fills.iter().filter(|f| paper.has_fill(f))
}

fn accuracy(paper: &PaperValues, ours: Ours<'_>) -> Finding {
    let claim = &paper.claims.test_accuracy;
    let said = format!("test accuracy {}%", num(claim.data.value * 100.0, 1));
    match ours.train.test_accuracy() {
        None => Finding::not_comparable(
            "test_accuracy",
            "Test accuracy",
            said,
            "model.safetensors records no test_accuracy",
        ),
        Some(acc) => Finding::new(
            "test_accuracy",
            "Test accuracy",
            said,
            format!(
                "test accuracy {}% (comparable if within {} points)",
                num(acc * 100.0, 1),
                num(ACCURACY_TOLERANCE * 100.0, 0)
            ),
            Verdict::from_bool((acc - claim.data.value).abs() <= ACCURACY_TOLERANCE),
        ),
    }
}

fn random_fill_helps(paper: &PaperValues, metrics: &Metrics) -> Finding {
    let methods = &paper.claims.random_fill_helps_edge_like_morf.data.methods;
    let topic = "Random RGB fill gives edge-like methods better AOPC_MoRF";
    let said = format!(
        "{}: AOPC_MoRF better with random RGB than with mean perturbation",
        method_list(paper, methods)
    );
    let end = |m: &str, fill: &str| {
        metrics.adjusted(m, Order::Morf, fill).map(|b| {
            let i = b.len() - 1;
            (b.centre[i], b.lo[i], b.hi[i])
        })
    };
    let mut parts = Vec::new();
    let mut strict = true;
    let mut opposite = Vec::new();
    for m in methods {
        let (Some(mean), Some(uniform)) = (end(m, "mean"), end(m, "uniform")) else {
            return Finding::not_comparable(
                "random_fill_helps_edge_like_morf",
                topic,
                said,
                "needs both fills and both methods",
            );
        };
        strict &= uniform.0 > mean.0;
        if clearly_better(mean, uniform, Order::Morf) {
            opposite.push(paper.method_label(m));
        }
        parts.push(format!(
            "{}: uniform {} vs mean {}",
            paper.method_label(m),
            mean_with_interval(uniform),
            mean_with_interval(mean)
        ));
    }
    let ours_text = format!(
        "AOPC_MoRF - random at L={} with 95% intervals: {}",
        metrics.steps,
        parts.join("; ")
    );
    let contradiction = (!opposite.is_empty()).then(|| {
        format!(
            "the mean fill is better than random RGB beyond our 95% intervals for {}",
            join_words(&opposite)
        )
    });
    Finding::judged(
        "random_fill_helps_edge_like_morf",
        topic,
        said,
        ours_text,
        strict,
        contradiction,
        "where the mean fill is not below, the two fills are within our 95% intervals",
    )
}

fn faithfulness_lowest(paper: &PaperValues, metrics: &Metrics) -> Finding {
    let expected = &paper.claims.faithfulness_lowest.data.method;
    let topic = "Lowest mean faithfulness";
    let said = format!(
        "{} consistently the lowest mean F",
        paper.method_label(expected)
    );
    if !metrics.methods.contains(expected) {
        return Finding::not_comparable(
            "faithfulness_lowest",
            topic,
            said,
            format!("{expected} not evaluated"),
        );
    }
    // Each method's mean F with its normal interval at the level of the AOPC bands.
    let z = crate::aopc::normal_quantile(metrics.interval_level);
    let mut parts = Vec::new();
    let mut strict = true;
    let mut pairs = Vec::new();
    for fill in paper_fills(paper, metrics) {
        let means: Vec<(String, Interval)> = metrics
            .methods
            .iter()
            .filter_map(|m| {
                let d = Describe::of(metrics.faithfulness.get(&(m.clone(), fill.clone()))?)?;
                let half = z * d.sd / (d.n as f64).sqrt();
                Some((m.clone(), (d.mean, d.mean - half, d.mean + half)))
            })
            .collect();
        let Some((lowest, value)) = means.iter().min_by(|a, b| a.1 .0.total_cmp(&b.1 .0)) else {
            continue;
        };
        strict &= lowest == expected;
        // "Lowest" read with LeRF's direction (lower first): a method clearly below the one
        // the paper names lowest contradicts it.
        let rank = |m: &str| usize::from(m != expected.as_str());
        for (a, b) in contradicting_pairs(&means, rank, Order::Lerf) {
            pairs.push(format!(
                "{fill} fill: {} below {}",
                paper.method_label(&a),
                paper.method_label(&b)
            ));
        }
        parts.push(format!(
            "{fill} fill: {}, {}",
            paper.method_label(lowest),
            mean_with_interval(*value)
        ));
    }
    let ours_text = format!("lowest mean F with its 95% interval: {}", parts.join("; "));
    let contradiction =
        (!pairs.is_empty()).then(|| format!("beyond our 95% intervals, {}", pairs.join("; ")));
    Finding::judged(
        "faithfulness_lowest",
        topic,
        said,
        ours_text,
        strict,
        contradiction,
        &format!(
            "{} is within our 95% intervals of the lowest",
            paper.method_label(expected)
        ),
    )
}

fn confidence_share(paper: &PaperValues, ours: Ours<'_>) -> Finding {
    let claim = &paper.claims.high_confidence_share.data;
    let topic = format!(
        "Share of images classified with confidence >= {}",
        claim.threshold
    );
    let said = format!("{}% of the test images", num(claim.value * 100.0, 0));
    let recorded = ours
        .train
        .test_confident_share()
        .filter(|_| (claim.threshold - 0.99).abs() < 1e-12);
    let (share, over) = match recorded {
        // The model records the share over all 10,000 test images (at 0.99).
        Some(share) => (
            share,
            "all test images (recorded by the train stage)".to_owned(),
        ),
        None => {
            let conf = &ours.saliency.confidence;
            if conf.is_empty() {
                return Finding::not_comparable(
                    "high_confidence_share",
                    topic,
                    said,
                    "no evaluated image",
                );
            }
            let share = conf
                .iter()
                .filter(|&&c| f64::from(c) >= claim.threshold)
                .count() as f64
                / conf.len() as f64;
            (share, format!("the {} evaluated images", conf.len()))
        }
    };
    Finding::new(
        "high_confidence_share",
        topic,
        said,
        format!(
            "{}% of {over} (comparable if within {} points)",
            num(share * 100.0, 1),
            num(SHARE_TOLERANCE * 100.0, 0)
        ),
        Verdict::from_bool((share - claim.value).abs() <= SHARE_TOLERANCE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(values: &[(&str, f64, f64, f64)]) -> Vec<(String, (f64, f64, f64))> {
        values
            .iter()
            .map(|&(m, v, lo, hi)| (m.to_owned(), (v, lo, hi)))
            .collect()
    }

    fn contradicted(
        ranked: &[(String, (f64, f64, f64))],
        rank: impl Fn(&str) -> usize,
        order: Order,
    ) -> bool {
        !contradicting_pairs(ranked, rank, order).is_empty()
    }

    #[test]
    fn a_swap_inside_overlapping_intervals_is_a_tie_and_a_disjoint_one_contradicts() {
        // MoRF, higher is better; the paper says b is best.
        let rank = |m: &str| usize::from(m != "b");
        let tied = ranked(&[("a", 0.35, 0.30, 0.40), ("b", 0.31, 0.26, 0.36)]);
        assert!(!contradicted(&tied, rank, Order::Morf));
        let apart = ranked(&[("a", 0.35, 0.33, 0.37), ("b", 0.30, 0.28, 0.32)]);
        assert_eq!(
            contradicting_pairs(&apart, rank, Order::Morf),
            vec![("a".to_owned(), "b".to_owned())]
        );
        // LeRF, lower is better: a clearly below b contradicts "b before a".
        let lerf = ranked(&[("a", -0.20, -0.22, -0.18), ("b", -0.10, -0.12, -0.08)]);
        assert!(contradicted(&lerf, rank, Order::Lerf));
        assert!(!contradicted(
            &lerf,
            |m: &str| usize::from(m != "a"),
            Order::Lerf
        ));
    }
}
