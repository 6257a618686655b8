//! The `attribute` stage: dataset + model -> `saliency.safetensors`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sal_artifact::names::{dataset as dn, saliency as sn};
use sal_artifact::{input_key, Artifact, ArtifactWriter, Kind, Meta};
use sal_config::{AttributeConfig, Config, Stage};
use sal_model::arch::{IMAGE_VALUES, PIXELS};
use sal_model::inference::{argmax_rows, softmax_rows};
use sal_model::{Normalizer, Weights};

use crate::error::{AttributionError, Result};
use crate::method::{Batch, ExtraData, Setup};
use crate::{network, registry, select};

/// How the stage reports progress.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Draw a progress bar per method (indicatif also hides it when stderr is not a terminal).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { progress: true }
    }
}

/// What the stage wrote and how long each method took.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The `saliency.safetensors` file.
    pub path: PathBuf,
    /// Number of explained test images N.
    pub images: usize,
    /// Wall-clock time per method, in config order.
    pub timings: Vec<MethodTiming>,
}

/// Wall-clock time of one method over all images.
#[derive(Debug, Clone)]
pub struct MethodTiming {
    /// Method name.
    pub method: String,
    /// Seconds for all N images (building the method included).
    pub seconds: f64,
    /// N / seconds.
    pub images_per_second: f64,
}

/// Runs the stage: reads `<data_dir>/dataset.safetensors` and `<train_dir>/model.safetensors`,
/// writes `<out_dir>/saliency.safetensors` (atomically, only when every map is complete and
/// finite).
pub fn run(config: &Config, data_dir: &Path, train_dir: &Path, out_dir: &Path) -> Result<Outputs> {
    run_with(config, data_dir, train_dir, out_dir, &Options::default())
}

