//! Tensor names: the contract between stages (see `docs/artifacts.md`).
//!
//! Constants for fixed names, functions for names built from a method, an order or a fill.

/// `dataset.safetensors` (stage `data`).
pub mod dataset {
    /// u8 [45000, 3, 32, 32]
    pub const TRAIN_IMAGES: &str = "train_images";
    /// u8 [45000]
    pub const TRAIN_LABELS: &str = "train_labels";
    /// u32 [45000]: index of each training-split image in the official 50k training order.
    pub const TRAIN_INDEX: &str = "train_index";
    /// u8 [5000, 3, 32, 32]
    pub const VAL_IMAGES: &str = "val_images";
    /// u8 [5000]
    pub const VAL_LABELS: &str = "val_labels";
    /// u32 [5000]: index of each validation image in the official 50k training order.
    pub const VAL_INDEX: &str = "val_index";
    /// u8 [10000, 3, 32, 32], official order.
    pub const TEST_IMAGES: &str = "test_images";
    /// u8 [10000]
    pub const TEST_LABELS: &str = "test_labels";
    /// f32 [3]: channel mean of the training split on a 0..1 scale.
    pub const CHANNEL_MEAN: &str = "channel_mean";
    /// f32 [3]: channel population standard deviation of the training split on a 0..1 scale.
    pub const CHANNEL_STD: &str = "channel_std";
}

/// `model.safetensors` and `training_log.safetensors` (stage `train`).
pub mod model {
    /// `block{b}.conv{c}.weight`, f32 [out, in, 3, 3]; `b` in 1..=3, `c` in 1..=2.
    pub fn conv_weight(block: usize, conv: usize) -> String {
        format!("block{block}.conv{conv}.weight")
    }
    /// `block{b}.bn{c}.{weight,bias,running_mean,running_var}`, f32 [channels].
    pub fn bn(block: usize, conv: usize, field: &str) -> String {
        format!("block{block}.bn{conv}.{field}")
    }
    /// The BatchNorm fields, in the order they are stored.
    pub const BN_FIELDS: [&str; 4] = ["weight", "bias", "running_mean", "running_var"];
    /// f32 [10, 2048]
    pub const CLASSIFIER_WEIGHT: &str = "classifier.weight";

    /// training_log: f32 [epochs]
    pub const LOG_TRAIN_LOSS: &str = "train_loss";
    /// training_log: f32 [epochs]
    pub const LOG_TRAIN_ACCURACY: &str = "train_accuracy";
    /// training_log: f32 [epochs]
    pub const LOG_VAL_ACCURACY: &str = "val_accuracy";
}

/// `saliency.safetensors` (stage `attribute`).
pub mod saliency {
    /// u32 [N]: index into the test set.
    pub const IMAGE_INDEX: &str = "image_index";
    /// u8 [N]: true label.
    pub const LABEL: &str = "label";
    /// u8 [N]: predicted class.
    pub const PREDICTED: &str = "predicted";
    /// f32 [N]: softmax probability of the predicted class.
    pub const CONFIDENCE: &str = "confidence";
    /// f32 [N]: the explained pre-softmax logit of the predicted class.
    pub const LOGIT: &str = "logit";
    /// u32 [K]: training-split indices of the DeepSHAP background images.
    pub const DEEP_SHAP_BACKGROUND_INDEX: &str = "deep_shap.background_index";

    /// `saliency.<method>`, f32 [N, 32, 32].
    pub fn map(method: &str) -> String {
        format!("saliency.{method}")
    }
}

/// `metrics.safetensors` (stage `metrics`).
///
/// Probabilities are followed as **drops** in f64, `f(x) - f(x^(k))`, computed as the
/// difference of the other classes' total probability (`1 - f`), which keeps its information
/// when `f` itself rounds to 1 (see `docs/artifacts.md`).
pub mod metrics {
    /// u32 [N]
    pub const IMAGE_INDEX: &str = "image_index";
    /// f64 [N]: f(x), softmax probability of the predicted class on the unperturbed image.
    pub const P0: &str = "p0";
    /// f64 [N]: 1 - f(x), the other classes' total probability, computed without cancellation.
    pub const Q0: &str = "q0";
    /// u32 [N, C]: per image, the saturation counters named by the metadata field
    /// `saturation_columns`.
    pub const SATURATION: &str = "saturation";
    /// u32 [P]
    pub const FAITHFULNESS_PIXELS: &str = "faithfulness_pixels";
    /// u16 [R, 1024]
    pub const RANDOM_ORDERS: &str = "random_orders";

    /// `drop.<method>.<order>.<fill>`, f64 [N, L+1]: column k = f(x) - f(x^(k)) (column 0 is 0).
    pub fn drop(method: &str, order: &str, fill: &str) -> String {
        format!("drop.{method}.{order}.{fill}")
    }
    /// `order.<method>.<order>`, u16 [N, L]: the pixel ids perturbed, in order.
    pub fn order(method: &str, order: &str) -> String {
        format!("order.{method}.{order}")
    }
    /// `drop.random.<fill>`, f64 [R, N, L+1] (only when the config asks for it).
    pub fn random_drops(fill: &str) -> String {
        format!("drop.random.{fill}")
    }
    /// `drop.random_mean.<fill>`, f64 [N, L+1]: mean over the R orderings.
    pub fn random_mean_drop(fill: &str) -> String {
        format!("drop.random_mean.{fill}")
    }
    /// `aopc.random.<fill>`, f64 [R, L+1]: per ordering, AOPC_L averaged over images.
    pub fn random_aopc(fill: &str) -> String {
        format!("aopc.random.{fill}")
    }
    /// `delta.<fill>`, f64 [N, P]: the Deltas of a fill whose draws all methods share.
    pub fn delta(fill: &str) -> String {
        format!("delta.{fill}")
    }
    /// `delta.<method>.<fill>`, f64 [N, P]: a method's own Deltas, for a fill drawn
    /// independently per method (`uniform_draws = "independent"`).
    pub fn method_delta(method: &str, fill: &str) -> String {
        format!("delta.{method}.{fill}")
    }
    /// `faithfulness.<method>.<fill>`, f32 [N].
    pub fn faithfulness(method: &str, fill: &str) -> String {
        format!("faithfulness.{method}.{fill}")
    }
    /// `fill_image.<fill>`, u8 [N, 3, 32, 32] (for fills with a per-image replacement).
    pub fn fill_image(fill: &str) -> String {
        format!("fill_image.{fill}")
    }
}
