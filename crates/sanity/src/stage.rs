//! The `sanity` stage: dataset + model + saliency + metrics -> `sanity.safetensors`,
//! `sanity.json`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_attribution::registry;
use sal_config::Config;
use sal_model::arch::PIXELS;
use sal_model::Weights;
use sal_psychometrics::Bootstrap;

use crate::detection::{self, Detection, ModelMaps};
use crate::error::{Result, SanityError};
use crate::inputs::{Inputs, Loaded};
use crate::maps::{self, Images};
use crate::output::{self, Results};
use crate::random_labels::{self, Origin};
use crate::randomise;
use crate::similarity::{Prepared, MEASURES};
use crate::summary::mean_intervals;

/// The name of the data-randomisation step.
pub const RANDOM_LABELS_STEP: &str = "random_labels";
/// The method whose maps do not read the model: the built-in control.
pub const EDGE_METHOD: &str = "edge";
/// The stream of the random-map control's generator (one stream per image above it).
const RANDOM_MAP_STREAM: u64 = 1 << 32;

/// How the stage reports progress.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Draw progress bars.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { progress: true }
    }
}

/// What the stage wrote and what each part cost (wall seconds, logged, never written into an
/// artifact).
#[derive(Debug, Clone)]
pub struct Outputs {
    /// `sanity.safetensors`.
    pub path: PathBuf,
    /// `sanity.json`.
    pub json: PathBuf,
    /// `(part, seconds)`: `random_labels`, `maps`, `similarity`, `detection`.
    pub seconds: Vec<(&'static str, f64)>,
    /// Whether the random-label model was reused or trained (`None`: no data randomisation).
    pub random_labels: Option<Origin>,
}

/// Runs the stage.
pub fn run(config: &Config, inputs: &Inputs, out_dir: &Path, options: &Options) -> Result<Outputs> {
    let s = &config.sanity;
    s.validate().map_err(SanityError::Config)?;
    let loaded = Loaded::read(inputs, s)?;
    let methods = loaded.attribute.methods.clone();
    let infos = registry::check_names(&methods)?;
    let training_images = infos
        .iter()
        .any(|m| m.needs_training_images)
        .then_some(loaded.dataset.train.images.as_slice());
    let images = &loaded.images;
    let n = images.len();
    let mut seconds = Vec::new();
    fs_err::create_dir_all(out_dir)?;

    let started = Instant::now();
    // Without a cache folder of its own, the model is trained in the output folder (where an
    // interrupted run's checkpoint or model is found again) and removed at the end.
    let random_labels_dir = inputs.random_labels.as_deref().unwrap_or(out_dir);
    let random_labels = if s.random_labels_images > 0 {
        let data_key = loaded.keys[0].1.clone();
        Some(random_labels::obtain(
            &loaded.train,
            s,
            &loaded.dataset,
            &data_key,
            random_labels_dir,
            options.progress,
        )?)
    } else {
        None
    };
    seconds.push(("random_labels", started.elapsed().as_secs_f64()));

    let mut steps: Vec<(String, Option<randomise::Step>)> =
        randomise::steps(&s.layers, s.cascade, s.independent)
            .into_iter()
            .map(|step| (step.name.clone(), Some(step)))
            .collect();
    if random_labels.is_some() {
        steps.push((RANDOM_LABELS_STEP.to_owned(), None));
    }
    tracing::info!(
        "sanity: {n} images, {} methods, {} randomised models",
        methods.len(),
        steps.len()
    );

    let started = Instant::now();
    let bar = progress_bar(
        "maps",
        ((steps.len() + 1) * methods.len() * n) as u64,
        options.progress,
    );
    let compute = |weights: &Weights| {
        maps::compute(weights, images, &loaded.attribute, training_images, &bar)
    };
    let trained_maps = compute(&loaded.weights)?;
    let trained: Vec<Vec<Prepared>> = trained_maps
        .iter()
        .map(|m| m.chunks_exact(PIXELS).map(Prepared::new).collect())
        .collect::<Result<_>>()?;
    let examples = s.example_images.min(n);
    let mut results = Results::new(&steps, &methods, n, examples, &trained_maps);
    let mut similarity_seconds = 0.0;
    let mut detection_models = vec![ModelMaps {
        name: "trained".to_owned(),
        maps: trained_maps.clone(),
    }];
    let last_cascade = s.cascade.then(|| s.layers.len() - 1);
    for (k, (name, step)) in steps.iter().enumerate() {
        let weights = match step {
            Some(step) => randomise::randomised(&loaded.weights, step, s.seed)?,
            None => random_labels
                .as_ref()
                .map(|r| r.weights.clone())
                .expect("the random-label step exists only with its model"),
        };
        let step_maps = compute(&weights)?;
        let t = Instant::now();
        for (m, method) in methods.iter().enumerate() {
            let maps = &step_maps[m];
            for i in 0..n {
                let map = &maps[i * PIXELS..(i + 1) * PIXELS];
                let values = trained[m][i].compare(&Prepared::new(map)?)?;
                results.set_similarity(k, m, i, values);
            }
            results.set_examples(k, m, maps);
            if method == EDGE_METHOD {
                check_edge(name, &trained_maps[m], maps, &results, k, m, &trained[m])?;
            }
        }
        similarity_seconds += t.elapsed().as_secs_f64();
        if Some(k) == last_cascade || step.is_none() {
            detection_models.push(ModelMaps {
                name: name.clone(),
                maps: step_maps,
            });
        }
    }
    bar.finish_and_clear();
    seconds.push(("maps", started.elapsed().as_secs_f64() - similarity_seconds));

    let t = Instant::now();
    let bootstrap = Bootstrap {
        resamples: s.bootstrap,
        seed: s.seed,
    };
    results.summarise(&bootstrap, s.ci)?;
    results.random_control = random_control(&trained, s.seed, n, &bootstrap, s.ci)?;
    seconds.push(("similarity", similarity_seconds + t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let positions = subset(images, s.metric_images_per_class);
    let detections: Vec<Detection> = if positions.is_empty() || detection_models.len() < 2 {
        Vec::new()
    } else {
        let bar = progress_bar("metrics", 0, options.progress);
        let out = detection::detect(
            &loaded.weights,
            &loaded.metrics,
            &methods,
            images,
            &positions,
            &detection_models,
            &bootstrap,
            s.ci,
            &bar,
        )?;
        bar.finish_and_clear();
        out
    };
    seconds.push(("detection", t.elapsed().as_secs_f64()));

    let (path, json) = output::write(
        config,
        &loaded,
        &results,
        random_labels.as_ref(),
        &detections,
        positions.len(),
        out_dir,
    )?;
    if inputs.random_labels.is_none() {
        for file in [random_labels::CHECKPOINT_FILE, random_labels::MODEL_FILE] {
            let path = out_dir.join(file);
            if path.exists() {
                fs_err::remove_file(&path)?;
            }
        }
    }
    for (part, secs) in &seconds {
        tracing::info!("sanity: {part}: {secs:.1} s");
    }
    Ok(Outputs {
        path,
        json,
        seconds,
        random_labels: random_labels.map(|r| r.origin),
    })
}

/// Fails unless the edge maps of a step are bit-equal to the trained model's and every
/// similarity equals the trained maps' similarity to themselves (1, or NaN for a constant
/// map).
fn check_edge(
    step: &str,
    trained_maps: &[f32],
    maps: &[f32],
    results: &Results,
    k: usize,
    m: usize,
    trained: &[Prepared],
) -> Result<()> {
    if let Some(p) = trained_maps
        .iter()
        .zip(maps)
        .position(|(a, b)| a.to_bits() != b.to_bits())
    {
        return Err(SanityError::EdgeControl {
            step: step.to_owned(),
            message: format!(
                "image {} pixel {}: {} != {}",
                p / PIXELS,
                p % PIXELS,
                maps[p],
                trained_maps[p]
            ),
        });
    }
    for (i, prepared) in trained.iter().enumerate() {
        let own = prepared.compare(prepared)?;
        let got = results.similarity_of(k, m, i);
        for (j, (&a, &b)) in own.iter().zip(&got).enumerate() {
            let exactly_one = a == 1.0 && b == 1.0;
            let both_undefined = a.is_nan() && b.is_nan();
            if !(exactly_one || both_undefined) {
                return Err(SanityError::EdgeControl {
                    step: step.to_owned(),
                    message: format!(
                        "image {i}: {} = {b}, expected exactly 1",
                        MEASURES[j].name()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The random-map control: a uniform random map on [-1, 1] per image (ChaCha8 of `seed`, one
/// stream per image) against each method's trained map; mean and interval per method and
/// measure, `[method][measure]`.
fn random_control(
    trained: &[Vec<Prepared>],
    seed: u64,
    n: usize,
    bootstrap: &Bootstrap,
    level: f64,
) -> Result<Vec<Vec<[f64; 3]>>> {
    let random: Vec<Prepared> = (0..n)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(RANDOM_MAP_STREAM + i as u64);
            let map: Vec<f32> = (0..PIXELS)
                .map(|_| rng.random::<f32>() * 2.0 - 1.0)
                .collect();
            Prepared::new(&map)
        })
        .collect::<Result<_>>()?;
    let k = MEASURES.len();
    trained
        .iter()
        .map(|method| {
            let mut table = Vec::with_capacity(n * k);
            for (t, r) in method.iter().zip(&random) {
                table.extend(t.compare(r)?);
            }
            mean_intervals(&table, n, k, bootstrap, level)
        })
        .collect()
}

/// Positions of the first `per_class` images of each class among the stage's images (which
/// are the first images of each class in test order).
fn subset(images: &Images, per_class: usize) -> Vec<usize> {
    let mut taken = [0usize; 256];
    let mut out = Vec::new();
    for (pos, &label) in images.labels.iter().enumerate() {
        let count = &mut taken[usize::from(label)];
        if *count < per_class {
            *count += 1;
            out.push(pos);
        }
    }
    out
}

fn progress_bar(name: &str, len: u64, draw: bool) -> ProgressBar {
    if !draw {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style =
        ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len}  {per_sec}  ETA {eta}")
            .expect("valid progress template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(name.to_owned());
    bar
}
