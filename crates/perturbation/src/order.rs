//! MoRF and LeRF orderings of the pixels by a relevance map, with seeded tie-breaking.

use std::cmp::Ordering;

use rand::seq::SliceRandom;
pub use sal_artifact::Order;

use crate::error::{check_len, PerturbationError, Result};
use crate::layout::PIXELS;
use crate::seed::{domain, seeded_rng};

/// The random-stream domain of the tie-breaking keys.
const TIES: u64 = domain(b"ties");

/// The tie-breaking keys of one image: a random permutation of `0..1024` drawn from
/// (`seed`, test-set index `image_index`).
///
/// Among pixels of equal relevance the one with the smaller key comes first, in both orders
/// and for every method, so a constant map gives a random (not a raster) order, the same in
/// every run.
///
/// # Shapes
/// Returns `[1024]`, one key per pixel.
pub fn tie_keys(seed: u64, image_index: u32) -> Vec<u16> {
    let mut keys: Vec<u16> = (0..PIXELS as u16).collect();
    keys.shuffle(&mut seeded_rng(seed, TIES, u64::from(image_index)));
    keys
}

/// All 1024 pixel ids of one image in the perturbation order of `order`.
///
/// Relevance is compared as signed values (`-0.0 == 0.0`); ties go to the smaller key.
/// Non-finite relevance is an error.
///
/// # Shapes
/// `relevance`: `[1024]` (a `[32, 32]` map); `keys`: `[1024]` from [`tie_keys`]; returns
/// `[1024]` pixel ids, the first one perturbed first.
pub fn rank_pixels(relevance: &[f32], order: Order, keys: &[u16]) -> Result<Vec<u16>> {
    check_len("relevance map", relevance.len(), PIXELS, "[32, 32]")?;
    check_len("tie-breaking keys", keys.len(), PIXELS, "[1024]")?;
    if let Some(pixel) = relevance.iter().position(|r| !r.is_finite()) {
        return Err(PerturbationError::NonFiniteRelevance {
            pixel,
            value: relevance[pixel],
        });
    }
    let mut ids: Vec<u16> = (0..PIXELS as u16).collect();
    let by_relevance = |a: &u16, b: &u16| -> Ordering {
        let (ra, rb) = (relevance[usize::from(*a)], relevance[usize::from(*b)]);
        let primary = match order {
            Order::Morf => rb.partial_cmp(&ra),
            Order::Lerf => ra.partial_cmp(&rb),
        };
        primary
            .expect("finite values compare")
            .then_with(|| keys[usize::from(*a)].cmp(&keys[usize::from(*b)]))
    };
    ids.sort_unstable_by(by_relevance);
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_follow_the_map() {
        let relevance: Vec<f32> = (0..PIXELS)
            .map(|p| ((p * 37) % 1024) as f32 - 500.0)
            .collect();
        let keys = tie_keys(3, 17);
        let morf = rank_pixels(&relevance, Order::Morf, &keys).unwrap();
        let lerf = rank_pixels(&relevance, Order::Lerf, &keys).unwrap();
        for w in morf.windows(2) {
            assert!(relevance[usize::from(w[0])] >= relevance[usize::from(w[1])]);
        }
        for w in lerf.windows(2) {
            assert!(relevance[usize::from(w[0])] <= relevance[usize::from(w[1])]);
        }
        // Distinct values: LeRF is MoRF reversed, and both are permutations.
        let mut reversed = morf.clone();
        reversed.reverse();
        assert_eq!(lerf, reversed);
        let mut sorted = morf.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..PIXELS as u16).collect::<Vec<_>>());
    }

    #[test]
    fn lerf_starts_with_the_most_negative_pixel() {
        let mut relevance = vec![0.0f32; PIXELS];
        relevance[5] = -3.0;
        relevance[9] = 2.0;
        relevance[700] = -1.0;
        let keys = tie_keys(0, 0);
        assert_eq!(
            &rank_pixels(&relevance, Order::Lerf, &keys).unwrap()[..2],
            &[5, 700]
        );
        assert_eq!(rank_pixels(&relevance, Order::Morf, &keys).unwrap()[0], 9);
        assert_eq!(
            *rank_pixels(&relevance, Order::Morf, &keys)
                .unwrap()
                .last()
                .unwrap(),
            5
        );
    }

    #[test]
    fn ties_are_broken_reproducibly_and_not_in_raster_order() {
        let constant = vec![0.25f32; PIXELS];
        let a = rank_pixels(&constant, Order::Morf, &tie_keys(3, 42)).unwrap();
        let b = rank_pixels(&constant, Order::Morf, &tie_keys(3, 42)).unwrap();
        assert_eq!(a, b, "same seed and image, same order");
        let raster: Vec<u16> = (0..PIXELS as u16).collect();
        assert_ne!(a, raster, "a constant map must not give the raster order");
        assert_ne!(&a[..16], &raster[..16]);
        let other_image = rank_pixels(&constant, Order::Morf, &tie_keys(3, 43)).unwrap();
        let other_seed = rank_pixels(&constant, Order::Morf, &tie_keys(4, 42)).unwrap();
        assert_ne!(a, other_image);
        assert_ne!(a, other_seed);
        // Within a tie the key decides, the same way for both orders; -0.0 ties with 0.0.
        let mut signed = vec![0.0f32; PIXELS];
        signed[..512].fill(-0.0);
        let keys = tie_keys(3, 42);
        assert_eq!(
            rank_pixels(&signed, Order::Morf, &keys).unwrap(),
            rank_pixels(&signed, Order::Lerf, &keys).unwrap()
        );
    }

    #[test]
    fn bad_maps_are_refused() {
        let keys = tie_keys(0, 0);
        let mut map = vec![0.0f32; PIXELS];
        map[3] = f32::NAN;
        assert!(matches!(
            rank_pixels(&map, Order::Morf, &keys),
            Err(PerturbationError::NonFiniteRelevance { pixel: 3, .. })
        ));
        assert!(rank_pixels(&map[..100], Order::Morf, &keys).is_err());
    }
}
