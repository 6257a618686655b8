//! Fills: what a perturbed pixel becomes.
//!
//! A fill gives, for each test image, a replacement image. A replacing fill
//! ([`Perturbation::Replace`]: `mean`, `uniform`) sets the three channels of a perturbed pixel
//! `p` to the replacement's; the imputing fill ([`Perturbation::Impute`]: `imputation`) imputes
//! every perturbed pixel from the kept ones and adds the replacement as noise. To add a fill:
//! write `src/fill/<name>.rs` with a type implementing [`Fill`] and a `pub const INFO:
//! FillInfo`, then add one line to [`FILLS`].

pub mod imputation;
pub mod mean;
pub mod uniform;

use crate::error::{check_len, PerturbationError, Result};
use crate::layout::{Normalisation, IMAGE_VALUES};

/// One test image as a fill sees it.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    /// Index of the image in the CIFAR-10 test set (seeds per-image randomness).
    pub index: u32,
    /// u8 `[3, 32, 32]`, NCHW.
    pub pixels: &'a [u8],
    /// f32 `[32, 32, 3]`, normalised NHWC (the model's input).
    pub normalised: &'a [f32],
}

impl ImageRef<'_> {
    /// Checks both buffers' lengths.
    pub fn check(&self) -> Result<()> {
        check_len("u8 image", self.pixels.len(), IMAGE_VALUES, "[3, 32, 32]")?;
        check_len(
            "normalised image",
            self.normalised.len(),
            IMAGE_VALUES,
            "[32, 32, 3]",
        )
    }
}

/// A fill's replacement for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// f32 `[32, 32, 3]` normalised NHWC: the values a perturbed pixel takes.
    pub replacement: Vec<f32>,
    /// u8 `[3, 32, 32]`: the replacement as an image, for fills that store it in the artifact
    /// (`fill_image.<name>`) so a curve can be audited; `None` for constant fills.
    pub stored: Option<Vec<u8>>,
}

/// What every fill is built from.
#[derive(Debug, Clone)]
pub struct FillSetup {
    /// The metrics seed (`[metrics] seed`).
    pub seed: u64,
    /// The model's input normalisation.
    pub normalisation: Normalisation,
    /// Whether random fills draw one replacement per image shared by every curve (paired) or
    /// a fresh one per curve and per method's faithfulness pixels (independent).
    pub draws: Draws,
}

/// How a random fill's replacement images are drawn (`[metrics] uniform_draws`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Draws {
    /// One replacement per test image, shared by every method, order, random ordering and
    /// faithfulness pixel: the methods are compared on the same colours.
    #[default]
    Paired,
    /// A fresh, seeded replacement per (method, order) curve, per random ordering and per
    /// method's faithfulness pixels: the colour noise of the paper's random RGB fill.
    Independent,
}

impl Draws {
    /// From the config's name (`paired`, `independent`).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "paired" => Ok(Draws::Paired),
            "independent" => Ok(Draws::Independent),
            other => Err(PerturbationError::UnknownDraws {
                name: other.to_owned(),
            }),
        }
    }
}

/// Which curve or block of single-pixel perturbations a replacement is drawn for.
///
/// Fills that draw independently ([`Fill::independent`]) give each of these its own
/// replacement; the others ignore it. `slot` numbers are positions in the run's lists: the
/// (method, order) curve `m * 2 + o`, the random ordering `r`, the method `m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// The one replacement of a paired fill.
    Shared,
    /// The steps of (method, order) curve `slot`.
    Curve(u32),
    /// The steps of random ordering `slot`.
    Random(u32),
    /// The faithfulness pixels of method `slot`.
    Faithfulness(u32),
}

impl Draw {
    /// The random stream of this draw for test image `index`: the index itself for
    /// [`Draw::Shared`] (so paired draws are unchanged), else the index with the kind in bits
    /// 32..40 and the slot in bits 40..64.
    pub fn stream(self, index: u32) -> u64 {
        let (kind, slot) = match self {
            Draw::Shared => return u64::from(index),
            Draw::Curve(s) => (1u64, s),
            Draw::Random(s) => (2, s),
            Draw::Faithfulness(s) => (3, s),
        };
        u64::from(index) | (kind << 32) | (u64::from(slot) << 40)
    }
}

