//! Checks against the breakdowns of the discussion: low-confidence images and the frog class.

use super::{against_random, against_random_text, method_list, Finding, Interval, Ours, Verdict};
use crate::load::stats::{Estimate, Group, Stats, Variant};
use crate::paper::{Metric, PaperValues};
use crate::render::num;

/// The AOPC L the breakdowns are read at: the largest L the stage reports for `metric`.
fn breakdown_steps(groups: &[&Group], metric: Metric) -> Option<usize> {
    groups
        .iter()
        .flat_map(|g| g.means.iter())
        .filter(|m| m.variant.metric == metric)
        .filter_map(|m| m.variant.steps)
        .max()
}

/// An estimate as `(mean, lo, hi)`; without an interval, the mean as both bounds.
fn interval(e: Estimate) -> Interval {
    let (lo, hi) = e.ci.unwrap_or((e.value, e.value));
    (e.value, lo, hi)
}

/// A group's AOPC_LeRF at one L: that L, each method's mean and the random baseline's.
struct LerfAt {
    steps: usize,
    methods: Vec<(String, Interval)>,
    random: Interval,
}

/// `methods` and the random baseline in `group` at LeRF, the group's largest L, `fill`; `None`
/// if any is missing.
fn lerf_against_random(group: &Group, methods: &[String], fill: &str) -> Option<LerfAt> {
    let steps = breakdown_steps(&[group], Metric::Lerf)?;
    let variant = Variant {
        metric: Metric::Lerf,
        steps: Some(steps),
        fill: fill.to_owned(),
    };
    let random = interval(group.estimate("random", &variant)?);
    let values = methods
        .iter()
        .map(|m| Some((m.clone(), interval(group.estimate(m, &variant)?))))
        .collect::<Option<Vec<_>>>()?;
    Some(LerfAt {
        steps,
        methods: values,
        random,
    })
}

/// Evidence for "`methods` are worse than random under LeRF": the paper ties it to the model's
/// confidence, so the same comparison on our images above the confidence threshold (with 95%
/// intervals), and what it shows.
pub(super) fn confident_lerf(
    paper: &PaperValues,
    stats: &Stats,
    methods: &[String],
    fill: &str,
) -> Option<String> {
    let group = stats.high_confidence.as_ref()?;
    let LerfAt {
        steps,
        methods: values,
        random,
    } = lerf_against_random(group, methods, fill)?;
    let (strict, opposite) = against_random(&values, random, true);
    let reading = if !opposite.is_empty() {
        format!(
            "{} better than random there too, so our share of confident images does not explain it",
            method_list(paper, &opposite)
        )
    } else if strict {
        "worse than random there, as the paper says of confident images: our model has fewer of them".to_owned()
    } else {
        "within our intervals of random there".to_owned()
    };
    Some(format!(
        "the paper ties the claim to confident images; on our {} images with {} (AOPC_LeRF at L={steps}, {fill} fill): {}: {reading}",
        group.images,
        group.name,
        against_random_text(paper, &values, random)
    ))
}

pub(super) fn findings(paper: &PaperValues, ours: Ours<'_>) -> Vec<Finding> {
    let mut out = low_confidence(paper, ours.stats, &ours.metrics.fills);
    out.push(frog(paper, ours));
    out
}

