//! The draws shared by all images: random orderings and faithfulness pixels.

use rand::seq::SliceRandom;

use crate::error::{PerturbationError, Result};
use crate::layout::PIXELS;
use crate::seed::{domain, seeded_rng};

/// The random-stream domain of the random orderings.
const RANDOM_ORDERS: u64 = domain(b"randord");
/// The random-stream domain of the faithfulness pixels.
const FAITHFULNESS: u64 = domain(b"faithpx");

/// `count` random orderings of the 1024 pixels, shared by all images.
///
/// Ordering `r` is a uniform permutation drawn from stream `r` of the seed, so asking for more
/// orderings keeps the first ones unchanged.
///
/// # Shapes
/// Returns `[count, 1024]` pixel ids, row-major.
pub fn random_orderings(seed: u64, count: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(count * PIXELS);
    for r in 0..count {
        let mut ids: Vec<u16> = (0..PIXELS as u16).collect();
        ids.shuffle(&mut seeded_rng(seed, RANDOM_ORDERS, r as u64));
        out.extend_from_slice(&ids);
    }
    out
}

/// `count` distinct pixel ids drawn uniformly without replacement, sorted ascending: the
/// pixels perturbed one at a time for faithfulness, shared by all images.
///
/// # Shapes
/// Returns `[count]`.
pub fn faithfulness_pixels(seed: u64, count: usize) -> Result<Vec<u32>> {
    if count > PIXELS {
        return Err(PerturbationError::OutOfRange {
            what: "faithfulness pixels".to_owned(),
            value: count,
            max: PIXELS,
        });
    }
    let mut rng = seeded_rng(seed, FAITHFULNESS, 0);
    let mut ids: Vec<u32> = rand::seq::index::sample(&mut rng, PIXELS, count)
        .into_iter()
        .map(|i| u32::try_from(i).expect("pixel ids fit u32"))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_orderings_are_distinct_permutations_and_prefix_stable() {
        let orders = random_orderings(5, 3);
        assert_eq!(orders.len(), 3 * PIXELS);
        for row in orders.chunks_exact(PIXELS) {
            let mut sorted = row.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..PIXELS as u16).collect::<Vec<_>>());
        }
        assert_ne!(orders[..PIXELS], orders[PIXELS..2 * PIXELS]);
        assert_eq!(random_orderings(5, 1), orders[..PIXELS]);
        assert_ne!(random_orderings(6, 1), orders[..PIXELS]);
    }

    #[test]
    fn faithfulness_pixels_are_distinct_sorted_and_seeded() {
        let px = faithfulness_pixels(3, 100).unwrap();
        assert_eq!(px.len(), 100);
        assert!(px.windows(2).all(|w| w[0] < w[1]));
        assert!(px.iter().all(|&p| (p as usize) < PIXELS));
        assert_eq!(px, faithfulness_pixels(3, 100).unwrap());
        assert_ne!(px, faithfulness_pixels(4, 100).unwrap());
        assert_eq!(faithfulness_pixels(3, PIXELS).unwrap().len(), PIXELS);
        assert!(faithfulness_pixels(3, PIXELS + 1).is_err());
    }
}
