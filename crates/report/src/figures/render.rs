//! Drawing one figure on both backends: a PNG raster and an SVG document.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{ReportError, Result};

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// The file stem, e.g. `figure2a`.
    fn name(&self) -> &str;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root` (already cleared to white).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

/// A figure rendered to PNG and SVG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The file stem.
    pub name: String,
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// PNG file content (8-bit RGB).
    pub png: Vec<u8>,
    /// SVG file content.
    pub svg: String,
}

/// Turns a plotters drawing error into a message.
pub fn plot_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// Draws `figure` on a bitmap and on an SVG document.
pub fn render(figure: &impl Figure) -> Result<Rendered> {
    let (w, h) = figure.size();
    let err = |message: String| ReportError::Plot {
        figure: figure.name().to_owned(),
        message,
    };
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(plot_err(e)))?;
        figure.draw(&root).map_err(err)?;
        root.present().map_err(|e| err(plot_err(e)))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(plot_err(e)))?;
        figure.draw(&root).map_err(err)?;
        root.present().map_err(|e| err(plot_err(e)))?;
    }
    let png = encode_png(figure.name(), &rgb, w, h)?;
    Ok(Rendered {
        name: figure.name().to_owned(),
        size: (w, h),
        png,
        svg,
    })
}

/// Encodes an 8-bit RGB raster as PNG (deterministic: fixed compression, no time chunk).
///
/// # Shapes
/// `rgb`: `[h, w, 3]` u8.
pub fn encode_png(name: &str, rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| ReportError::Png {
        name: name.to_owned(),
        message: e.to_string(),
    };
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}
