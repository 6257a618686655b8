//! The figure of the metrics the paper does not have (SRG, Quantus's AUC, ...): per metric
//! (row) and fill (column), each method's global mean over images against L, with the stats
//! stage's bootstrap interval, at the L values the stage reported (`[stats] aopc_steps`).
//!
//! Drawn from `stats.json` alone, so a metric added to the stats stage needs no new code here:
//! every metric with an L that is not in the paper gets its row of panels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::FAMILY;
use super::legend::draw_methods_only_legend;
use super::method_color;
use super::render::{plot_err, Figure};
use crate::load::stats::{Stats, Variant};
use crate::paper::Metric;
use crate::render::num;

const PANEL: (u32, u32) = (520, 380);
const LEGEND: u32 = 44;
/// The figure's file stem.
pub const NAME: &str = "figure_newer_metrics";

/// One method's mean at each reported L, with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// (L, mean, ci lo, ci hi), L ascending.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One panel: a metric and a fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The metric (the row).
    pub metric: Metric,
    /// The fill's display name (the column).
    pub fill: String,
    /// Per method, in the order of `FigureNewer::methods`.
    pub methods: Vec<Series>,
}

/// The figure: rows = metrics not in the paper, columns = fills.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureNewer {
    /// Method display names.
    pub methods: Vec<String>,
    /// Panels, row-major (metric, then fill).
    pub panels: Vec<Panel>,
    /// Number of columns (fills).
    pub columns: usize,
    /// Whether text is drawn.
    pub text: bool,
}

impl FigureNewer {
    /// The panels of every metric not in the paper that `stats` has global means of, per fill;
    /// `None` when there is none.
    pub fn from_stats(
        stats: &Stats,
        methods: &[String],
        labels: Vec<String>,
        fills: &[String],
        text: bool,
    ) -> Option<FigureNewer> {
        let mut panels = Vec::new();
        for metric in Metric::ALL
            .into_iter()
            .filter(|m| !m.in_paper() && m.has_steps())
        {
            let mut steps: Vec<usize> = stats
                .global
                .iter()
                .filter(|g| g.variant.metric == metric)
                .filter_map(|g| g.variant.steps)
                .collect();
            steps.sort_unstable();
            steps.dedup();
            if steps.is_empty() {
                continue;
            }
            for fill in fills {
                let series = methods
                    .iter()
                    .map(|method| Series {
                        points: steps
                            .iter()
                            .filter_map(|&l| {
                                let variant = Variant {
                                    metric,
                                    steps: Some(l),
                                    fill: fill.clone(),
                                };
                                let g = stats
                                    .global
                                    .iter()
                                    .find(|g| &g.method == method && g.variant == variant)?;
                                let (lo, hi) = g.mean.ci.unwrap_or((g.mean.value, g.mean.value));
                                Some((l as f64, g.mean.value, lo, hi))
                            })
                            .collect(),
                    })
                    .collect();
                panels.push(Panel {
                    metric,
                    fill: format!("{fill} fill"),
                    methods: series,
                });
            }
        }
        (!panels.is_empty()).then_some(FigureNewer {
            methods: labels,
            panels,
            columns: fills.len(),
            text,
        })
    }
}

impl Figure for FigureNewer {
    fn name(&self) -> &str {
        NAME
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        (
            PANEL.0 * self.columns.max(1) as u32,
            PANEL.1 * rows + LEGEND,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (_, h) = self.size();
        let (body, legend) = root.split_vertically(h - LEGEND);
        let rows = self.panels.len().div_ceil(self.columns.max(1));
        let areas = body.split_evenly((rows, self.columns.max(1)));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            self.draw_panel(panel, area)?;
        }
        if self.text {
            draw_methods_only_legend(&legend, &self.methods)?;
        }
        Ok(())
    }
}

impl FigureNewer {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let points = || panel.methods.iter().flat_map(|s| s.points.iter());
        let max_l = points().map(|p| p.0).fold(1.0f64, f64::max);
        let (lo, hi) = points()
            .flat_map(|p| [p.2, p.3])
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.05).max(1e-6);
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(24);
        if self.text {
            let better = if panel.metric.higher_is_better() {
                "higher is better"
            } else {
                "lower is better"
            };
            builder
                .caption(
                    format!("{}, {} ({better})", panel.metric.label(), panel.fill),
                    (FAMILY, 16),
                )
                .x_label_area_size(40)
                .y_label_area_size(64);
        }
        let mut chart = builder
            .build_cartesian_2d(0.0..max_l * 1.05, (lo - pad)..(hi + pad))
            .map_err(plot_err)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08));
        if self.text {
            mesh.x_desc("L (pixels perturbed)")
                .y_desc(format!("mean {} (not in the paper)", panel.metric.label()))
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 13))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| num(*v, 3));
        }
        mesh.draw().map_err(plot_err)?;
        for (i, series) in panel.methods.iter().enumerate() {
            let color = method_color(i);
            // A small horizontal offset per method keeps the intervals apart.
            let dx = (i as f64 - (panel.methods.len() as f64 - 1.0) / 2.0) * max_l * 0.006;
            chart
                .draw_series(series.points.iter().map(|&(l, _, lo, hi)| {
                    PathElement::new(vec![(l + dx, lo), (l + dx, hi)], color.stroke_width(2))
                }))
                .map_err(plot_err)?;
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().map(|&(l, m, _, _)| (l + dx, m)),
                    color.stroke_width(2),
                ))
                .map_err(plot_err)?;
            chart
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|&(l, m, _, _)| Circle::new((l + dx, m), 3, color.filled())),
                )
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
