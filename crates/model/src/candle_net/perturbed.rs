//! Batches of perturbed copies of one image, built on the network's device.
//!
//! The metrics stage runs tens of thousands of copies of each image through the network, each
//! with some pixels replaced. Building them on the host and copying them over would move 12 KiB
//! per forward pass; here only the image, its replacement images, and small integer tables
//! travel, and each batch is built on the device from three numbers per row.
//!
//! A row is (`table`, `count`, `fill`): pixel `p` of the row is taken from replacement image
//! `fill` when `ranks[table][p] < count`, else from the image. With `ranks[t]` the inverse of
//! an ordering (the position of each pixel in it), `count = k` gives step `k` of that ordering;
//! a table with a single 0 gives a single-pixel perturbation; `count = 0` the image itself.
//! Values are selected, never computed (`where_cond`), so a replaced pixel holds exactly the
//! replacement's value, as in the host-built batches.

use candle_core::{DType, Device, Tensor};

use crate::arch::{IMAGE_SIZE, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use crate::candle_net::net::{to_f32_vec, CandleNet};
use crate::error::{check_len, ModelError, Result};

/// The rank value of a pixel that no count reaches (counts are at most the 1024 pixels).
pub const NEVER: u32 = PIXELS as u32;

/// One perturbed copy of the image: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerturbedRow {
    /// Row of the rank tables.
    pub table: u32,
    /// Pixels with a rank below this are replaced (0: the image itself).
    pub count: u32,
    /// Which replacement image.
    pub fill: u32,
}

/// Rank tables on a device.
///
/// # Shapes
/// `[tables, 1024]` u32.
#[derive(Debug, Clone)]
pub struct RankTables {
    ranks: Tensor,
}

impl RankTables {
    /// Tables copied to `device`.
    ///
    /// # Shapes
    /// `ranks`: `[tables, 1024]`.
    pub fn new(ranks: &[u32], device: &Device) -> Result<Self> {
        check_len("rank tables", ranks.len() % PIXELS, 0, || {
            "[tables, 1024]".to_owned()
        })?;
        let tables = ranks.len() / PIXELS;
        Ok(RankTables {
            ranks: Tensor::from_slice(ranks, (tables, PIXELS), device)?,
        })
    }

    /// The tables of `self` followed by those of `other` (on the device).
    pub fn concat(&self, other: &RankTables) -> Result<Self> {
        Ok(RankTables {
            ranks: Tensor::cat(&[&self.ranks, &other.ranks], 0)?,
        })
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.ranks.dim(0).unwrap_or(0)
    }

    /// Whether there are no tables.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The table of an ordering: `ranks[ordering[k]] = k` for the first `steps` pixels, [`NEVER`]
/// for the others.
///
/// # Shapes
/// `ordering`: `[>= steps]` pixel indices; `out`: `[1024]`, overwritten.
pub fn ordering_ranks(ordering: &[u16], steps: usize, out: &mut [u32]) {
    out.fill(NEVER);
    for (k, &p) in ordering[..steps].iter().enumerate() {
        out[usize::from(p)] = k as u32;
    }
}

/// The table of a single pixel: 0 at `pixel`, [`NEVER`] elsewhere (use with `count = 1`).
///
/// # Shapes
/// `out`: `[1024]`, overwritten.
pub fn single_ranks(pixel: usize, out: &mut [u32]) {
    out.fill(NEVER);
    out[pixel] = 0;
}

/// One image, its replacement images and its rank tables, on the network's device.
#[derive(Debug, Clone)]
pub struct PerturbedImage {
    /// `[1, 1024, 3]`.
    base: Tensor,
    /// `[fills, 1024, 3]`.
    fills: Tensor,
    ranks: RankTables,
}

impl PerturbedImage {
    /// The image and its replacements, copied to `device`, with tables already there.
    ///
    /// # Shapes
    /// `base`: `[32, 32, 3]` normalised NHWC; each of `fills`: `[32, 32, 3]`.
    pub fn new(base: &[f32], fills: &[&[f32]], ranks: RankTables, device: &Device) -> Result<Self> {
        check_len("image", base.len(), IMAGE_VALUES, || {
            "[32, 32, 3]".to_owned()
        })?;
        let mut all = Vec::with_capacity(fills.len() * IMAGE_VALUES);
        for fill in fills {
            check_len("replacement image", fill.len(), IMAGE_VALUES, || {
                "[32, 32, 3]".to_owned()
            })?;
            all.extend_from_slice(fill);
        }
        Ok(PerturbedImage {
            base: Tensor::from_slice(base, (1, PIXELS, IN_CHANNELS), device)?,
            fills: Tensor::from_vec(all, (fills.len(), PIXELS, IN_CHANNELS), device)?,
            ranks,
        })
    }
}

impl CandleNet {
    /// Eval-mode logits of perturbed copies of an image, built on the device.
    ///
    /// # Shapes
    /// `rows`: `[n]`; returns `[n, classes]` row-major.
    pub fn perturbed_logits(
        &self,
        image: &PerturbedImage,
        rows: &[PerturbedRow],
    ) -> Result<Vec<f32>> {
        let n = rows.len();
        let (tables, fills) = (image.ranks.len(), image.fills.dim(0)?);
        if let Some(bad) = rows
            .iter()
            .find(|r| r.table as usize >= tables || r.fill as usize >= fills)
        {
            return Err(ModelError::Candle(candle_core::Error::Msg(format!(
                "perturbed row {bad:?} is out of range ({tables} rank tables, {fills} fills)"
            ))));
        }
        let device = self.device();
        let column = |f: fn(&PerturbedRow) -> u32| -> Result<Tensor> {
            let v: Vec<u32> = rows.iter().map(f).collect();
            Ok(Tensor::from_vec(v, n, device)?)
        };
        let table = column(|r| r.table)?;
        let count = column(|r| r.count)?.reshape((n, 1))?;
        let fill = column(|r| r.fill)?;
        let shape = (n, PIXELS, IN_CHANNELS);
        let mask = image
            .ranks
            .ranks
            .index_select(&table, 0)?
            .broadcast_lt(&count)?
            .reshape((n, PIXELS, 1))?
            .broadcast_as(shape)?
            .contiguous()?;
        let replacement = image.fills.index_select(&fill, 0)?;
        let base = image.base.broadcast_as(shape)?.contiguous()?;
        let x = mask
            .where_cond(&replacement, &base)?
            .reshape((n, IMAGE_SIZE, IMAGE_SIZE, IN_CHANNELS))?
            .to_dtype(self.dtype())?
            .permute((0, 3, 1, 2))?
            .contiguous()?;
        let logits = self.forward_eval(&x)?;
        to_f32_vec(&logits.to_dtype(DType::F32)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_invert_orderings_and_mark_single_pixels() {
        let ordering: Vec<u16> = (0..PIXELS as u16).rev().collect();
        let mut ranks = vec![0u32; PIXELS];
        ordering_ranks(&ordering, 3, &mut ranks);
        assert_eq!(&ranks[PIXELS - 3..], &[2, 1, 0]);
        assert!(ranks[..PIXELS - 3].iter().all(|&r| r == NEVER));
        single_ranks(7, &mut ranks);
        assert_eq!(ranks.iter().filter(|&&r| r == 0).count(), 1);
        assert_eq!(ranks[7], 0);
    }
}
