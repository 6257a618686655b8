//! Figure 1: the saliency maps of every method for one correctly classified image per class.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colormap::{diverging, map_to_rgb, upscale};
use super::font::FAMILY;
use super::render::{plot_err, Figure};

/// Side of a CIFAR-10 image and of a saliency map.
const SIDE: usize = 32;
/// Space between panels, in pixels.
const GAP: u32 = 8;

/// One row of Figure 1: a test image and its maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Class name of the row.
    pub class_name: String,
    /// Index of the image in the test set.
    pub image_index: u32,
    /// Softmax probability of the (correctly) predicted class.
    pub confidence: f32,
    /// The image as `[32, 32, 3]` u8.
    pub image: Vec<u8>,
    /// One `[32, 32]` map per method, in column order.
    pub maps: Vec<Vec<f32>>,
}

/// Figure 1: rows are classes, the first column the image, the others the methods' maps,
/// each normalised by its maximum absolute value (red positive, blue negative).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure1 {
    /// Column headers after "Image": the methods' display names.
    pub methods: Vec<String>,
    /// One row per class.
    pub examples: Vec<Example>,
    /// Pixels per image pixel.
    pub scale: u32,
    /// Whether text (headers, row labels, colour-bar ticks) is drawn.
    pub text: bool,
}

impl Figure1 {
    fn panel(&self) -> u32 {
        SIDE as u32 * self.scale
    }

    fn left(&self) -> u32 {
        if self.text {
            130
        } else {
            GAP
        }
    }

    fn top(&self) -> u32 {
        if self.text {
            34
        } else {
            GAP
        }
    }

    fn bottom(&self) -> u32 {
        if self.text {
            56
        } else {
            30
        }
    }
}

impl Figure for Figure1 {
    fn name(&self) -> &str {
        "figure1"
    }

    fn size(&self) -> (u32, u32) {
        let cols = self.methods.len() as u32 + 1;
        let rows = self.examples.len() as u32;
        (
            self.left() + cols * (self.panel() + GAP),
            self.top() + rows * (self.panel() + GAP) + self.bottom(),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.panel();
        let factor = self.scale as usize;
        let x_of = |col: u32| (self.left() + col * (p + GAP)) as i32;
        let y_of = |row: u32| (self.top() + row * (p + GAP)) as i32;
        for (r, example) in self.examples.iter().enumerate() {
            let y = y_of(r as u32);
            let image = upscale(&example.image, SIDE, SIDE, factor);
            blit(root, (x_of(0), y), p, image)?;
            for (c, map) in example.maps.iter().enumerate() {
                let rgb = upscale(&map_to_rgb(map), SIDE, SIDE, factor);
                blit(root, (x_of(c as u32 + 1), y), p, rgb)?;
            }
            if self.text {
                let style = (FAMILY, 15)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                let small = (FAMILY, 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                let x = x_of(0) - 10;
                let mid = y + p as i32 / 2;
                root.draw(&Text::new(example.class_name.clone(), (x, mid - 16), style))
                    .map_err(plot_err)?;
                root.draw(&Text::new(
                    format!("test #{}", example.image_index),
                    (x, mid + 2),
                    small.clone(),
                ))
                .map_err(plot_err)?;
                root.draw(&Text::new(
                    format!("p = {:.3}", example.confidence),
                    (x, mid + 18),
                    small,
                ))
                .map_err(plot_err)?;
            }
        }
        if self.text {
            let header = (FAMILY, 14)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            let names = std::iter::once("Image".to_owned()).chain(self.methods.iter().cloned());
            for (c, name) in names.enumerate() {
                let x = x_of(c as u32) + p as i32 / 2;
                root.draw(&Text::new(name, (x, self.top() as i32 - 8), header.clone()))
                    .map_err(plot_err)?;
            }
        }
        self.draw_colorbar(root, x_of(1), y_of(self.examples.len() as u32))
    }
}

impl Figure1 {
    /// The colour scale under the map columns: -1 (blue) .. 0 (white) .. +1 (red), in units of
    /// each map's maximum absolute value.
    fn draw_colorbar<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: i32,
        y: i32,
    ) -> Result<(), String> {
        let width = (2 * self.panel() + GAP) as usize;
        let height = 12usize;
        let row: Vec<u8> = (0..width)
            .flat_map(|i| diverging(2.0 * i as f32 / (width - 1) as f32 - 1.0))
            .collect();
        let rgb: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
        let element = BitMapElement::with_owned_buffer((x, y), (width as u32, height as u32), rgb)
            .ok_or_else(|| "colour bar buffer has the wrong size".to_owned())?;
        root.draw(&element).map_err(plot_err)?;
        root.draw(&Rectangle::new(
            [(x, y), (x + width as i32, y + height as i32)],
            BLACK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        if self.text {
            let tick = (FAMILY, 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            for (frac, label) in [(0.0, "-max |R|"), (0.5, "0"), (1.0, "+max |R|")] {
                let tx = x + (frac * (width - 1) as f64) as i32;
                root.draw(&Text::new(label, (tx, y + height as i32 + 4), tick.clone()))
                    .map_err(plot_err)?;
            }
            let note = (FAMILY, 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            let text = "relevance / max |relevance| of each map (red positive, blue negative)";
            root.draw(&Text::new(
                text,
                (x + width as i32 + 16, y + height as i32 / 2),
                note,
            ))
            .map_err(plot_err)?;
        }
        Ok(())
    }
}

fn blit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    side: u32,
    rgb: Vec<u8>,
) -> Result<(), String> {
    let element = BitMapElement::with_owned_buffer(at, (side, side), rgb)
        .ok_or_else(|| "panel buffer has the wrong size".to_owned())?;
    root.draw(&element).map_err(plot_err)
}