/// How a fill turns a set of perturbed pixels into a perturbed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Perturbation {
    /// Pixel `p` takes the replacement's value at `p`, whatever else is perturbed: step k of a
    /// curve is step k - 1 with one more pixel replaced ([`crate::write_steps`]).
    #[default]
    Replace,
    /// The perturbed pixels are imputed jointly from the kept ones ([`crate::imputation`]) and
    /// the replacement is added to them as noise: every step is solved anew, and consecutive
    /// steps differ in every perturbed pixel, not one.
    Impute,
}

/// A perturbation value: the replacement image of each test image.
pub trait Fill: Send + Sync + std::fmt::Debug {
    /// The name used in configs and tensor names.
    fn name(&self) -> &'static str;

    /// Whether [`Prepared::stored`] is `Some` (the artifact then holds `fill_image.<name>`).
    fn stores_image(&self) -> bool;

    /// Whether every [`Draw`] of an image gets its own replacement (else all share one).
    fn independent(&self) -> bool {
        false
    }

    /// How the replacement makes a perturbed image (replacing, or imputing plus noise).
    fn perturbation(&self) -> Perturbation {
        Perturbation::Replace
    }

    /// The replacement for one image (the [`Draw::Shared`] one). Must depend only on the image
    /// (its pixels and test-set index) and the setup, never on the order in which images are
    /// processed.
    fn prepare(&self, image: &ImageRef<'_>) -> Result<Prepared> {
        self.prepare_draw(image, Draw::Shared)
    }

    /// The replacement for one image and draw; fills that are not [`Fill::independent`] give
    /// the same one for every draw.
    fn prepare_draw(&self, image: &ImageRef<'_>, draw: Draw) -> Result<Prepared>;
}

/// What the registry knows about a fill.
#[derive(Debug, Clone, Copy)]
pub struct FillInfo {
    /// The name used in configs and in tensor names.
    pub name: &'static str,
    /// One line for help texts and metadata.
    pub summary: &'static str,
    /// Builds the fill.
    pub build: fn(&FillSetup) -> Box<dyn Fill>,
}

/// Every fill.
pub const FILLS: &[FillInfo] = &[mean::INFO, uniform::INFO, imputation::INFO];

/// The names of all registered fills.
pub fn known_names() -> Vec<&'static str> {
    FILLS.iter().map(|f| f.name).collect()
}

/// The fill of this name, or an error listing the known ones.
pub fn find(name: &str) -> Result<&'static FillInfo> {
    FILLS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| PerturbationError::UnknownFill {
            name: name.to_owned(),
            known: known_names().join(", "),
        })
}

/// Builds every named fill, in the given order; any unknown name is an error.
pub fn build_all(names: &[String], setup: &FillSetup) -> Result<Vec<Box<dyn Fill>>> {
    names
        .iter()
        .map(|n| find(n).map(|info| (info.build)(setup)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fills_list_the_known_ones() {
        let err = find("blur").unwrap_err().to_string();
        for word in ["blur", "mean", "uniform", "imputation"] {
            assert!(err.contains(word), "{err}");
        }
        let setup = FillSetup {
            seed: 0,
            normalisation: Normalisation::from_fn(|_, v| f32::from(v)),
            draws: Draws::Paired,
        };
        assert!(build_all(&["mean".to_owned(), "road".to_owned()], &setup).is_err());
        let fills = build_all(&["uniform".to_owned(), "mean".to_owned()], &setup).unwrap();
        assert_eq!(
            fills.iter().map(|f| f.name()).collect::<Vec<_>>(),
            ["uniform", "mean"]
        );
    }

    #[test]
    fn names_are_unique() {
        let names = known_names();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} registered twice");
        }
    }
}