/// [`run`] with explicit [`Options`].
pub fn run_with(
    config: &Config,
    data_dir: &Path,
    train_dir: &Path,
    out_dir: &Path,
    options: &Options,
) -> Result<Outputs> {
    let section = &config.attribute;
    section.validate().map_err(AttributionError::Config)?;
    let infos = registry::check_names(&section.methods)?;

    let data_path = data_dir.join(Kind::Dataset.file_name());
    let model_path = train_dir.join(Kind::Model.file_name());
    let (weights, _) = Weights::load(&model_path)?;
    let dataset = Artifact::open(&data_path, Kind::Dataset)?;
    let inputs = TestInputs::read(&dataset, &weights, section.images_per_class)?;
    let n = inputs.index.len();
    tracing::info!(images = n, methods = ?section.methods, "attribute: explaining {n} test images");

    let training_images: Option<Vec<u8>> = if infos.iter().any(|m| m.needs_training_images) {
        Some(
            dataset
                .read_dims::<u8>(dn::TRAIN_IMAGES, &[None, Some(3), Some(32), Some(32)])?
                .1,
        )
    } else {
        None
    };
    let prediction = predict(&weights, section, &inputs.images)?;
    let setup = Setup {
        weights: &weights,
        normalizer: inputs.normalizer,
        config: section,
        training_images: training_images.as_deref(),
    };

    let mut writer = ArtifactWriter::new(
        Meta::new(
            Kind::Saliency,
            Stage::Attribute.name(),
            config.section_json(Stage::Attribute),
        )
        .with_input(Stage::Data.name(), input_key(&data_path)?)
        .with_input(Stage::Train.name(), input_key(&model_path)?),
    );
    let mut details = serde_json::Map::new();
    let mut timings = Vec::new();
    for info in &infos {
        let start = Instant::now();
        let mut method = (info.build)(&setup)?;
        let bar = progress_bar(info.name, n, options.progress);
        let mut maps = vec![0.0f32; n * PIXELS];
        for start_image in (0..n).step_by(section.batch_size) {
            let end = (start_image + section.batch_size).min(n);
            let batch = Batch::new(
                &inputs.pixels[start_image * IMAGE_VALUES..end * IMAGE_VALUES],
                &inputs.images[start_image * IMAGE_VALUES..end * IMAGE_VALUES],
                &prediction.classes[start_image..end],
            )?;
            let out = &mut maps[start_image * PIXELS..end * PIXELS];
            method.explain(&batch, out)?;
            check_finite(info.name, &inputs.index[start_image..end], out)?;
            bar.inc((end - start_image) as u64);
        }
        bar.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        let rate = n as f64 / seconds.max(1e-9);
        tracing::info!(
            "{}: {n} images in {seconds:.1} s ({rate:.1} images/s)",
            info.name
        );
        timings.push(MethodTiming {
            method: info.name.to_owned(),
            seconds,
            images_per_second: rate,
        });
        writer.add(&sn::map(info.name), &[n, 32, 32], &maps)?;
        for extra in method.extra_tensors() {
            match &extra.data {
                ExtraData::U32(v) => writer.add(&extra.name, &extra.shape, v)?,
                ExtraData::F32(v) => writer.add(&extra.name, &extra.shape, v)?,
            };
        }
        details.insert(info.name.to_owned(), method.describe());
    }

    let predicted: Vec<u8> = prediction
        .classes
        .iter()
        .map(|&c| u8::try_from(c).expect("class fits u8"))
        .collect();
    writer
        .add(sn::IMAGE_INDEX, &[n], &inputs.index)?
        .add(sn::LABEL, &[n], &inputs.labels)?
        .add(sn::PREDICTED, &[n], &predicted)?
        .add(sn::CONFIDENCE, &[n], &prediction.confidence)?
        .add(sn::LOGIT, &[n], &prediction.logit)?;
    let meta = writer.meta_mut();
    meta.extra
        .insert("methods".to_owned(), serde_json::json!(section.methods));
    meta.extra.insert(
        "methods_detail".to_owned(),
        serde_json::Value::Object(details),
    );
    meta.extra.insert(
        "explained".to_owned(),
        serde_json::json!("pre-softmax logit of the predicted class; maps [N, 32, 32], pixel index row * 32 + col"),
    );
    if let Some(names) = dataset.meta().extra.get("class_names") {
        meta.extra.insert("class_names".to_owned(), names.clone());
    }
    fs_err::create_dir_all(out_dir)?;
    let path = out_dir.join(Kind::Saliency.file_name());
    writer.write(&path)?;
    tracing::info!("wrote {}", path.display());
    Ok(Outputs {
        path,
        images: n,
        timings,
    })
}

/// The selected test images and the normalisation.
struct TestInputs {
    /// `[N]` test indices, ascending.
    index: Vec<u32>,
    /// `[N]` true labels.
    labels: Vec<u8>,
    /// `[N, 3, 32, 32]` u8.
    pixels: Vec<u8>,
    /// `[N, 32, 32, 3]` normalised.
    images: Vec<f32>,
    normalizer: Normalizer,
}

impl TestInputs {
    fn read(dataset: &Artifact, weights: &Weights, per_class: usize) -> Result<Self> {
        let bad = |message: String| AttributionError::BadInput {
            path: dataset.path().to_owned(),
            message,
        };
        let (shape, all_labels) = dataset.read_dims::<u8>(dn::TEST_LABELS, &[None])?;
        let all_pixels: Vec<u8> = dataset.read(dn::TEST_IMAGES, &[shape[0], 3, 32, 32])?;
        let mean: Vec<f32> = dataset.read_finite(dn::CHANNEL_MEAN, &[3])?;
        let std: Vec<f32> = dataset.read_finite(dn::CHANNEL_STD, &[3])?;
        if let Some(s) = std.iter().find(|s| **s <= 0.0) {
            return Err(bad(format!(
                "{} holds {s}: standard deviations must be positive",
                dn::CHANNEL_STD
            )));
        }
        let normalizer = Normalizer::new([mean[0], mean[1], mean[2]], [std[0], std[1], std[2]]);
        let index = select::first_per_class(&all_labels, weights.arch.classes, per_class)
            .map_err(|e| bad(e.to_string()))?;
        let mut pixels = Vec::with_capacity(index.len() * IMAGE_VALUES);
        let mut labels = Vec::with_capacity(index.len());
        for &i in &index {
            let i = i as usize;
            pixels.extend_from_slice(&all_pixels[i * IMAGE_VALUES..(i + 1) * IMAGE_VALUES]);
            labels.push(all_labels[i]);
        }
        let mut images = vec![0.0; pixels.len()];
        normalizer.nchw_u8_to_nhwc(&pixels, &mut images)?;
        Ok(TestInputs {
            index,
            labels,
            pixels,
            images,
            normalizer,
        })
    }
}

