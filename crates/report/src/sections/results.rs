//! Figure 1, Figure 2a, Figure 2b and the global scores behind them.

use super::Context;
use crate::describe::Describe;
use crate::load::metrics::Order;
use crate::load::stats::Variant;
use crate::paper::Metric;
use crate::render::{num, with_interval, Document, Table, NONE};

/// Figure 1's section.
pub fn figure1(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Figure 1: example saliency maps");
    let picks = cx.picks;
    let min = cx.config.report.figure1_min_confidence;
    if picks.picks.is_empty() {
        doc.paragraph(format!(
            "No figure: none of the classes {:?} has a correctly classified image among the evaluated ones.",
            cx.config.report.figure1_classes
        ));
        return;
    }
    let rows: Vec<String> = picks
        .picks
        .iter()
        .map(|p| {
            let how = if p.confident {
                format!("first with confidence >= {min}")
            } else {
                format!("none reaches {min}: the most confident")
            };
            format!(
                "{} (test image {}, confidence {}, {how})",
                p.class_name,
                p.image_index,
                num(f64::from(p.confidence), 4)
            )
        })
        .collect();
    let mut caption = format!(
        "Saliency maps of the {} methods plus the image, for one correctly classified evaluated image per class, top to bottom: {}. Positive relevance red, negative blue; each map is normalised by its maximum absolute value.",
        cx.metrics.methods.len(),
        rows.join("; ")
    );
    if !picks.absent.is_empty() {
        caption.push_str(&format!(
            " No correctly classified evaluated image for: {}.",
            picks.absent.join(", ")
        ));
    }
    if !picks.unknown.is_empty() {
        caption.push_str(&format!(
            " Not a class of the dataset: {}.",
            picks.unknown.join(", ")
        ));
    }
    doc.figure("figure1", caption);
    paper_caption(
        doc,
        &cx.paper.figures.figure1.caption,
        &cx.paper.figures.figure1.reference,
    );
}

/// The paper's caption of the same figure, quoted under ours.
fn paper_caption(doc: &mut Document, caption: &str, reference: &str) {
    doc.paragraph(format!("The paper's caption ({reference}): \"{caption}\""));
}

/// Figure 2a's section.
pub fn figure2a(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Figure 2a: AOPC against the number of perturbed pixels");
    let m = cx.metrics;
    let orderings: Vec<String> = m
        .fills
        .iter()
        .map(|f| format!("R = {} for {f}", m.orderings[f]))
        .collect();
    doc.figure(
        "figure2a",
        format!(
            "AOPC of each method for L = 0 to {} perturbation steps minus the mean AOPC of random deletion (dashed line at 0; grey band: 2.5 to 97.5 percentiles of the per-ordering means over images, {}). Coloured bands: {:.1}% intervals of each method's mean (the stats stage's `mean_ci`), mean +- {:.3} standard errors over the {} images (normal approximation at every L, quantile from statrs; the bootstrap intervals of the same means at the L of Table 1 are in the global scores below). Rows: MoRF (higher is better), LeRF (lower is better); columns: fills ({}).",
            m.steps,
            orderings.join(", "),
            100.0 * m.interval_level,
            crate::aopc::normal_quantile(m.interval_level),
            cx.saliency.len(),
            m.fills.iter().map(|f| cx.paper.fill_label(f)).collect::<Vec<_>>().join(", ")
        ),
    );
    let paper = &cx.paper.figures.figure2a;
    paper_caption(doc, &paper.caption, &paper.reference);
}

/// Figure 2b's section.
pub fn figure2b(doc: &mut Document, cx: &Context<'_>) {
    doc.heading(2, "Figure 2b: distribution of faithfulness F");
    let undefined: usize = cx
        .metrics
        .faithfulness
        .values()
        .map(|v| v.iter().filter(|x| !x.is_finite()).count())
        .sum();
    let mut caption = format!(
        "Faithfulness F of each method over the evaluated images: histogram ({} bins) and Gaussian kernel density (Silverman bandwidth). Mean: solid line; median: dashed; lower and upper quartiles: dotted. Each column (fill) has its own row order, highest mean F on top, and one x range for all its panels.",
        cx.config.report.histogram_bins
    );
    if undefined > 0 {
        caption.push_str(&format!(
            " {undefined} image-method-fill values of F are undefined (zero variance of relevance or output change) and left out; each panel counts its own."
        ));
    }
    doc.figure("figure2b", caption);
    let paper = &cx.paper.figures.figure2b;
    paper_caption(doc, &paper.caption, &paper.reference);
}

