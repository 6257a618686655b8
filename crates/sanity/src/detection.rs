//! The metrics under randomisation: does a metric notice that a map no longer depends on the
//! model?
//!
//! For each image of the subset, the maps of the trained model and of each randomised model
//! (of every method) are scored with the `[metrics]` protocol (AOPC MoRF / LeRF at the curves'
//! L, faithfulness, every fill), always with the **trained** model as the model whose output
//! drops: the question is "does this map point at what the trained model uses?". Per metric,
//! fill and method, the stage reports the share of images on which the trained model's map
//! scores better (higher F, higher AOPC MoRF, lower AOPC LeRF; a tie counts one half; an
//! image with an undefined F is left out), with its bootstrap interval over images. A metric
//! whose share's interval holds 0.5 cannot tell the maps apart: it fails this sanity check.
//!
//! Only the curves of the maps are used: the random baseline of the protocol is computed with
//! a single ordering (it is not reported) to save forward passes.

use indicatif::ProgressBar;
use sal_config::MetricsConfig;
use sal_metrics::{aopc, Engine, ImageInput, Protocol};
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::Weights;
use sal_perturbation::Normalisation;
use sal_psychometrics::Bootstrap;
use serde::Serialize;

use crate::error::Result;
use crate::maps::Images;
use crate::summary::mean_intervals;

/// The metrics compared, with whether higher is better.
pub const METRICS: [(&str, bool); 3] = [
    ("aopc_morf", true),
    ("aopc_lerf", false),
    ("faithfulness", true),
];

/// One row of the detection table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The randomised model (`cascade/<layer>` of the last cascade step, or `random_labels`).
    pub model: String,
    /// `aopc_morf`, `aopc_lerf` or `faithfulness`.
    pub metric: String,
    /// The fill.
    pub fill: String,
    /// The method.
    pub method: String,
    /// Share of images on which the trained model's map scores better.
    pub share: f64,
    /// Its bootstrap interval.
    pub ci: [f64; 2],
    /// Images compared (a NaN faithfulness leaves an image out).
    pub n: usize,
}

/// The maps of one model for the subset's images.
#[derive(Debug, Clone)]
pub struct ModelMaps {
    /// The model's name.
    pub name: String,
    /// One f32 `[N, 32, 32]` per method (the stage's N images; `positions` selects the subset).
    pub maps: Vec<Vec<f32>>,
}

/// Scores every model's maps of the images at `positions` and compares each randomised model
/// (`models[1..]`) with the trained one (`models[0]`).
pub fn detect(
    trained: &Weights,
    config: &MetricsConfig,
    methods: &[String],
    images: &Images,
    positions: &[usize],
    models: &[ModelMaps],
    bootstrap: &Bootstrap,
    level: f64,
    bar: &ProgressBar,
) -> Result<Vec<Detection>> {
    let config = MetricsConfig {
        random_orderings: 1,
        store_random_curves: false,
        ..config.clone()
    };
    let variants: Vec<String> = models
        .iter()
        .flat_map(|m| {
            methods
                .iter()
                .map(move |method| format!("{}/{method}", m.name))
        })
        .collect();
    let normalizer = images.normalizer;
    let protocol = Protocol::new(
        &config,
        variants,
        Normalisation::from_fn(|c, v| normalizer.value(c, v)),
    )?;
    let fills: Vec<String> = protocol.fills.iter().map(|f| f.name().to_owned()).collect();
    let (f_count, m_count, steps) = (fills.len(), methods.len(), protocol.steps);
    let mut net = sal_model::FastNet::new(trained)?;
    // The metrics stage's incremental forward (bit-for-bit the full pass's logits) when
    // `[metrics] incremental` is on: the same numbers for about a third of the work.
    let incremental = config.incremental.then(|| net.clone());
    let mut engine = Engine::new(&mut net, &protocol);
    if let Some(net) = &incremental {
        engine = engine.with_incremental(net);
    }
    bar.set_length((positions.len() * protocol.passes_per_image()) as u64);
    // scores[image][(variant, metric, fill)]
    let mut scores: Vec<Vec<f64>> = Vec::with_capacity(positions.len());
    for &pos in positions {
        let maps: Vec<&[f32]> = models
            .iter()
            .flat_map(|m| m.maps.iter().map(|v| &v[pos * PIXELS..(pos + 1) * PIXELS]))
            .collect();
        let input = ImageInput {
            index: images.index[pos],
            predicted: u8::try_from(images.classes[pos]).expect("class fits u8"),
            pixels: &images.pixels[pos * IMAGE_VALUES..(pos + 1) * IMAGE_VALUES],
            maps: &maps,
        };
        let result = engine.image(&input, &mut |n| bar.inc(n))?;
        let width = steps + 1;
        let mut row = Vec::with_capacity(maps.len() * METRICS.len() * f_count);
        for v in 0..maps.len() {
            for (metric, _) in METRICS {
                for f in 0..f_count {
                    let value = match metric {
                        "faithfulness" => f64::from(result.faithfulness[v * f_count + f]),
                        _ => {
                            let o = usize::from(metric == "aopc_lerf");
                            let c = (v * 2 + o) * f_count + f;
                            aopc(&result.drops[c * width..(c + 1) * width], steps)?
                        }
                    };
                    row.push(value);
                }
            }
        }
        scores.push(row);
    }
    let per_variant = METRICS.len() * f_count;
    let at = |row: &[f64], model: usize, method: usize, metric: usize, fill: usize| {
        row[(model * m_count + method) * per_variant + metric * f_count + fill]
    };
    let mut out = Vec::new();
    for (model_pos, model) in models.iter().enumerate().skip(1) {
        for (k, (metric, higher)) in METRICS.into_iter().enumerate() {
            for (f, fill) in fills.iter().enumerate() {
                for (m, method) in methods.iter().enumerate() {
                    let wins: Vec<f64> = scores
                        .iter()
                        .map(|row| {
                            let (t, r) = (at(row, 0, m, k, f), at(row, model_pos, m, k, f));
                            win(t, r, higher)
                        })
                        .collect();
                    let n = wins.iter().filter(|v| !v.is_nan()).count();
                    let [share, lo, hi] =
                        mean_intervals(&wins, wins.len(), 1, bootstrap, level)?[0];
                    out.push(Detection {
                        model: model.name.clone(),
                        metric: metric.to_owned(),
                        fill: fill.clone(),
                        method: method.clone(),
                        share,
                        ci: [lo, hi],
                        n,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// 1 when the trained map's score `t` beats the randomised one's `r`, 0.5 on a tie, 0
/// otherwise; NaN when either is NaN.
pub fn win(t: f64, r: f64, higher_is_better: bool) -> f64 {
    if t.is_nan() || r.is_nan() {
        return f64::NAN;
    }
    let (better, worse) = if higher_is_better {
        (t > r, t < r)
    } else {
        (t < r, t > r)
    };
    if better {
        1.0
    } else if worse {
        0.0
    } else {
        0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wins_follow_the_direction_and_ties_count_half() {
        assert_eq!(win(0.3, 0.1, true), 1.0);
        assert_eq!(win(0.3, 0.1, false), 0.0);
        assert_eq!(win(0.2, 0.2, true), 0.5);
        assert!(win(f64::NAN, 0.2, true).is_nan());
    }
}
