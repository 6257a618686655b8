//! From the loaded artifacts to the figures' data.

use sal_config::Config;

use super::figure1::{Example, Figure1};
use super::figure2a::{self, Figure2a};
use super::figure2b::{self, Figure2b};
use crate::aopc::Band;
use crate::describe::Describe;
use crate::error::Result;
use crate::examples::Picks;
use crate::load::dataset::DatasetInfo;
use crate::load::metrics::{Metrics, Order};
use crate::load::saliency::Saliency;
use crate::paper::PaperValues;

/// Figure 1 from the chosen images.
pub fn figure1(
    dataset: &DatasetInfo,
    saliency: &Saliency,
    picks: &Picks,
    paper: &PaperValues,
    config: &Config,
    text: bool,
) -> Result<Figure1> {
    let examples = picks
        .picks
        .iter()
        .map(|p| {
            let maps = saliency
                .methods
                .iter()
                .map(|m| {
                    saliency
                        .map(m, p.row)
                        .map(<[f32]>::to_vec)
                        .unwrap_or_default()
                })
                .collect();
            Ok(Example {
                class_name: p.class_name.clone(),
                image_index: p.image_index,
                confidence: p.confidence,
                image: dataset.test_image_rgb(p.image_index as usize)?,
                maps,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Figure1 {
        methods: saliency
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect(),
        examples,
        scale: config.report.figure1_scale,
        text,
    })
}

/// Figure 2a from the AOPC bands.
pub fn figure_2a(metrics: &Metrics, paper: &PaperValues, text: bool) -> Figure2a {
    let mut panels = Vec::new();
    for order in Order::ALL {
        for fill in &metrics.fills {
            let methods = metrics
                .methods
                .iter()
                .filter_map(|m| metrics.adjusted(m, order, fill))
                .collect();
            let random = metrics.random_adjusted(fill).unwrap_or_else(|| Band {
                centre: vec![],
                lo: vec![],
                hi: vec![],
            });
            panels.push(figure2a::Panel {
                order,
                fill: format!("{fill} fill"),
                methods,
                random,
            });
        }
    }
    Figure2a {
        methods: metrics
            .methods
            .iter()
            .map(|m| paper.method_label(m))
            .collect(),
        panels,
        columns: metrics.fills.len(),
        text,
    }
}

/// Figure 2b from the per-image faithfulness.
pub fn figure_2b(metrics: &Metrics, paper: &PaperValues, config: &Config, text: bool) -> Figure2b {
    let columns = metrics
        .fills
        .iter()
        .map(|fill| {
            let mut panels: Vec<(f64, figure2b::Panel)> = metrics
                .methods
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let values = metrics
                        .faithfulness
                        .get(&(m.clone(), fill.clone()))
                        .cloned()
                        .unwrap_or_default();
                    let mean = Describe::of(&values).map_or(f64::NEG_INFINITY, |d| d.mean);
                    (
                        mean,
                        figure2b::Panel {
                            method: paper.method_label(m),
                            color_index: i,
                            fill: format!("{fill} fill"),
                            values,
                        },
                    )
                })
                .collect();
            // Highest mean first; a stable sort keeps method order among equal means.
            panels.sort_by(|a, b| b.0.total_cmp(&a.0));
            panels.into_iter().map(|(_, p)| p).collect()
        })
        .collect();
    Figure2b {
        columns,
        bins: config.report.histogram_bins,
        text,
    }
}
