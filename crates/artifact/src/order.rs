//! The two pixel orders of the AOPC curves, as they appear in tensor names.

use std::fmt;

/// In which order a relevance map's pixels are perturbed (Samek et al.'s MoRF and LeRF).
///
/// Part of the contract: [`Order::name`] is the `<order>` of `curve.<method>.<order>.<fill>`
/// and `order.<method>.<order>` in `metrics.safetensors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Order {
    /// Most relevant first: descending signed relevance; a higher AOPC is better.
    Morf,
    /// Least relevant first: ascending signed relevance (most negative first); a lower AOPC
    /// is better.
    Lerf,
}

impl Order {
    /// Both orders, MoRF first: the order of the tensors and of the paper's Figure 2a.
    pub const ALL: [Order; 2] = [Order::Morf, Order::Lerf];

    /// The name in tensor names: `morf` or `lerf`.
    pub fn name(self) -> &'static str {
        match self {
            Order::Morf => "morf",
            Order::Lerf => "lerf",
        }
    }

    /// The paper's spelling: `MoRF` or `LeRF`.
    pub fn label(self) -> &'static str {
        match self {
            Order::Morf => "MoRF",
            Order::Lerf => "LeRF",
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_match_the_contract() {
        let names: Vec<_> = Order::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names, ["morf", "lerf"]);
        let labels: Vec<_> = Order::ALL.iter().map(|o| o.label()).collect();
        assert_eq!(labels, ["MoRF", "LeRF"]);
        assert_eq!(Order::Lerf.to_string(), "lerf");
        assert!(Order::Morf < Order::Lerf);
    }
}
