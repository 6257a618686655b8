//! The report's figures, each drawn once for PNG and once for SVG from the same code.

pub mod build;
pub mod colormap;
pub mod figure1;
pub mod figure2a;
pub mod figure2b;
pub mod font;
pub mod legend;
pub mod newer;
pub mod render;

pub use render::{render, Figure, Rendered};

use plotters::style::RGBColor;

/// The colour of the `i`-th method (matplotlib's `tab10` cycle), the same in every figure.
pub fn method_color(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[i % TAB10.len()];
    RGBColor(r, g, b)
}