fn low_confidence(paper: &PaperValues, stats: &Stats, fills: &[String]) -> Vec<Finding> {
    let claim = &paper.claims.low_confidence_lerf.data;
    let names = method_list(paper, &claim.methods);
    let said = format!(
        "on the {} images with confidence <= {}, {names} have LeRF better than random",
        claim.count, claim.threshold
    );
    let topic = |fill: &str| format!("Low-confidence images: LeRF against random, {fill} fill");
    let Some(group) = &stats.low_confidence else {
        return vec![Finding::not_comparable(
            "low_confidence_lerf",
            topic("any"),
            said,
            "stats.json has no confidence breakdown",
        )];
    };
    fills
        .iter()
        .filter(|fill| paper.has_fill(fill))
        .map(|fill| {
            let id = format!("low_confidence_lerf.{fill}");
            let Some(LerfAt {
                steps,
                methods: values,
                random,
            }) = lerf_against_random(group, &claim.methods, fill)
            else {
                return Finding::not_comparable(
                    id,
                    topic(fill),
                    said.clone(),
                    "stats.json lacks a method the claim names, or the random baseline, for this group",
                );
            };
            let (strict, opposite) = against_random(&values, random, false);
            let text = format!(
                "{} images ({}): AOPC_LeRF at L={steps} with 95% intervals: {}",
                group.images,
                group.name,
                against_random_text(paper, &values, random)
            );
            let contradiction = (!opposite.is_empty()).then(|| {
                format!(
                    "{} worse than random beyond our 95% intervals on these {} images (the paper's group: {})",
                    method_list(paper, &opposite),
                    group.images,
                    claim.count
                )
            });
            Finding::judged(
                id,
                topic(fill),
                said.clone(),
                text,
                strict,
                contradiction,
                &format!(
                    "the methods at or above random are within our 95% intervals of it ({} images here, {} in the paper)",
                    group.images, claim.count
                ),
            )
        })
        .collect()
}

/// Frog images: better MoRF, worse LeRF and better F than the other classes (averaged over the
/// methods without edge, first fill): each of the three counts if frog beats the median of the
/// other classes. Where it differs, the evidence is the same check under the paper's other fill.
fn frog(paper: &PaperValues, ours: Ours<'_>) -> Finding {
    let class = &paper.claims.frog_class.data.class;
    let topic = format!("The {class} class: better AOPC_MoRF, worse AOPC_LeRF, better F");
    let said = format!("{class} images have generally better AOPC_MoRF, worse AOPC_LeRF and better F than other classes");
    let groups: Vec<&Group> = ours.stats.per_class.iter().collect();
    if !groups.iter().any(|g| &g.name == class) {
        return Finding::not_comparable(
            "frog_class",
            topic,
            said,
            format!("stats.json has no {class} class"),
        );
    }
    let fills: Vec<&String> = ours
        .metrics
        .fills
        .iter()
        .filter(|f| paper.has_fill(f))
        .collect();
    let Some(first) = fills.first() else {
        return Finding::not_comparable("frog_class", topic, said, "no fill of the paper's");
    };
    match class_check(ours, &groups, class, first) {
        Err(why) => Finding::not_comparable("frog_class", topic, said, why),
        Ok((ok, text)) => {
            let evidence = fills[1..]
                .iter()
                .filter_map(|fill| {
                    let (holds, text) = class_check(ours, &groups, class, fill).ok()?;
                    Some(format!(
                        "under the {fill} fill the claim {}: {text}",
                        if holds { "holds" } else { "differs too" }
                    ))
                })
                .collect::<Vec<_>>();
            Finding::new(
                "frog_class",
                topic,
                said,
                format!("mean over methods without edge: {text}"),
                Verdict::from_bool(ok),
            )
            .with_evidence((!evidence.is_empty()).then(|| evidence.join("; ")))
        }
    }
}

