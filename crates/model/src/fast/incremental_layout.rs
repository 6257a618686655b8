//! Where the incremental forward keeps each activation map of a pass, and which positions of
//! each map one changed pixel can reach.

use crate::arch::{Architecture, CONV_LAYERS, IMAGE_SIZE, IN_CHANNELS};

/// A rectangle of positions `[y0, y1) x [x0, x1)` of a square map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rect {
    pub(crate) y0: usize,
    pub(crate) y1: usize,
    pub(crate) x0: usize,
    pub(crate) x1: usize,
}

impl Rect {
    /// The one position of pixel `p` (row-major on a `side`-wide map).
    pub(crate) fn pixel(p: usize, side: usize) -> Rect {
        let (y, x) = (p / side, p % side);
        Rect {
            y0: y,
            y1: y + 1,
            x0: x,
            x1: x + 1,
        }
    }

    /// The outputs of a 3x3 conv with padding 1 that read a position of `self`: grown by one
    /// on each side, clipped to the map.
    pub(crate) fn grown(self, side: usize) -> Rect {
        Rect {
            y0: self.y0.saturating_sub(1),
            y1: (self.y1 + 1).min(side),
            x0: self.x0.saturating_sub(1),
            x1: (self.x1 + 1).min(side),
        }
    }

    /// The outputs of a 2x2 max-pool (stride 2) whose window touches `self`.
    pub(crate) fn pooled(self) -> Rect {
        Rect {
            y0: self.y0 / 2,
            y1: self.y1.div_ceil(2),
            x0: self.x0 / 2,
            x1: self.x1.div_ceil(2),
        }
    }

    /// Number of positions.
    #[cfg(test)]
    pub(crate) fn area(self) -> usize {
        (self.y1 - self.y0) * (self.x1 - self.x0)
    }

    /// The positions `(y, x)`, row-major.
    pub(crate) fn positions(self) -> impl Iterator<Item = (usize, usize)> {
        (self.y0..self.y1).flat_map(move |y| (self.x0..self.x1).map(move |x| (y, x)))
    }
}

/// One activation map of a pass: `[side, side, channels]` NHWC at `offset` in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Map {
    pub(crate) side: usize,
    pub(crate) channels: usize,
    pub(crate) offset: usize,
}

impl Map {
    /// Values in the map.
    pub(crate) fn len(self) -> usize {
        self.side * self.side * self.channels
    }

    /// The map's values in a state.
    pub(crate) fn of(self, state: &[f32]) -> &[f32] {
        &state[self.offset..self.offset + self.len()]
    }

    /// The map's values in a state, mutably.
    pub(crate) fn of_mut(self, state: &mut [f32]) -> &mut [f32] {
        &mut state[self.offset..self.offset + self.len()]
    }

    /// The values of position `(y, x)` in a state.
    pub(crate) fn at(self, y: usize, x: usize) -> std::ops::Range<usize> {
        let start = self.offset + (y * self.side + x) * self.channels;
        start..start + self.channels
    }
}

/// Number of maps of a pass: the input, six conv outputs and three pool outputs.
pub(crate) const MAPS: usize = 1 + CONV_LAYERS + 3;

/// The maps of one pass, laid out one after the other in a state of `len` values: map 0 is the
/// input image, then each conv's output (after BatchNorm and ReLU), each followed by its pool's
/// output where a pool follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateLayout {
    pub(crate) maps: [Map; MAPS],
    /// Map read by conv `l`.
    pub(crate) conv_in: [usize; CONV_LAYERS],
    /// Map written by conv `l`.
    pub(crate) conv_out: [usize; CONV_LAYERS],
    /// Map written by the pool after conv `l`, if one follows.
    pub(crate) pool_out: [Option<usize>; CONV_LAYERS],
    /// Values in a state.
    pub(crate) len: usize,
}

impl StateLayout {
    /// The layout for an architecture.
    pub(crate) fn new(arch: &Architecture) -> Self {
        let mut maps = [Map {
            side: 0,
            channels: 0,
            offset: 0,
        }; MAPS];
        let mut len = 0;
        let mut next = 0;
        let mut push = |side: usize, channels: usize| {
            maps[next] = Map {
                side,
                channels,
                offset: len,
            };
            len += side * side * channels;
            next += 1;
            next - 1
        };
        push(IMAGE_SIZE, IN_CHANNELS);
        let mut conv_in = [0; CONV_LAYERS];
        let mut conv_out = [0; CONV_LAYERS];
        let mut pool_out = [None; CONV_LAYERS];
        let mut current = 0;
        for l in 0..CONV_LAYERS {
            conv_in[l] = current;
            let side = arch.spatial(l);
            current = push(side, arch.widths[l]);
            conv_out[l] = current;
            if Architecture::pool_after(l) {
                current = push(side / 2, arch.widths[l]);
                pool_out[l] = Some(current);
            }
        }
        debug_assert_eq!(next, MAPS);
        StateLayout {
            maps,
            conv_in,
            conv_out,
            pool_out,
            len,
        }
    }

    /// The map the classifier reads (the last pool's output).
    pub(crate) fn features(&self) -> Map {
        self.maps[MAPS - 1]
    }

    /// The positions of every map that a change of pixel `p` of the input can reach.
    pub(crate) fn reach(&self, p: usize) -> [Rect; MAPS] {
        let mut rects = [Rect::default(); MAPS];
        rects[0] = Rect::pixel(p, self.maps[0].side);
        for l in 0..CONV_LAYERS {
            let out = self.conv_out[l];
            rects[out] = rects[self.conv_in[l]].grown(self.maps[out].side);
            if let Some(pool) = self.pool_out[l] {
                rects[pool] = rects[out].pooled();
            }
        }
        rects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interior_pixel_reaches_the_counted_windows() {
        let layout = StateLayout::new(&Architecture::default());
        // 132,096 values = 516 KiB per pass.
        assert_eq!(
            layout.len,
            3072 + 2 * 32768 + 8192 + 2 * 16384 + 4096 + 2 * 8192 + 2048
        );
        let r = layout.reach(10 * 32 + 13);
        let areas: Vec<usize> = r.iter().map(|r| r.area()).collect();
        // input 1, conv 3x3, conv 5x5 (rows 8..13), pool rows 4..7 -> 3x3 (cols 11..16 -> 5..8),
        // conv 5x5, conv 7x7, pool 4x4 (rows 1..5), conv 6x6 (rows 0..6), conv 7x7, pool 4x4.
        assert_eq!(areas, [1, 9, 25, 9, 25, 49, 16, 36, 49, 16]);
        // A corner pixel reaches less.
        let c = layout.reach(0);
        assert_eq!(c[1].area(), 4);
        assert_eq!(c[2].area(), 9);
        assert_eq!(c[3].area(), 4);
    }
}
