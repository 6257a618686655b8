//! Ranks with ties as average ranks ("fractional" ranking, as Spearman's rho needs).

/// Which end of the scale gets rank 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The smallest value gets rank 1.
    Ascending,
    /// The largest value gets rank 1.
    Descending,
}

/// Average ranks of `values`: rank 1 for the first value in `direction`, tied values share the
/// mean of the ranks they span (ranks `2, 3` tied give `2.5` each). NaN values are missing:
/// they get a NaN rank and the others are ranked among themselves (1..=m for m non-NaN
/// values).
///
/// # Shapes
/// `values`: [n]; returns [n].
pub fn average_ranks(values: &[f64], direction: Direction) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    average_ranks_into(values, direction, &mut out, &mut Vec::new());
    out
}

/// [`average_ranks`] into a caller's buffer, with a reusable index buffer (no allocation once
/// `order` has grown to `values.len()`).
///
/// # Shapes
/// `values`: [n]; `out`: [n] (overwritten); `order`: any length (scratch).
pub fn average_ranks_into(
    values: &[f64],
    direction: Direction,
    out: &mut [f64],
    order: &mut Vec<usize>,
) {
    assert_eq!(
        values.len(),
        out.len(),
        "average_ranks_into: output length differs from input length"
    );
    order.clear();
    order.extend((0..values.len()).filter(|&i| !values[i].is_nan()));
    match direction {
        Direction::Ascending => order.sort_by(|&a, &b| values[a].total_cmp(&values[b])),
        Direction::Descending => order.sort_by(|&a, &b| values[b].total_cmp(&values[a])),
    }
    out.fill(f64::NAN);
    let mut start = 0;
    while start < order.len() {
        let value = values[order[start]];
        let mut end = start + 1;
        // `==` rather than total_cmp, so that -0.0 and 0.0 tie.
        while end < order.len() && values[order[end]] == value {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_of_their_ranks() {
        let r = average_ranks(&[10.0, 20.0, 20.0, 5.0, 20.0], Direction::Ascending);
        assert_eq!(r, [2.0, 4.0, 4.0, 1.0, 4.0]);
        let r = average_ranks(&[10.0, 20.0, 20.0, 5.0], Direction::Descending);
        assert_eq!(r, [3.0, 1.5, 1.5, 4.0]);
    }

    #[test]
    fn ranks_sum_to_m_m_plus_1_over_2_and_nan_is_missing() {
        let values = [0.3, f64::NAN, -1.0, 0.3, 7.0, 0.0, -0.0];
        let r = average_ranks(&values, Direction::Ascending);
        assert!(r[1].is_nan());
        let finite: Vec<f64> = r.iter().copied().filter(|v| !v.is_nan()).collect();
        assert_eq!(finite.len(), 6);
        assert_eq!(finite.iter().sum::<f64>(), 21.0);
        // -0.0 and 0.0 tie.
        assert_eq!(r[5], r[6]);
        assert_eq!(r[5], 2.5);
    }

    #[test]
    fn reversing_the_direction_maps_rank_r_to_m_plus_1_minus_r() {
        let values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let up = average_ranks(&values, Direction::Ascending);
        let down = average_ranks(&values, Direction::Descending);
        for (a, b) in up.iter().zip(&down) {
            assert_eq!(a + b, values.len() as f64 + 1.0);
        }
    }
}