/// The frog check under one fill: whether `class` beats the median of the other classes on
/// all three metrics (mean over the methods without edge), and the numbers; `Err` names what
/// stats.json lacks.
fn class_check(
    ours: Ours<'_>,
    groups: &[&Group],
    class: &str,
    fill: &str,
) -> std::result::Result<(bool, String), String> {
    let methods: Vec<&String> = ours
        .metrics
        .methods
        .iter()
        .filter(|m| m.as_str() != "edge")
        .collect();
    let mut parts = Vec::new();
    let mut ok = true;
    for metric in [Metric::Morf, Metric::Lerf, Metric::Faithfulness] {
        let steps = if metric == Metric::Faithfulness {
            None
        } else {
            breakdown_steps(groups, metric)
        };
        let variant = Variant {
            metric,
            steps,
            fill: fill.to_owned(),
        };
        let score = |g: &Group| -> Option<f64> {
            let v: Vec<f64> = methods.iter().filter_map(|m| g.mean(m, &variant)).collect();
            (v.len() == methods.len() && !v.is_empty())
                .then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let target = groups
            .iter()
            .find(|g| g.name == class)
            .and_then(|g| score(g))
            .ok_or_else(|| format!("stats.json lacks {} for {class}", variant.label()))?;
        let mut others: Vec<f64> = groups
            .iter()
            .filter(|g| g.name != class)
            .filter_map(|g| score(g))
            .collect();
        if others.is_empty() {
            return Err("no other class to compare with".to_owned());
        }
        others.sort_by(f64::total_cmp);
        let median = crate::describe::quantile_sorted(&others, 0.5);
        // "Better" LeRF is lower; the paper says frog LeRF is worse, i.e. higher.
        ok &= target > median;
        parts.push(format!(
            "{} {} vs median of other classes {}",
            variant.label(),
            num(target, 3),
            num(median, 3)
        ));
    }
    Ok((ok, parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::GroupMean;

    /// A group with AOPC_LeRF at L=100 under the mean fill: `(method, mean, lo, hi)`, the random
    /// baseline among them as `random`.
    fn group(name: &str, images: usize, rows: &[(&str, f64, f64, f64)]) -> Group {
        Group {
            name: name.to_owned(),
            images,
            means: rows
                .iter()
                .map(|&(method, value, lo, hi)| GroupMean {
                    method: method.to_owned(),
                    variant: Variant {
                        metric: Metric::Lerf,
                        steps: Some(100),
                        fill: "mean".to_owned(),
                    },
                    mean: Estimate {
                        value,
                        ci: Some((lo, hi)),
                    },
                })
                .collect(),
        }
    }

    fn low(rows: &[(&str, f64, f64, f64)]) -> Finding {
        let paper = PaperValues::bundled().unwrap();
        let stats = Stats {
            low_confidence: Some(group("confidence<=0.8", 97, rows)),
            ..Stats::default()
        };
        low_confidence(&paper, &stats, &["mean".to_owned()]).remove(0)
    }

    #[test]
    fn low_confidence_methods_against_random_follow_the_interval_rule() {
        let random = ("random", 0.25, 0.20, 0.30);
        // Both below random: agrees by the means.
        let f = low(&[
            random,
            ("gradient_x_input", 0.2, 0.15, 0.25),
            ("deep_shap", 0.1, 0.05, 0.15),
        ]);
        assert_eq!((f.verdict, f.within_intervals), (Verdict::Agrees, false));
        // Gradient x input above random's mean, inside its interval: a tie.
        let f = low(&[
            random,
            ("gradient_x_input", 0.28, 0.22, 0.34),
            ("deep_shap", 0.1, 0.05, 0.15),
        ]);
        assert_eq!((f.verdict, f.within_intervals), (Verdict::Agrees, true));
        assert!(
            f.ours.contains("97 images here, 1600 in the paper"),
            "{}",
            f.ours
        );
        // Clearly above random: differs, and the evidence names it.
        let f = low(&[
            random,
            ("gradient_x_input", 0.40, 0.35, 0.45),
            ("deep_shap", 0.1, 0.05, 0.15),
        ]);
        assert_eq!(f.verdict, Verdict::Differs);
        assert!(f.evidence.unwrap().starts_with("gradient"));
    }

    #[test]
    fn the_confident_subset_says_whether_confidence_explains_lerf_worse_than_random() {
        let paper = PaperValues::bundled().unwrap();
        let methods = ["gradient_x_input".to_owned(), "deep_shap".to_owned()];
        let stats = |shap: (f64, f64, f64)| Stats {
            high_confidence: Some(group(
                "confidence>0.8",
                403,
                &[
                    ("random", 0.2, 0.18, 0.22),
                    ("gradient_x_input", 0.25, 0.22, 0.28),
                    ("deep_shap", shap.0, shap.1, shap.2),
                ],
            )),
            ..Stats::default()
        };
        let text = confident_lerf(&paper, &stats((0.1, 0.08, 0.12)), &methods, "mean").unwrap();
        assert!(text.contains("403 images with confidence>0.8"), "{text}");
        assert!(text.contains("better than random there too"), "{text}");
        let text = confident_lerf(&paper, &stats((0.3, 0.27, 0.33)), &methods, "mean").unwrap();
        assert!(text.contains("worse than random there"), "{text}");
        assert_eq!(
            confident_lerf(&paper, &Stats::default(), &methods, "mean"),
            None
        );
    }
}
