//! Which image of each class Figure 1 shows.

use crate::load::saliency::Saliency;

/// The image chosen for one class.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// The class name asked for.
    pub class_name: String,
    /// Row in the saliency artifact.
    pub row: usize,
    /// Index in the test set.
    pub image_index: u32,
    /// Confidence of the (correct) prediction.
    pub confidence: f32,
    /// Whether the confidence reaches the configured minimum.
    pub confident: bool,
}

/// The outcome of choosing Figure 1's images.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picks {
    /// One image per class found, in the order asked.
    pub picks: Vec<Pick>,
    /// Classes asked for that the dataset does not name.
    pub unknown: Vec<String>,
    /// Classes with no correctly classified evaluated image.
    pub absent: Vec<String>,
}

/// For each class in `classes`: the first correctly classified evaluated image, in test-set
/// order, whose confidence is at least `min_confidence`; when there is none, the most confident
/// correctly classified one (ties to the earlier test image).
pub fn pick_examples(
    saliency: &Saliency,
    class_names: &[String],
    classes: &[String],
    min_confidence: f64,
) -> Picks {
    let mut out = Picks::default();
    for class_name in classes {
        let Some(class) = class_names.iter().position(|c| c == class_name) else {
            out.unknown.push(class_name.clone());
            continue;
        };
        let mut correct: Vec<usize> = (0..saliency.len())
            .filter(|&i| {
                usize::from(saliency.label[i]) == class
                    && saliency.predicted[i] == saliency.label[i]
            })
            .collect();
        correct.sort_by_key(|&i| saliency.image_index[i]);
        let confident = correct
            .iter()
            .copied()
            .find(|&i| f64::from(saliency.confidence[i]) >= min_confidence);
        let row = confident.or_else(|| {
            correct.iter().copied().reduce(|best, i| {
                if saliency.confidence[i] > saliency.confidence[best] {
                    i
                } else {
                    best
                }
            })
        });
        match row {
            Some(row) => out.picks.push(Pick {
                class_name: class_name.clone(),
                row,
                image_index: saliency.image_index[row],
                confidence: saliency.confidence[row],
                confident: confident.is_some(),
            }),
            None => out.absent.push(class_name.clone()),
        }
    }
    out
}
