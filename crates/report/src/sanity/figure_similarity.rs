//! The Adebayo-style figure: similarity to the trained model's maps against the number of
//! layers randomised (cascading), one panel per measure, one line (with its bootstrap band)
//! per method.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::figures::font::FAMILY;
use crate::figures::method_color;
use crate::figures::render::{plot_err, Figure};

/// The file stem.
pub const NAME: &str = "sanity_cascade";
const PANEL: (u32, u32) = (520, 360);
const LEGEND: u32 = 44;

/// One line: mean and band per x position (x = 0 is the trained model, similarity 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Means.
    pub mean: Vec<f64>,
    /// Lower ends.
    pub lo: Vec<f64>,
    /// Upper ends.
    pub hi: Vec<f64>,
}

/// One panel per measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The measure's label.
    pub title: String,
    /// One line per method.
    pub lines: Vec<Line>,
}

/// The figure.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityFigure {
    /// Method display names.
    pub methods: Vec<String>,
    /// X tick labels: `trained`, then the layer randomised last at each step.
    pub ticks: Vec<String>,
    /// Panels, row-major, 2 columns.
    pub panels: Vec<Panel>,
    /// Whether text is drawn.
    pub text: bool,
}

impl Figure for SimilarityFigure {
    fn name(&self) -> &str {
        NAME
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(2) as u32;
        (PANEL.0 * 2, PANEL.1 * rows + LEGEND)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (_, h) = self.size();
        let (body, legend) = root.split_vertically(h - LEGEND);
        let rows = self.panels.len().div_ceil(2);
        let areas = body.split_evenly((rows, 2));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            self.draw_panel(panel, area)?;
        }
        if self.text {
            draw_legend(&legend, &self.methods)?;
        }
        Ok(())
    }
}

/// A coloured swatch and name per method (no random-baseline entry: this figure has none).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    methods: &[String],
) -> Result<(), String> {
    const Y: i32 = LEGEND as i32 / 2;
    let style = (FAMILY, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut x = 16;
    for (i, name) in methods.iter().enumerate() {
        area.draw(&Rectangle::new(
            [(x, Y - 2), (x + 24, Y + 2)],
            method_color(i).filled(),
        ))
        .map_err(plot_err)?;
        area.draw(&Text::new(name.clone(), (x + 30, Y), style.clone()))
            .map_err(plot_err)?;
        let width = area.estimate_text_size(name, &style).map_err(plot_err)?.0 as i32;
        x += 30 + width + 24;
    }
    Ok(())
}

impl SimilarityFigure {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let last = self.ticks.len().saturating_sub(1).max(1) as f64;
        let lo = panel
            .lines
            .iter()
            .flat_map(|l| l.lo.iter())
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::min)
            .max(-1.0);
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(24);
        if self.text {
            builder
                .caption(panel.title.clone(), (FAMILY, 16))
                .x_label_area_size(48)
                .y_label_area_size(56);
        }
        let mut chart = builder
            .build_cartesian_2d(-0.2..last + 0.2, (lo - 0.05)..1.05)
            .map_err(plot_err)?;
        let ticks = self.ticks.clone();
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .x_labels(self.ticks.len());
        let formatter = move |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                ticks.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        if self.text {
            mesh.x_desc("randomised from the top down to layer")
                .y_desc("similarity to the trained maps")
                .label_style((FAMILY, 11))
                .axis_desc_style((FAMILY, 13))
                .x_label_formatter(&formatter)
                .y_label_formatter(&|v| format!("{v:.1}"));
        }
        mesh.draw().map_err(plot_err)?;
        for (i, line) in panel.lines.iter().enumerate() {
            let color = method_color(i).mix(0.18);
            let upper = line.hi.iter().enumerate().map(|(x, &v)| (x as f64, v));
            let lower = line
                .lo
                .iter()
                .enumerate()
                .rev()
                .map(|(x, &v)| (x as f64, v));
            let points: Vec<(f64, f64)> = upper.chain(lower).filter(|p| p.1.is_finite()).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(points, color.filled())))
                .map_err(plot_err)?;
        }
        for (i, line) in panel.lines.iter().enumerate() {
            let color = method_color(i);
            let points: Vec<(f64, f64)> = line
                .mean
                .iter()
                .enumerate()
                .map(|(x, &v)| (x as f64, v))
                .filter(|p| p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(plot_err)?;
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
