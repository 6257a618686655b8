//! Data augmentation on u8 images (before normalisation): random crop of a zero-padded image
//! and horizontal flip, as torchvision's `RandomCrop(32, padding)` + `RandomHorizontalFlip()`.

use rand::Rng;
use serde::Serialize;

use crate::arch::{IMAGE_SIZE, IMAGE_VALUES, IN_CHANNELS, PIXELS};

/// What augmentation a run applies (recorded in the model's metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Augmentation {
    /// Zero-padding on each side before a random 32x32 crop (0 = no crop).
    pub crop_padding: usize,
    /// Flip horizontally with probability 1/2.
    pub horizontal_flip: bool,
}

/// Where one image is cropped and whether it is flipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Row offset in the padded image, `0..=2 * padding`.
    pub dy: usize,
    /// Column offset in the padded image, `0..=2 * padding`.
    pub dx: usize,
    /// Mirror the columns after cropping.
    pub flip: bool,
}

impl Augmentation {
    /// Whether this changes any image.
    pub fn is_identity(&self) -> bool {
        self.crop_padding == 0 && !self.horizontal_flip
    }

    /// Draws one image's placement: `dy`, then `dx` (only with padding), then the flip (only
    /// when flipping is on), in that order.
    pub fn draw(&self, rng: &mut impl Rng) -> Placement {
        let p = self.crop_padding;
        let (dy, dx) = if p > 0 {
            (rng.random_range(0..=2 * p), rng.random_range(0..=2 * p))
        } else {
            (0, 0)
        };
        let flip = self.horizontal_flip && rng.random::<bool>();
        Placement { dy, dx, flip }
    }

    /// Writes the augmented image: output pixel (r, c) is padded-image pixel (r + dy, c' + dx)
    /// with c' = 31 - c when flipped, else c; padded pixels outside the image are 0 (black).
    ///
    /// # Shapes
    /// `src`, `dst`: u8 `[3, 32, 32]`.
    pub fn apply(&self, placement: Placement, src: &[u8], dst: &mut [u8]) {
        debug_assert!(src.len() == IMAGE_VALUES && dst.len() == IMAGE_VALUES);
        let p = self.crop_padding as isize;
        let n = IMAGE_SIZE as isize;
        for ch in 0..IN_CHANNELS {
            let (s, d) = (
                &src[ch * PIXELS..(ch + 1) * PIXELS],
                &mut dst[ch * PIXELS..(ch + 1) * PIXELS],
            );
            for r in 0..n {
                let sr = r + placement.dy as isize - p;
                for c in 0..n {
                    let cc = if placement.flip { n - 1 - c } else { c };
                    let sc = cc + placement.dx as isize - p;
                    d[(r * n + c) as usize] = if (0..n).contains(&sr) && (0..n).contains(&sc) {
                        s[(sr * n + sc) as usize]
                    } else {
                        0
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn image() -> Vec<u8> {
        // Non-symmetric: value = channel * 70 + row * 2 + col % 5 + (col > row) as u8.
        (0..IMAGE_VALUES)
            .map(|i| {
                let (ch, r, c) = (i / PIXELS, (i % PIXELS) / 32, i % 32);
                (ch * 70 + r * 2 + c % 5 + usize::from(c > r)) as u8
            })
            .collect()
    }

    #[test]
    fn centred_unflipped_placement_is_the_identity() {
        let aug = Augmentation {
            crop_padding: 4,
            horizontal_flip: true,
        };
        let mut out = vec![0; IMAGE_VALUES];
        aug.apply(
            Placement {
                dy: 4,
                dx: 4,
                flip: false,
            },
            &image(),
            &mut out,
        );
        assert_eq!(out, image());
    }

    #[test]
    fn shift_moves_content_and_pads_with_zero_and_flip_mirrors_columns() {
        let aug = Augmentation {
            crop_padding: 4,
            horizontal_flip: true,
        };
        let src = image();
        let mut out = vec![0; IMAGE_VALUES];
        // dy = 1: output row r = source row r - 3; dx = 6: output col c = source col c + 2.
        aug.apply(
            Placement {
                dy: 1,
                dx: 6,
                flip: false,
            },
            &src,
            &mut out,
        );
        assert_eq!(out[PIXELS + 10 * 32 + 5], src[PIXELS + 7 * 32 + 7]);
        assert_eq!(out[2 * 32 + 5], 0); // source row -1
        assert_eq!(out[20 * 32 + 30], 0); // source col 32
        aug.apply(
            Placement {
                dy: 4,
                dx: 4,
                flip: true,
            },
            &src,
            &mut out,
        );
        assert_eq!(out[2 * PIXELS + 3 * 32], src[2 * PIXELS + 3 * 32 + 31]);
        assert_eq!(out[2 * PIXELS + 3 * 32 + 30], src[2 * PIXELS + 3 * 32 + 1]);
    }

    #[test]
    fn draws_cover_the_range_and_flip_about_half() {
        let aug = Augmentation {
            crop_padding: 2,
            horizontal_flip: true,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let draws: Vec<Placement> = (0..2000).map(|_| aug.draw(&mut rng)).collect();
        assert!(draws.iter().all(|p| p.dy <= 4 && p.dx <= 4));
        assert!(draws.iter().any(|p| p.dy == 0) && draws.iter().any(|p| p.dx == 4));
        let flips = draws.iter().filter(|p| p.flip).count();
        assert!((900..1100).contains(&flips), "{flips}");
        let none = Augmentation {
            crop_padding: 0,
            horizontal_flip: false,
        };
        assert!(none.is_identity());
        assert_eq!(
            none.draw(&mut rng),
            Placement {
                dy: 0,
                dx: 0,
                flip: false
            }
        );
    }
}
