//! [`IncrementalNet`]: the logits of many passes that each differ from an earlier pass by one
//! pixel, recomputing only the positions that pixel can reach.
//!
//! Every pass of the metrics stage is an earlier pass plus one perturbed pixel: step k of a
//! curve is step k - 1 plus one pixel, a faithfulness pass is the unperturbed image plus one
//! pixel. A 3x3 conv spreads one changed position to a 3x3 window, a 2x2 pool halves it, so
//! most positions of the first blocks keep the values of the pass before. This keeps the
//! activations of the pass each pass extends (a *state* of [`StateLayout::len`] values per pass
//! in flight) and recomputes each layer only on the rectangle of positions whose inputs changed
//! ([`StateLayout::reach`]); the rectangles of all passes in flight go through one gathered
//! product per layer, so the matmuls keep the full pass's tile height. Each recomputed value
//! goes through the same arithmetic as in [`FastNet`]'s full pass (same im2col row, same gemm
//! tile shape and weights, same epilogue, same pool comparisons, same classifier dot products),
//! so the logits equal the full pass's.

use rayon::prelude::*;

use crate::arch::{CONV_LAYERS, IMAGE_VALUES, IN_CHANNELS, PIXELS};
use crate::error::{check_len, ModelError, Result};
use crate::fast::at_least;
use crate::fast::im2col::im2col_position;
use crate::fast::incremental_conv::conv_at;
use crate::fast::incremental_layout::{Rect, StateLayout, MAPS};
use crate::fast::net::{shift_relu, FastNet};
use crate::fast::pool::max_pool_map;

/// Passes in flight at most (one state each): 64 states of the paper's network are 33 MiB.
pub const DEFAULT_SLOTS: usize = 64;

/// A run of passes, each the pass before with one more pixel replaced.
#[derive(Debug, Clone, Copy)]
pub struct EditChain<'a> {
    /// The values a replaced pixel takes: `[32, 32, 3]` normalised NHWC (pixel p's three
    /// channels are `replacement[3p..3p + 3]`).
    pub replacement: &'a [f32],
    /// The pixel (row * 32 + column) each pass replaces, in order.
    pub pixels: &'a [u16],
    /// `true`: pass k keeps the pixels of passes 0..k replaced too (a perturbation curve);
    /// `false`: pass k is the base image with pixel k alone replaced.
    pub cumulative: bool,
}

/// A pass in flight: which chain, which of its passes.
#[derive(Debug, Clone, Copy)]
struct Active {
    chain: usize,
    step: usize,
}

/// The incremental forward of a [`FastNet`] (see the module doc). Keeps its states and
/// buffers between calls.
#[derive(Debug, Clone)]
pub struct IncrementalNet {
    net: FastNet,
    layout: StateLayout,
    max_slots: usize,
    /// The state of the base image.
    base: Vec<f32>,
    /// One state per pass in flight.
    slots: Vec<Vec<f32>>,
    argmax: Vec<u8>,
    /// `(slot, position)` of each row of the current layer's product.
    rows: Vec<(u32, u32)>,
    /// `[rows, cout]`: the current layer's product.
    out: Vec<f32>,
    /// `[passes in flight, classes]`.
    logits: Vec<f32>,
}

impl IncrementalNet {
    /// The incremental forward of `net` (whose weights it copies).
    pub fn new(net: &FastNet) -> Self {
        let layout = StateLayout::new(&net.arch);
        IncrementalNet {
            net: net.clone(),
            base: vec![0.0; layout.len],
            layout,
            max_slots: DEFAULT_SLOTS,
            slots: Vec::new(),
            argmax: Vec::new(),
            rows: Vec::new(),
            out: Vec::new(),
            logits: Vec::new(),
        }
    }

    /// Sets how many passes are in flight at most (at least 1); the results do not depend on it.
    pub fn with_max_slots(mut self, slots: usize) -> Self {
        self.max_slots = slots.max(1);
        self
    }

    /// Bytes of one state (the activations of one pass in flight): 528,384 for the paper's
    /// network.
    pub fn state_bytes(&self) -> usize {
        self.layout.len * std::mem::size_of::<f32>()
    }

    /// Bytes kept for `chains` chains: the base state and one state per pass in flight.
    pub fn bytes_for(&self, chains: usize) -> usize {
        (1 + chains.min(self.max_slots)) * self.state_bytes()
    }

