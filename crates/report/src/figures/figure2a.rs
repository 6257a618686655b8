//! Figure 2a: AOPC against L minus the random baseline, per method, MoRF/LeRF x fill.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::FAMILY;
use super::legend::draw_method_legend;
use super::method_color;
use super::render::{plot_err, Figure};
use crate::aopc::Band;
use crate::load::metrics::Order;
use crate::render::num;

const PANEL: (u32, u32) = (520, 380);
const LEGEND: u32 = 44;

/// One panel: an order and a fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The pixel order (the row).
    pub order: Order,
    /// The fill's display name (the column).
    pub fill: String,
    /// Per method, mean AOPC_L minus the random baseline's mean AOPC_L, with its band.
    pub methods: Vec<Band>,
    /// The random baseline's band minus its mean (around 0).
    pub random: Band,
}

/// Figure 2a: rows MoRF, LeRF; columns fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure2a {
    /// Method display names, in the order of `Panel::methods`.
    pub methods: Vec<String>,
    /// Panels, row-major (order, then fill).
    pub panels: Vec<Panel>,
    /// Number of columns (fills).
    pub columns: usize,
    /// Whether text (titles, axes, legend) is drawn.
    pub text: bool,
}

impl Figure for Figure2a {
    fn name(&self) -> &str {
        "figure2a"
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        (PANEL.0 * self.columns as u32, PANEL.1 * rows + LEGEND)
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
            draw_method_legend(&legend, &self.methods)?;
        }
        Ok(())
    }
}

impl Figure2a {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let steps = panel.random.len().saturating_sub(1).max(1) as f64;
        let (lo, hi) = y_range(panel);
        let mut builder = ChartBuilder::on(area);
        builder.margin(10).margin_right(24);
        if self.text {
            let better = match panel.order {
                Order::Morf => "higher is better",
                Order::Lerf => "lower is better",
            };
            builder
                .caption(
                    format!("{}, {} ({better})", panel.order.label(), panel.fill),
                    (FAMILY, 16),
                )
                .x_label_area_size(40)
                .y_label_area_size(64);
        }
        let mut chart = builder
            .build_cartesian_2d(0.0..steps, lo..hi)
            .map_err(plot_err)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08));
        if self.text {
            mesh.x_desc("L (pixels perturbed)")
                .y_desc(format!("AOPC_{} minus random", panel.order.label()))
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 13))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| num(*v, 3));
        }
        mesh.draw().map_err(plot_err)?;

        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(std::iter::once(band_polygon(&panel.random, grey.mix(0.3))))
            .map_err(plot_err)?;
        let zero = (0..panel.random.len()).map(|l| (l as f64, panel.random.centre[l]));
        chart
            .draw_series(DashedLineSeries::new(zero, 2, 4, grey.stroke_width(2)))
            .map_err(plot_err)?;
        // Every band first, then every line, so no band hides a line.
        for (i, band) in panel.methods.iter().enumerate() {
            let color = method_color(i);
            chart
                .draw_series(std::iter::once(band_polygon(band, color.mix(0.18))))
                .map_err(plot_err)?;
        }
        for (i, band) in panel.methods.iter().enumerate() {
            let color = method_color(i);
            let line = band.centre.iter().enumerate().map(|(l, &v)| (l as f64, v));
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

/// The y range of a panel: every band and 0, with 5% padding.
fn y_range(panel: &Panel) -> (f64, f64) {
    let values = panel
        .methods
        .iter()
        .chain(std::iter::once(&panel.random))
        .flat_map(|b| b.lo.iter().chain(&b.hi));
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), &v| {
        if v.is_finite() {
            (lo.min(v), hi.max(v))
        } else {
            (lo, hi)
        }
    });
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// The filled region between a band's lower and upper bounds.
fn band_polygon(band: &Band, color: RGBAColor) -> Polygon<(f64, f64)> {
    let upper = band.hi.iter().enumerate().map(|(l, &v)| (l as f64, v));
    let lower = band
        .lo
        .iter()
        .enumerate()
        .rev()
        .map(|(l, &v)| (l as f64, v));
    Polygon::new(upper.chain(lower).collect::<Vec<_>>(), color.filled())
}
