//! From logits to f(x), without losing the information that f32 rounding throws away.
//!
//! f(x) is the softmax probability of one class. Once that class's logit margin is above about
//! 17, f rounds to exactly 1.0 in f32 (and above about 37 in f64), so a difference of two such
//! values is 0 although the exact drop is not. The engine therefore follows the **complement**
//! `q = 1 - f = sum_{j != c} p_j`, computed directly from the logits in f64:
//!
//! `q = s / (e_c + s)`, with `e_j = exp(z_j - max_j z_j)` and `s = sum_{j != c} e_j`,
//!
//! which has full relative precision however small it is (down to f64's 1e-308, a margin of
//! about 708), and every drop `f(x) - f(x') = q' - q` is a difference of two such numbers.

/// f and its complement for one row of logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassProbability {
    /// f = p_c in f64.
    pub p: f64,
    /// 1 - f = the other classes' total probability, in f64, without cancellation.
    pub q: f64,
    /// f as the f32 softmax of earlier versions computed it (max-subtracted in f32, summed in
    /// f64, rounded to f32): only to count what saturated before.
    pub p_f32: f32,
}

/// f, 1 - f and the f32 f of class `class` for a row of logits.
///
/// # Shapes
/// `logits`: `[classes]`, `class < classes`.
pub fn class_probability(logits: &[f32], class: usize) -> ClassProbability {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let max64 = f64::from(max);
    let (mut others, mut sum_f32_way) = (0.0f64, 0.0f64);
    let mut own = 0.0f64;
    for (j, &z) in logits.iter().enumerate() {
        let e = (f64::from(z) - max64).exp();
        sum_f32_way += f64::from(z - max).exp();
        if j == class {
            own = e;
        } else {
            others += e;
        }
    }
    let total = own + others;
    ClassProbability {
        p: own / total,
        q: others / total,
        p_f32: (f64::from(logits[class] - max).exp() / sum_f32_way) as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_margins_agree_with_the_plain_softmax() {
        let logits = [1.0f32, -0.5, 2.0, 0.25];
        let exps: Vec<f64> = logits.iter().map(|&z| f64::from(z).exp()).collect();
        let total: f64 = exps.iter().sum();
        let got = class_probability(&logits, 2);
        assert!((got.p - exps[2] / total).abs() < 1e-15);
        assert!((got.q - (total - exps[2]) / total).abs() < 1e-15);
        assert!((got.p + got.q - 1.0).abs() < 1e-15);
        assert!((f64::from(got.p_f32) - exps[2] / total).abs() < 1e-7);
    }

    #[test]
    fn a_margin_of_40_keeps_the_complement_where_f32_and_f64_saturate() {
        // Class 0 at 40, the others at 0: q = 9 e^-40 / (1 + 9 e^-40).
        let mut logits = [0.0f32; 10];
        logits[0] = 40.0;
        let got = class_probability(&logits, 0);
        let e = (-40.0f64).exp();
        let exact = 9.0 * e / (1.0 + 9.0 * e);
        assert_eq!(got.p_f32, 1.0, "f32 saturates");
        assert_eq!(got.p, 1.0, "so does f64");
        assert!(
            ((got.q - exact) / exact).abs() < 1e-14,
            "{} vs {exact}",
            got.q
        );
        // One other logit up by 0.5: the drop is q' - q, about 1.1e-17, exactly known.
        logits[3] = 0.5;
        let moved = class_probability(&logits, 0);
        let exact_moved =
            (8.0 * e + (0.5f64 - 40.0).exp()) / (1.0 + 8.0 * e + (0.5f64 - 40.0).exp());
        let drop = moved.q - got.q;
        assert!(drop > 0.0 && drop.is_finite());
        assert!(((drop - (exact_moved - exact)) / (exact_moved - exact)).abs() < 1e-9);
        assert_eq!(f64::from(moved.p_f32) - f64::from(got.p_f32), 0.0);
    }

    #[test]
    fn a_class_that_is_not_the_arg_max_has_a_large_complement() {
        let got = class_probability(&[0.0, 3.0], 0);
        let exact = 1.0 / (1.0 + 3.0f64.exp());
        assert!((got.p - exact).abs() < 1e-15 && (got.q - (1.0 - exact)).abs() < 1e-15);
    }
}
