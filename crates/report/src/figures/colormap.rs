//! Saliency maps as colours: positive relevance red, negative blue, white at 0.

/// The diverging blue-white-red colour of `v` in `[-1, 1]` (matplotlib's `bwr`): -1 is pure
/// blue, 0 white, +1 pure red, linear in between. Values outside are clamped, NaN is white.
pub fn diverging(v: f32) -> [u8; 3] {
    let v = if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) };
    let fade = ((1.0 - v.abs()) * 255.0).round() as u8;
    if v >= 0.0 {
        [255, fade, fade]
    } else {
        [fade, fade, 255]
    }
}

/// A saliency map normalised by its maximum absolute value and coloured with [`diverging`].
/// An all-zero map is white.
///
/// # Shapes
/// `map`: `[side, side]` row-major; returns `[side, side, 3]` u8.
pub fn map_to_rgb(map: &[f32]) -> Vec<u8> {
    let max = map.iter().fold(
        0.0f32,
        |m, v| if v.is_finite() { m.max(v.abs()) } else { m },
    );
    let scale = if max > 0.0 { 1.0 / max } else { 0.0 };
    map.iter().flat_map(|&v| diverging(v * scale)).collect()
}

/// Nearest-neighbour upscaling of an RGB raster by an integer factor.
///
/// # Shapes
/// `rgb`: `[h, w, 3]`; returns `[h * factor, w * factor, 3]`.
pub fn upscale(rgb: &[u8], w: usize, h: usize, factor: usize) -> Vec<u8> {
    assert_eq!(rgb.len(), w * h * 3, "rgb must be [h, w, 3]");
    let (ow, oh) = (w * factor, h * factor);
    let mut out = vec![0u8; ow * oh * 3];
    for y in 0..oh {
        for x in 0..ow {
            let src = ((y / factor) * w + x / factor) * 3;
            out[(y * ow + x) * 3..(y * ow + x) * 3 + 3].copy_from_slice(&rgb[src..src + 3]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_colormap_is_red_for_positive_blue_for_negative_white_at_zero() {
        assert_eq!(diverging(1.0), [255, 0, 0]);
        assert_eq!(diverging(-1.0), [0, 0, 255]);
        assert_eq!(diverging(0.0), [255, 255, 255]);
        assert_eq!(diverging(f32::NAN), [255, 255, 255]);
        assert_eq!(diverging(0.5), [255, 128, 128]);
        assert_eq!(diverging(-2.0), [0, 0, 255]);
    }

    #[test]
    fn maps_are_normalised_by_their_maximum_absolute_value() {
        // max |v| is 4 (a negative value): -4 -> pure blue, 2 -> half red, 0 -> white.
        let rgb = map_to_rgb(&[-4.0, 2.0, 0.0, 4.0]);
        assert_eq!(rgb, [0, 0, 255, 255, 128, 128, 255, 255, 255, 255, 0, 0]);
        assert_eq!(map_to_rgb(&[0.0, 0.0]), [255; 6]);
    }

    #[test]
    fn upscaling_keeps_orientation() {
        // A 2x1 image (red, blue) scaled by 2 is 4x2 with red on the left.
        let out = upscale(&[255, 0, 0, 0, 0, 255], 2, 1, 2);
        let red = [255, 0, 0];
        let blue = [0, 0, 255];
        let row: Vec<u8> = [red, red, blue, blue].concat();
        assert_eq!(out, [row.clone(), row].concat());
    }
}
