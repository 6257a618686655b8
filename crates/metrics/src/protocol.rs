//! The protocol of a run: what is perturbed, how, and how many forward passes that costs.

use sal_config::MetricsConfig;
use sal_perturbation::fill::{self, FillSetup};
use sal_perturbation::{faithfulness_pixels, random_orderings, Draws, Fill, Normalisation, Order};
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// Everything that is the same for all images of a run.
#[derive(Debug)]
pub struct Protocol {
    /// Method names, in the order of their maps in [`crate::ImageInput::maps`].
    pub methods: Vec<String>,
    /// The fills, in config order.
    pub fills: Vec<Box<dyn Fill>>,
    /// L: steps per curve.
    pub steps: usize,
    /// `[R, 1024]`: the random orderings shared by all images.
    pub random_orders: Vec<u16>,
    /// `[P]`: the faithfulness pixels shared by all images (ascending).
    pub faithfulness_pixels: Vec<u32>,
    /// Seed of the per-image tie-breaking keys.
    pub seed: u64,
    /// Forward passes per model call, at most.
    pub batch_size: usize,
    /// The model's input normalisation.
    pub normalisation: Normalisation,
}

impl Protocol {
    /// The protocol of `[metrics]` for these methods; unknown fill names are an error listing
    /// the known ones.
    pub fn new(
        config: &MetricsConfig,
        methods: Vec<String>,
        normalisation: Normalisation,
    ) -> Result<Self> {
        config.validate().map_err(MetricsError::Config)?;
        let setup = FillSetup {
            seed: config.seed,
            normalisation: normalisation.clone(),
            draws: Draws::from_name(&config.uniform_draws)?,
        };
        let fills = fill::build_all(&config.fills, &setup)?;
        Ok(Protocol {
            methods,
            fills,
            steps: config.steps,
            random_orders: random_orderings(config.seed, config.random_orderings),
            faithfulness_pixels: faithfulness_pixels(config.seed, config.faithfulness_pixels)?,
            seed: config.seed,
            batch_size: config.batch_size,
            normalisation,
        })
    }

    /// R: number of random orderings.
    pub fn random_count(&self) -> usize {
        self.random_orders.len() / sal_perturbation::PIXELS
    }

    /// Forward passes per image: 1 unperturbed + per fill (M x 2 orders + R) x L steps + P
    /// single-pixel perturbations (M x P for a fill drawn independently per method).
    pub fn passes_per_image(&self) -> usize {
        let curves = self.methods.len() * Order::ALL.len() + self.random_count();
        let singles: usize = (0..self.fills.len())
            .map(|f| self.delta_draws(f) * self.faithfulness_pixels.len())
            .sum();
        1 + self.fills.len() * curves * self.steps + singles
    }

    /// The number of Delta vectors fill `f` has per image: 1 when all methods share its
    /// draws, M when each method has its own ([`Fill::independent`]).
    pub fn delta_draws(&self, f: usize) -> usize {
        if self.fills[f].independent() {
            self.methods.len()
        } else {
            1
        }
    }

    /// The names and sizes of the run, as stored in the artifact's metadata.
    pub fn layout(&self) -> Layout {
        Layout {
            methods: self.methods.clone(),
            orders: Order::ALL.iter().map(|o| o.name().to_owned()).collect(),
            fills: self.fills.iter().map(|f| f.name().to_owned()).collect(),
            fill_images: self
                .fills
                .iter()
                .filter(|f| f.stores_image())
                .map(|f| f.name().to_owned())
                .collect(),
            delta_per_method: self
                .fills
                .iter()
                .filter(|f| f.independent())
                .map(|f| f.name().to_owned())
                .collect(),
            steps: self.steps,
            random_orderings: self.random_count(),
            faithfulness_pixels: self.faithfulness_pixels.len(),
        }
    }
}

/// The names and sizes that fix which tensors a metrics file holds, and their shapes.
///
/// Stored field by field in the metadata of every metrics file (and shard, and checkpoint), so
/// a merge can read shards without the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Method names.
    pub methods: Vec<String>,
    /// Order names (`morf`, `lerf`).
    pub orders: Vec<String>,
    /// Fill names.
    pub fills: Vec<String>,
    /// The fills with a per-image replacement image (`fill_image.<fill>`).
    pub fill_images: Vec<String>,
    /// The fills drawn independently per method, whose Deltas are stored per method
    /// (`delta.<method>.<fill>`); the others have one `delta.<fill>`.
    pub delta_per_method: Vec<String>,
    /// L.
    pub steps: usize,
    /// R.
    pub random_orderings: usize,
    /// P.
    pub faithfulness_pixels: usize,
}

impl Layout {
    /// The metadata fields of this layout (one per struct field).
    pub fn to_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self).expect("a layout is always JSON") {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a struct serialises to an object"),
        }
    }

    /// The layout from metadata fields written by [`Layout::to_fields`].
    pub fn from_fields(
        extra: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> std::result::Result<Self, String> {
        let names = [
            "methods",
            "orders",
            "fills",
            "fill_images",
            "delta_per_method",
            "steps",
            "random_orderings",
            "faithfulness_pixels",
        ];
        let mut map = serde_json::Map::new();
        for name in names {
            let value = extra
                .get(name)
                .ok_or_else(|| format!("metadata field `{name}` missing"))?;
            map.insert(name.to_owned(), value.clone());
        }
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| format!("metadata: {e}"))
    }
}
