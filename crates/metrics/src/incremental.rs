//! The engine's incremental path: the logits of every row of an image's sequence from
//! [`IncrementalNet`], which recomputes each pass only where its one new pixel reaches.
//!
//! The sequence maps onto edit chains one to one: after the unperturbed row, each `Steps`
//! segment is a cumulative chain (step k = step k - 1 plus pixel k of the ordering) and each
//! `Single` segment an independent one (the unperturbed image plus one faithfulness pixel), in
//! sequence order, so the chains' passes are the sequence's rows 1.. in order. Segments of an
//! imputing fill have no chain (each of their steps changes every perturbed pixel): their rows
//! are left to full passes, and the chains' logits are placed at the rows of their segments.

use sal_model::fast::{EditChain, FastNet, IncrementalNet};
use sal_perturbation::fill::Prepared;
use sal_perturbation::Perturbation;

use crate::engine::{Segment, Source};
use crate::error::Result;
use crate::protocol::Protocol;

/// The incremental forward and the logits of the current image.
#[derive(Debug, Clone)]
pub(crate) struct Incremental {
    net: IncrementalNet,
    classes: usize,
    /// The faithfulness pixels as the pixel ids chains take.
    singles: Vec<u16>,
    /// `[rows of an image, classes]`.
    logits: Vec<f32>,
    /// `[chained rows, classes]`: the chains' logits before they are placed at their rows.
    chained: Vec<f32>,
}

impl Incremental {
    /// The incremental path of `net` for this protocol.
    pub(crate) fn new(net: &FastNet, protocol: &Protocol) -> Self {
        let classes = sal_model::Classifier::num_classes(net);
        Incremental {
            net: IncrementalNet::new(net),
            classes,
            singles: protocol
                .faithfulness_pixels
                .iter()
                .map(|&p| u16::try_from(p).expect("faithfulness pixels are < 1024"))
                .collect(),
            logits: vec![0.0; protocol.passes_per_image() * classes],
            chained: Vec::new(),
        }
    }

    /// Bytes of activations kept while one image is in flight (the unperturbed pass and one
    /// state per chain in flight).
    pub(crate) fn bytes_per_image(&self, protocol: &Protocol) -> usize {
        let curves =
            protocol.methods.len() * sal_perturbation::Order::ALL.len() + protocol.random_count();
        let chains: usize = (0..protocol.fills.len())
            .filter(|&f| protocol.fills[f].perturbation() == Perturbation::Replace)
            .map(|f| curves + protocol.delta_draws(f))
            .sum();
        self.net.bytes_for(chains)
    }

    /// Computes the logits of every row of an image's sequence but the imputed ones
    /// ([`Source::imputed`]), whose rows in [`Incremental::rows`] are left as they were.
    ///
    /// # Shapes
    /// `base`: the image, `[32, 32, 3]` normalised NHWC.
    pub(crate) fn run(
        &mut self,
        base: &[f32],
        segments: &[Segment<'_>],
        prepared: &[Prepared],
    ) -> Result<()> {
        let chained: Vec<&Segment<'_>> = segments
            .iter()
            .filter(|seg| !matches!(seg.source, Source::Base) && !seg.source.imputed())
            .collect();
        let chains: Vec<EditChain<'_>> = chained
            .iter()
            .map(|seg| match seg.source {
                Source::Steps {
                    replacement,
                    ordering,
                    ..
                } => EditChain {
                    replacement: &prepared[replacement].replacement,
                    pixels: ordering,
                    cumulative: true,
                },
                Source::Single { replacement, .. } => EditChain {
                    replacement: &prepared[replacement].replacement,
                    pixels: &self.singles,
                    cumulative: false,
                },
                Source::Base => unreachable!("the base row has no chain"),
            })
            .collect();
        let classes = self.classes;
        let rows: usize = chained.iter().map(|seg| seg.len).sum();
        self.chained.resize(rows * classes, 0.0);
        let base_logits = &mut self.logits[..classes];
        self.net
            .logits(base, &chains, base_logits, &mut self.chained)?;
        // Chains in sequence order: their rows follow each other in `chained`.
        let mut next = 0;
        for seg in chained {
            let len = seg.len * classes;
            self.logits[seg.start * classes..seg.start * classes + len]
                .copy_from_slice(&self.chained[next..next + len]);
            next += len;
        }
        Ok(())
    }

    /// The logits of rows `lo..hi` of the last image run.
    ///
    /// # Shapes
    /// returns `[hi - lo, classes]`.
    pub(crate) fn rows(&self, lo: usize, hi: usize) -> &[f32] {
        &self.logits[lo * self.classes..hi * self.classes]
    }
}
