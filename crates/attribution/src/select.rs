//! Which test images are explained, and which training images form the DeepSHAP background.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{AttributionError, Result};

/// The first `per_class` images of each class, in test order.
///
/// The result is ascending (test order), so the classes interleave as they do in the test set;
/// every class contributes exactly `per_class` images. The error names the class that has too
/// few images, or the first label outside `0..classes`.
///
/// # Shapes
/// `labels`: `[n_test]`; returns `[classes * per_class]` test indices, ascending.
pub fn first_per_class(labels: &[u8], classes: usize, per_class: usize) -> Result<Vec<u32>> {
    let mut taken = vec![0usize; classes];
    let mut chosen = Vec::with_capacity(classes * per_class);
    for (i, &label) in labels.iter().enumerate() {
        let class = usize::from(label);
        let Some(count) = taken.get_mut(class) else {
            return Err(AttributionError::TooMany {
                what: format!("class label of test image {i}"),
                wanted: class,
                available: classes,
            });
        };
        if *count < per_class {
            *count += 1;
            chosen.push(u32::try_from(i).expect("test set index fits u32"));
        }
    }
    if let Some((class, &found)) = taken.iter().enumerate().find(|(_, &t)| t < per_class) {
        return Err(AttributionError::TooMany {
            what: format!("images_per_class: test images of class {class}"),
            wanted: per_class,
            available: found,
        });
    }
    Ok(chosen)
}

/// `k` distinct indices out of `0..pool`, drawn with ChaCha8 seeded by `seed`, ascending.
///
/// # Shapes
/// returns `[k]`.
pub fn draw_background(pool: usize, k: usize, seed: u64) -> Result<Vec<u32>> {
    if k > pool {
        return Err(AttributionError::TooMany {
            what: "deep_shap_background: training images".to_owned(),
            wanted: k,
            available: pool,
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut drawn: Vec<u32> = rand::seq::index::sample(&mut rng, pool, k)
        .into_iter()
        .map(|i| u32::try_from(i).expect("training index fits u32"))
        .collect();
    drawn.sort_unstable();
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_per_class_takes_the_first_k_of_each_class_in_test_order() {
        let labels = [2, 0, 1, 0, 2, 1, 0, 1, 2, 2];
        assert_eq!(
            first_per_class(&labels, 3, 2).unwrap(),
            vec![0, 1, 2, 3, 4, 5]
        );
        assert_eq!(first_per_class(&labels, 3, 1).unwrap(), vec![0, 1, 2]);
        let err = first_per_class(&labels, 3, 4).unwrap_err().to_string();
        assert!(err.contains("class 0") && err.contains('3'), "{err}");
        let err = first_per_class(&[0, 5], 3, 1).unwrap_err().to_string();
        assert!(err.contains("test image 1"), "{err}");
    }

    #[test]
    fn background_is_seeded_distinct_and_sorted() {
        let a = draw_background(45_000, 100, 7).unwrap();
        assert_eq!(a, draw_background(45_000, 100, 7).unwrap());
        assert_ne!(a, draw_background(45_000, 100, 8).unwrap());
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && *a.last().unwrap() < 45_000);
        assert_eq!(draw_background(5, 5, 1).unwrap(), vec![0, 1, 2, 3, 4]);
        assert!(draw_background(5, 6, 1).is_err());
    }
}