    /// The logits of the base image and of every pass of every chain.
    ///
    /// # Shapes
    /// `base`: `[32, 32, 3]` normalised NHWC; `base_logits`: `[classes]`; `logits`:
    /// `[sum of the chains' pixels, classes]`, the passes of chain 0 first, overwritten.
    pub fn logits(
        &mut self,
        base: &[f32],
        chains: &[EditChain<'_>],
        base_logits: &mut [f32],
        logits: &mut [f32],
    ) -> Result<()> {
        let classes = self.net.arch.classes;
        check_len("base image", base.len(), IMAGE_VALUES, || {
            "[32, 32, 3]".to_owned()
        })?;
        check_len("base logits", base_logits.len(), classes, || {
            format!("[{classes}]")
        })?;
        let total: usize = chains.iter().map(|c| c.pixels.len()).sum();
        check_len("chain logits", logits.len(), total * classes, || {
            format!("[{total}, {classes}]")
        })?;
        check_finite("base image", base)?;
        for chain in chains {
            check_len("replacement", chain.replacement.len(), IMAGE_VALUES, || {
                "[32, 32, 3]".to_owned()
            })?;
            check_finite("replacement", chain.replacement)?;
            if let Some(&p) = chain.pixels.iter().find(|&&p| usize::from(p) >= PIXELS) {
                return Err(ModelError::BadPixel {
                    pixel: usize::from(p),
                });
            }
        }
        self.forward_base(base, base_logits)?;

        let mut first_row = Vec::with_capacity(chains.len());
        let mut row = 0;
        for chain in chains {
            first_row.push(row);
            row += chain.pixels.len();
        }
        let mut pending = (0..chains.len()).filter(|&c| !chains[c].pixels.is_empty());
        let slots = self.max_slots.min(chains.len());
        self.slots.truncate(slots);
        for slot in &mut self.slots {
            slot.copy_from_slice(&self.base);
        }
        while self.slots.len() < slots {
            self.slots.push(self.base.clone());
        }
        let mut active: Vec<Option<Active>> = (0..slots)
            .map(|_| pending.next().map(|chain| Active { chain, step: 0 }))
            .collect();
        let mut reach = Vec::with_capacity(slots);
        while active.iter().any(Option::is_some) {
            reach.clear();
            reach.extend(active.iter().map(|a| {
                a.map(|a| {
                    self.layout
                        .reach(usize::from(chains[a.chain].pixels[a.step]))
                })
            }));
            self.wave(chains, &active, &reach);
            let mut e = 0;
            for (s, slot_active) in active.iter_mut().enumerate() {
                let Some(a) = *slot_active else { continue };
                let chain = &chains[a.chain];
                let row = first_row[a.chain] + a.step;
                logits[row * classes..(row + 1) * classes]
                    .copy_from_slice(&self.logits[e * classes..(e + 1) * classes]);
                e += 1;
                let rects = reach[s].expect("an active slot has its reach");
                if !chain.cumulative {
                    self.restore(s, &rects);
                }
                *slot_active = if a.step + 1 < chain.pixels.len() {
                    Some(Active {
                        chain: a.chain,
                        step: a.step + 1,
                    })
                } else {
                    if chain.cumulative {
                        self.slots[s].copy_from_slice(&self.base);
                    }
                    pending.next().map(|chain| Active { chain, step: 0 })
                };
            }
        }
        Ok(())
    }

    /// The full forward of the base image into the base state.
    fn forward_base(&mut self, image: &[f32], logits: &mut [f32]) -> Result<()> {
        let layout = &self.layout;
        let state = &mut self.base;
        layout.maps[0].of_mut(state).copy_from_slice(image);
        for l in 0..CONV_LAYERS {
            let (input, output) = (
                layout.maps[layout.conv_in[l]],
                layout.maps[layout.conv_out[l]],
            );
            let (lo, hi) = state.split_at_mut(output.offset);
            let shift = &self.net.shift[l];
            self.net.folded[l].forward_with(
                input.of(lo),
                &mut hi[..output.len()],
                &mut [],
                0,
                &|_, rows, _| shift_relu(rows, shift),
            )?;
            if let Some(pool) = layout.pool_out[l] {
                let pool = layout.maps[pool];
                let (lo, hi) = state.split_at_mut(pool.offset);
                let arg = at_least(&mut self.argmax, pool.len());
                max_pool_map(
                    output.of(lo),
                    output.side,
                    output.channels,
                    &mut hi[..pool.len()],
                    arg,
                    &|_, v| v,
                );
            }
        }
        self.net
            .linear
            .forward(layout.features().of(&self.base), logits)
    }

    /// One pass of every active slot: replace its pixel, recompute what it reaches, and write
    /// the logits of the i-th active slot to row i of `self.logits`.
    fn wave(
        &mut self,
        chains: &[EditChain<'_>],
        active: &[Option<Active>],
        reach: &[Option<[Rect; MAPS]>],
    ) {
        let layout = &self.layout;
        let net = &self.net;
        for (slot, a) in self.slots.iter_mut().zip(active) {
            if let Some(a) = a {
                let chain = &chains[a.chain];
                let p = usize::from(chain.pixels[a.step]);
                let at = layout.maps[0].at(p / 32, p % 32);
                slot[at]
                    .copy_from_slice(&chain.replacement[p * IN_CHANNELS..(p + 1) * IN_CHANNELS]);
            }
        }
        for l in 0..CONV_LAYERS {
            let (input, output) = (
                layout.maps[layout.conv_in[l]],
                layout.maps[layout.conv_out[l]],
            );
            let out_map = layout.conv_out[l];
            self.rows.clear();
            let mut starts = vec![usize::MAX; active.len()];
            for (s, rects) in reach.iter().enumerate() {
                if let Some(rects) = rects {
                    starts[s] = self.rows.len();
                    self.rows.extend(
                        rects[out_map]
                            .positions()
                            .map(|(y, x)| (s as u32, (y * output.side + x) as u32)),
                    );
                }
            }
            let (rows, cout) = (self.rows.len(), output.channels);
            let out = at_least(&mut self.out, rows * cout);
            let slots = &self.slots;
            let list = &self.rows;
            let shift = &net.shift[l];
            conv_at(
                &net.folded[l],
                rows,
                &|i, dst| {
                    let (s, pos) = list[i];
                    let image = input.of(&slots[s as usize]);
                    let pos = pos as usize;
                    im2col_position(
                        image,
                        input.side,
                        input.channels,
                        pos / input.side,
                        pos % input.side,
                        dst,
                    );
                },
                out,
                &|rows| shift_relu(rows, shift),
            );
            let out: &[f32] = out;
            let pool = layout.pool_out[l].map(|p| (p, layout.maps[p]));
            self.slots
                .par_iter_mut()
                .zip(reach.par_iter().zip(starts.par_iter()))
                .for_each(|(slot, (rects, &start))| {
                    let Some(rects) = rects else { return };
                    for (j, (y, x)) in rects[out_map].positions().enumerate() {
                        slot[output.at(y, x)]
                            .copy_from_slice(&out[(start + j) * cout..(start + j + 1) * cout]);
                    }
                    if let Some((p, pooled)) = pool {
                        pool_rect(slot, output, pooled, rects[p]);
                    }
                });
        }
        let classes = net.arch.classes;
        let features = layout.features();
        let in_flight: Vec<&Vec<f32>> = self
            .slots
            .iter()
            .zip(reach)
            .filter(|(_, r)| r.is_some())
            .map(|(s, _)| s)
            .collect();
        let logits = at_least(&mut self.logits, in_flight.len() * classes);
        logits
            .par_chunks_mut(classes)
            .zip(in_flight.par_iter())
            .for_each(|(row, slot)| {
                net.linear
                    .forward(features.of(slot), row)
                    .expect("the feature map has the classifier's width");
            });
    }

    /// Copies back the base state's values on the reached positions of slot `s`.
    fn restore(&mut self, s: usize, rects: &[Rect; MAPS]) {
        let slot = &mut self.slots[s];
        for (map, rect) in self.layout.maps.iter().zip(rects) {
            for (y, x) in rect.positions() {
                let at = map.at(y, x);
                slot[at.clone()].copy_from_slice(&self.base[at]);
            }
        }
    }
}

/// Max-pools the windows of `pooled_rect` of map `input` into map `pooled` of one state, with
/// the comparisons of [`max_pool_map`] (first maximum in window order).
fn pool_rect(
    state: &mut [f32],
    input: crate::fast::incremental_layout::Map,
    pooled: crate::fast::incremental_layout::Map,
    pooled_rect: Rect,
) {
    let c = input.channels;
    let (lo, hi) = state.split_at_mut(pooled.offset);
    for (y, x) in pooled_rect.positions() {
        let i0 = input.at(2 * y, 2 * x).start;
        let i2 = input.at(2 * y + 1, 2 * x).start;
        let window = [i0, i0 + c, i2, i2 + c];
        let o = pooled.at(y, x).start - pooled.offset;
        for ch in 0..c {
            let mut best = lo[window[0] + ch];
            for &start in &window[1..] {
                let v = lo[start + ch];
                if v > best {
                    best = v;
                }
            }
            hi[o + ch] = best;
        }
    }
}

/// Refuses NaN and infinite values (the full pass refuses them too).
fn check_finite(what: &str, values: &[f32]) -> Result<()> {
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            what: what.to_owned(),
        });
    }
    Ok(())
}