/// The model's verdict on each selected image.
struct Prediction {
    /// `[N]` arg-max class.
    classes: Vec<usize>,
    /// `[N]` its softmax probability.
    confidence: Vec<f32>,
    /// `[N]` its pre-softmax logit.
    logit: Vec<f32>,
}

/// # Shapes
/// `images`: `[N, 32, 32, 3]` normalised.
fn predict(weights: &Weights, section: &AttributeConfig, images: &[f32]) -> Result<Prediction> {
    let batch_size = section.batch_size;
    let classes = weights.arch.classes;
    let n = images.len() / IMAGE_VALUES;
    let mut model = network::classifier(weights, section)?;
    let mut logits = vec![0.0f32; n * classes];
    for start in (0..n).step_by(batch_size) {
        let end = (start + batch_size).min(n);
        model.logits(
            &images[start * IMAGE_VALUES..end * IMAGE_VALUES],
            &mut logits[start * classes..end * classes],
        )?;
    }
    let predicted = argmax_rows(&logits, classes);
    let logit: Vec<f32> = predicted
        .iter()
        .enumerate()
        .map(|(i, &c)| logits[i * classes + c])
        .collect();
    let mut probabilities = logits;
    softmax_rows(&mut probabilities, classes);
    let confidence = predicted
        .iter()
        .enumerate()
        .map(|(i, &c)| probabilities[i * classes + c])
        .collect();
    if let Some(i) = logit.iter().position(|v| !v.is_finite()) {
        return Err(AttributionError::NonFinite {
            method: "classifier".to_owned(),
            image: i as u32,
            pixel: 0,
            value: logit[i],
        });
    }
    Ok(Prediction {
        classes: predicted,
        confidence,
        logit,
    })
}

/// An error naming the method, the test image and the pixel of the first NaN or infinity.
///
/// # Shapes
/// `index`: `[n]` test indices; `maps`: `[n, 32, 32]`.
pub fn check_finite(method: &str, index: &[u32], maps: &[f32]) -> Result<()> {
    for (map, &image) in maps.chunks_exact(PIXELS).zip(index) {
        if let Some(pixel) = map.iter().position(|v| !v.is_finite()) {
            return Err(AttributionError::NonFinite {
                method: method.to_owned(),
                image,
                pixel,
                value: map[pixel],
            });
        }
    }
    Ok(())
}

fn progress_bar(name: &str, len: usize, draw: bool) -> ProgressBar {
    if !draw {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template(
        "{prefix:>16} [{bar:30}] {pos}/{len} images  {per_sec}  ETA {eta}",
    )
    .expect("valid progress template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(name.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_finite_names_method_image_and_pixel() {
        let mut maps = vec![0.0f32; 2 * PIXELS];
        maps[PIXELS + 33] = f32::NAN;
        let err = check_finite("deep_shap", &[7, 42], &maps)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("deep_shap") && err.contains("test image 42") && err.contains("pixel 33"),
            "{err}"
        );
        assert!(err.contains("row 1") && err.contains("col 1"), "{err}");
        maps[PIXELS + 33] = 0.0;
        maps[5] = f32::INFINITY;
        assert!(check_finite("edge", &[7, 42], &maps)
            .unwrap_err()
            .to_string()
            .contains("test image 7"));
        maps[5] = 1.0;
        check_finite("edge", &[7, 42], &maps).unwrap();
    }
}
