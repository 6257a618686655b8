//! The map grid: for each example image and method, its maps from the trained model (first
//! column) through every randomisation step (cascading, then random labels).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::figures::colormap::{map_to_rgb, upscale};
use crate::figures::font::FAMILY;
use crate::figures::render::{plot_err, Figure};

/// The file stem.
pub const NAME: &str = "sanity_maps";
const SIDE: usize = 32;
const SCALE: u32 = 2;
const GAP: u32 = 4;
const LEFT: u32 = 150;
const TOP: u32 = 40;

/// One row: a method's maps of one image across the columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `<method>, test #<index>`.
    pub label: String,
    /// One `[32, 32]` map per column.
    pub maps: Vec<Vec<f32>>,
}

/// The grid.
#[derive(Debug, Clone, PartialEq)]
pub struct MapGrid {
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Whether text is drawn.
    pub text: bool,
}

impl MapGrid {
    fn panel(&self) -> u32 {
        SIDE as u32 * SCALE
    }
}

impl Figure for MapGrid {
    fn name(&self) -> &str {
        NAME
    }

    fn size(&self) -> (u32, u32) {
        let p = self.panel() + GAP;
        (
            LEFT + p * self.columns.len() as u32 + 10,
            TOP + p * self.rows.len() as u32 + 10,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.panel();
        for (r, row) in self.rows.iter().enumerate() {
            let y = (TOP + r as u32 * (p + GAP)) as i32;
            for (c, map) in row.maps.iter().enumerate() {
                let x = (LEFT + c as u32 * (p + GAP)) as i32;
                let rgb = upscale(&map_to_rgb(map), SIDE, SIDE, SCALE as usize);
                let element = BitMapElement::with_owned_buffer((x, y), (p, p), rgb)
                    .ok_or_else(|| "map buffer has the wrong size".to_owned())?;
                root.draw(&element).map_err(plot_err)?;
            }
            if self.text {
                let style = (FAMILY, 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                root.draw(&Text::new(
                    row.label.clone(),
                    (LEFT as i32 - 8, y + p as i32 / 2),
                    style,
                ))
                .map_err(plot_err)?;
            }
        }
        if self.text {
            let style = (FAMILY, 11)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            for (c, name) in self.columns.iter().enumerate() {
                let x = (LEFT + c as u32 * (p + GAP) + p / 2) as i32;
                root.draw(&Text::new(name.clone(), (x, TOP as i32 - 6), style.clone()))
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}
