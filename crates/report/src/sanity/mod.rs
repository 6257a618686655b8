//! The report's part on the `sanity` stage (model and data randomisation checks): what it
//! loads ([`load`]), its two figures and its section. Self-contained, so the report assembly
//! calls it once ([`add`]).

pub mod figure_maps;
pub mod figure_similarity;
pub mod load;
pub mod section;

use crate::error::Result;
use crate::figures::{render, Rendered};
use crate::render::Document;

pub use load::Sanity;

/// Appends the sanity section to `doc` and its rendered figures to `figures`.
pub fn add(
    doc: &mut Document,
    figures: &mut Vec<Rendered>,
    sanity: &Sanity,
    method_labels: &[String],
    text: bool,
) -> Result<()> {
    figures.push(render(&section::similarity_figure(
        sanity,
        method_labels,
        text,
    ))?);
    figures.push(render(&section::map_grid(sanity, method_labels, text))?);
    section::write(doc, sanity, method_labels);
    Ok(())
}
