//! Legends drawn in a strip under a figure's panels.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure2b::LineKind;
use super::font::FAMILY;
use super::method_color;
use super::render::plot_err;

const Y: i32 = 22;

fn text_style() -> TextStyle<'static> {
    (FAMILY, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// Draws `text` at `x` and returns the x after it (plus a gap).
fn label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    x: i32,
) -> Result<i32, String> {
    let style = text_style();
    area.draw(&Text::new(text.to_owned(), (x, Y), style.clone()))
        .map_err(plot_err)?;
    let width = area.estimate_text_size(text, &style).map_err(plot_err)?.0 as i32;
    Ok(x + width + 24)
}

/// A coloured swatch and name per method; returns the x after the last.
pub fn draw_methods_only_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    methods: &[String],
) -> Result<i32, String> {
    let mut x = 16;
    for (i, name) in methods.iter().enumerate() {
        area.draw(&Rectangle::new(
            [(x, Y - 2), (x + 24, Y + 2)],
            method_color(i).filled(),
        ))
        .map_err(plot_err)?;
        x = label(area, name, x + 30)?;
    }
    Ok(x)
}

/// A coloured swatch and name per method, then the random baseline's line and band.
pub fn draw_method_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    methods: &[String],
) -> Result<(), String> {
    let x = draw_methods_only_legend(area, methods)?;
    area.draw(&Rectangle::new(
        [(x, Y - 7), (x + 24, Y + 7)],
        RGBColor(120, 120, 120).mix(0.3).filled(),
    ))
    .map_err(plot_err)?;
    label(
        area,
        "random: mean (dashed), 2.5-97.5% of orderings",
        x + 30,
    )?;
    Ok(())
}

/// A sample of each marker line with its meaning, then a note.
pub fn draw_line_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[(&str, LineKind)],
    note: &str,
) -> Result<(), String> {
    let mut x = 16;
    for &(name, kind) in lines {
        let points = [(x, Y), (x + 28, Y)];
        match kind {
            LineKind::Solid => area.draw(&PathElement::new(points, BLACK.stroke_width(2))),
            LineKind::Dashed => {
                area.draw(&DashedPathElement::new(points, 6, 4, BLACK.stroke_width(1)))
            }
            LineKind::Dotted => {
                area.draw(&DashedPathElement::new(points, 2, 3, BLACK.stroke_width(1)))
            }
        }
        .map_err(plot_err)?;
        x = label(area, name, x + 34)?;
    }
    label(area, note, x)?;
    Ok(())
}