/// The global scores behind Figure 2: per method and fill, AOPC minus random at L_max and F.
pub fn global_scores(doc: &mut Document, cx: &Context<'_>) {
    let m = cx.metrics;
    let l = m.steps;
    let mut table = Table::new([
        "Method".to_owned(),
        "Fill".to_owned(),
        format!("AOPC_MoRF - random, L={l} (95% CI)"),
        format!("AOPC_LeRF - random, L={l} (95% CI)"),
        "mean F".to_owned(),
        "median F (quartiles)".to_owned(),
        "undefined F".to_owned(),
    ]);
    for fill in &m.fills {
        for method in &m.methods {
            let at_end = |order: Order| {
                m.adjusted(method, order, fill)
                    .map_or(NONE.to_owned(), |b| {
                        let i = b.len() - 1;
                        format!(
                            "{} ({}–{})",
                            num(b.centre[i], 3),
                            num(b.lo[i], 3),
                            num(b.hi[i], 3)
                        )
                    })
            };
            let f = m
                .faithfulness
                .get(&(method.clone(), fill.clone()))
                .and_then(|v| Describe::of(v));
            table.row([
                cx.paper.method_label(method),
                cx.paper.fill_name(fill),
                at_end(Order::Morf),
                at_end(Order::Lerf),
                f.map_or(NONE.to_owned(), |d| num(d.mean, 3)),
                f.map_or(NONE.to_owned(), |d| {
                    format!("{} ({}–{})", num(d.median, 3), num(d.q1, 3), num(d.q3, 3))
                }),
                f.map_or(NONE.to_owned(), |d| d.non_finite.to_string()),
            ]);
        }
        if let (Some(band), Some(mean)) = (m.random_adjusted(fill), m.random_mean.get(fill)) {
            let i = band.len() - 1;
            table.row([
                "random baseline".to_owned(),
                cx.paper.fill_name(fill),
                format!(
                    "AOPC {} (orderings: {}–{} around it)",
                    num(mean.centre[i], 3),
                    num(band.lo[i], 3),
                    num(band.hi[i], 3)
                ),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    doc.table(
        format!("Global scores over the {} evaluated images (the end points of Figure 2a and the summaries of Figure 2b). The random baseline's AOPC_MoRF and AOPC_LeRF are the same quantity.", cx.saliency.len()),
        table,
    );
}

/// The stats stage's global means with their bootstrap intervals, at the largest L it reports.
pub fn stats_global(doc: &mut Document, cx: &Context<'_>) {
    let s = cx.stats;
    if s.global.is_empty() {
        doc.paragraph("stats.json holds no global scores.");
        return;
    }
    let max_l = |metric: Metric| {
        s.global
            .iter()
            .filter(|g| g.variant.metric == metric)
            .filter_map(|g| g.variant.steps)
            .max()
    };
    // Every metric the stage reported, at its largest L: the paper's, then the newer ones.
    let columns: Vec<(Metric, Option<usize>)> = Metric::ALL
        .iter()
        .map(|&m| (m, max_l(m)))
        .filter(|&(m, l)| !m.has_steps() || l.is_some())
        .collect();
    let mut header = vec!["Method".to_owned(), "Fill".to_owned()];
    for &(metric, l) in &columns {
        header.push(match l {
            Some(l) => format!("{}, L={l}", metric.tagged_label()),
            None => metric.tagged_label(),
        });
    }
    let mut table = Table::new(header);
    for fill in &cx.metrics.fills {
        for method in &cx.metrics.methods {
            let mut row = vec![cx.paper.method_label(method), cx.paper.fill_name(fill)];
            for &(metric, steps) in &columns {
                let variant = Variant {
                    metric,
                    steps,
                    fill: fill.clone(),
                };
                let cell = s
                    .global
                    .iter()
                    .find(|g| &g.method == method && g.variant == variant);
                row.push(cell.map_or(NONE.to_owned(), |g| with_interval(g.mean.value, g.mean.ci)));
            }
            table.row(row);
        }
        let random = s
            .random
            .iter()
            .filter(|r| &r.fill == fill)
            .max_by_key(|r| r.steps);
        if let Some(r) = random {
            // In the AOPC_MoRF column (the same quantity as AOPC_LeRF for random orderings).
            let mut row = vec![String::new(); 2 + columns.len()];
            row[0] = "random baseline".to_owned();
            row[1] = cx.paper.fill_name(fill);
            if let Some(i) = columns.iter().position(|c| c.0 == Metric::Morf) {
                row[2 + i] = format!(
                    "{} (L={}, R={})",
                    with_interval(r.mean, r.interval),
                    r.steps,
                    r.orderings
                );
            }
            table.row(row);
        }
    }
    let level = s.mean_interval_level.map_or_else(
        || "unrecorded-level".to_owned(),
        |l| format!("{}%", num(l * 100.0, 1)),
    );
    doc.table(
        format!(
            "Global means over images from the stats stage, with {level} bootstrap intervals ({} resamples of the images); the random baseline's bracket is the percentile band of its per-ordering means.",
            s.bootstrap.map_or_else(|| "an unrecorded number of".to_owned(), |b| b.to_string())
        ),
        table,
    );
}

/// The metrics the paper does not have (SRG, Quantus's AUC): their definitions, and the figure
/// of their global means against L. Their Table 1, inter-method, Table 2, global and breakdown
/// rows are in those tables, labelled "not in the paper".
pub fn newer_metrics(doc: &mut Document, cx: &Context<'_>) {
    let s = cx.stats;
    let newer: Vec<Metric> = Metric::ALL
        .into_iter()
        .filter(|m| !m.in_paper())
        .filter(|m| s.global.iter().any(|g| g.variant.metric == *m))
        .collect();
    if newer.is_empty() {
        return;
    }
    doc.heading(2, "Metrics not in the paper: SRG and Quantus's AUC");
    doc.paragraph(
        "The stats stage also scores metrics proposed or popularised since the paper, from the same drop curves (no further forward passes), with the same psychometrics: their rows in Table 1, the inter-method reliability, Table 2, the global scores and the breakdowns are labelled \"not in the paper\". Their definitions, as the stats stage recorded them:",
    );
    let definitions: Vec<String> = newer
        .iter()
        .map(|m| {
            let text = s
                .definitions
                .iter()
                .find(|(d, _)| d == m)
                .map_or("(definition not recorded in stats.json)", |(_, t)| {
                    t.as_str()
                });
            format!("{}: {text}", m.label())
        })
        .collect();
    doc.list(definitions);
    let level = s.mean_interval_level.map_or_else(
        || "unrecorded-level".to_owned(),
        |l| format!("{}%", num(l * 100.0, 1)),
    );
    // The stage draws the figure exactly when this finds panels.
    let drawn = crate::figures::newer::FigureNewer::from_stats(
        s,
        &cx.metrics.methods,
        Vec::new(),
        &cx.metrics.fills,
        false,
    )
    .is_some();
    if !drawn {
        return;
    }
    doc.figure(
        crate::figures::newer::NAME,
        format!(
            "Global mean over the {} evaluated images of each metric not in the paper against L (the L values of `[stats] aopc_steps`), per method, with the stats stage's {level} bootstrap intervals; rows: metrics ({}), columns: fills ({}). Not in the paper: there is no figure to compare with.",
            cx.saliency.len(),
            newer.iter().map(|m| m.label()).collect::<Vec<_>>().join(", "),
            cx.metrics.fills.join(", ")
        ),
    );
}
