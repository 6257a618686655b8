//! Figure 2b: the distribution of faithfulness F per method, rows by mean F, columns by fill.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::FAMILY;
use super::legend::draw_line_legend;
use super::method_color;
use super::render::{plot_err, Figure};
use crate::describe::{gaussian_kde, histogram_density, linspace, silverman_bandwidth, Describe};
use crate::render::num;

const PANEL: (u32, u32) = (480, 170);
const LEGEND: u32 = 44;
/// Points at which the kernel density is evaluated.
const DENSITY_POINTS: usize = 256;

/// One panel: a method's F over images for one fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The method's display name.
    pub method: String,
    /// The method's position in the method list (its colour).
    pub color_index: usize,
    /// The fill's display name.
    pub fill: String,
    /// F per image (NaN where undefined; left out and counted).
    pub values: Vec<f32>,
}

/// Figure 2b: one column per fill, each column's rows ordered by mean F (highest on top).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure2b {
    /// Columns (fills), each a list of panels from top to bottom.
    pub columns: Vec<Vec<Panel>>,
    /// Histogram bins per panel.
    pub bins: usize,
    /// Whether text is drawn.
    pub text: bool,
}

impl Figure for Figure2b {
    fn name(&self) -> &str {
        "figure2b"
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.columns.iter().map(Vec::len).max().unwrap_or(0) as u32;
        (PANEL.0 * self.columns.len() as u32, PANEL.1 * rows + LEGEND)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (_, h) = self.size();
        let (body, legend) = root.split_vertically(h - LEGEND);
        let rows = self.columns.iter().map(Vec::len).max().unwrap_or(0);
        let areas = body.split_evenly((rows.max(1), self.columns.len().max(1)));
        for (c, column) in self.columns.iter().enumerate() {
            let (lo, hi) = x_range(column);
            for (r, panel) in column.iter().enumerate() {
                self.draw_panel(panel, &areas[r * self.columns.len() + c], lo, hi)?;
            }
        }
        if self.text {
            draw_line_legend(
                &legend,
                &[
                    ("mean", LineKind::Solid),
                    ("median", LineKind::Dashed),
                    ("quartiles", LineKind::Dotted),
                ],
                "histogram (bars) and Gaussian kernel density (curve) over images",
            )?;
        }
        Ok(())
    }
}

/// How a vertical marker line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Mean.
    Solid,
    /// Median.
    Dashed,
    /// Quartiles.
    Dotted,
}

impl Figure2b {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
        lo: f64,
        hi: f64,
    ) -> Result<(), String> {
        let color = method_color(panel.color_index);
        let described = Describe::of(&panel.values);
        let hist = histogram_density(&panel.values, lo, hi, self.bins);
        let grid = linspace(lo, hi, DENSITY_POINTS);
        let density = described
            .map(|d| gaussian_kde(&panel.values, silverman_bandwidth(&d), &grid))
            .unwrap_or_default();
        let top = hist.iter().chain(&density).fold(0.0f64, |m, &v| m.max(v)) * 1.1;
        let top = if top > 0.0 { top } else { 1.0 };

        let mut builder = ChartBuilder::on(area);
        builder.margin(6).margin_right(16);
        if self.text {
            let caption = match described {
                Some(d) if d.non_finite > 0 => {
                    format!(
                        "{}, {}: mean F = {:.3} (n = {}, {} undefined)",
                        panel.method, panel.fill, d.mean, d.n, d.non_finite
                    )
                }
                Some(d) => format!(
                    "{}, {}: mean F = {:.3} (n = {})",
                    panel.method, panel.fill, d.mean, d.n
                ),
                None => format!("{}, {}: no defined F", panel.method, panel.fill),
            };
            builder
                .caption(caption, (FAMILY, 14))
                .x_label_area_size(28)
                .y_label_area_size(48);
        }
        let mut chart = builder
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(plot_err)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.06))
            .y_labels(3);
        if self.text {
            mesh.label_style((FAMILY, 11))
                .y_label_formatter(&|v| num(*v, 1))
                .x_label_formatter(&|v| num(*v, 2));
        }
        mesh.draw().map_err(plot_err)?;

        let width = (hi - lo) / self.bins as f64;
        let bars = hist.iter().enumerate().map(|(b, &d)| {
            let x0 = lo + b as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, d)], color.mix(0.3).filled())
        });
        chart.draw_series(bars).map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                grid.iter().copied().zip(density),
                color.stroke_width(2),
            ))
            .map_err(plot_err)?;
        if let Some(d) = described {
            let marks = [
                (d.mean, LineKind::Solid),
                (d.median, LineKind::Dashed),
                (d.q1, LineKind::Dotted),
                (d.q3, LineKind::Dotted),
            ];
            for (x, kind) in marks {
                let points = [(x, 0.0), (x, top)];
                let style = BLACK.stroke_width(if kind == LineKind::Solid { 2 } else { 1 });
                match kind {
                    LineKind::Solid => chart
                        .draw_series(LineSeries::new(points, style))
                        .map(|_| ()),
                    LineKind::Dashed => chart
                        .draw_series(DashedLineSeries::new(points, 6, 4, style))
                        .map(|_| ()),
                    LineKind::Dotted => chart
                        .draw_series(DashedLineSeries::new(points, 2, 3, style))
                        .map(|_| ()),
                }
                .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}

/// The x range shared by a column: every finite F in it, padded by 2%, never empty.
fn x_range(column: &[Panel]) -> (f64, f64) {
    let finite = column
        .iter()
        .flat_map(|p| p.values.iter())
        .map(|&v| f64::from(v))
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.02).max(1e-3);
    (lo - pad, hi + pad)
}
