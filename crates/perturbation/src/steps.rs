//! Writing perturbed images into a batch buffer.
//!
//! x^(k) is the image with the first k pixels of an ordering replaced by the fill's values.
//! [`write_steps`] writes a run of consecutive steps: it builds the first from the image, then
//! each next row is the previous row plus one pixel (a 12 KB copy and 3 stores), never a
//! rebuild from scratch. [`Perturbation::write_steps`] and [`Perturbation::write_single`]
//! choose between these and the imputing fill's writers ([`crate::imputation`]).

use crate::error::{check_len, PerturbationError, Result};
use crate::fill::Perturbation;
use crate::imputation::{write_imputed_single, write_imputed_steps};
use crate::layout::{CHANNELS, IMAGE_VALUES, PIXELS};

impl Perturbation {
    /// Writes x^(k) for every k in `steps` into consecutive rows of `out`, as this kind of
    /// fill makes them: [`write_steps`] with `replacement` as the pixels' values, or
    /// [`write_imputed_steps`] with `replacement` as the noise.
    ///
    /// # Shapes
    /// As [`write_steps`].
    pub fn write_steps(
        self,
        image: &[f32],
        replacement: &[f32],
        ordering: &[u16],
        steps: std::ops::Range<usize>,
        out: &mut [f32],
    ) -> Result<()> {
        match self {
            Perturbation::Replace => write_steps(image, replacement, ordering, steps, out),
            Perturbation::Impute => write_imputed_steps(image, replacement, ordering, steps, out),
        }
    }

    /// Writes, for each of `pixels`, the image with that pixel alone perturbed, as this kind of
    /// fill makes it ([`write_single`] or [`write_imputed_single`]).
    ///
    /// # Shapes
    /// As [`write_single`].
    pub fn write_single(
        self,
        image: &[f32],
        replacement: &[f32],
        pixels: &[u32],
        out: &mut [f32],
    ) -> Result<()> {
        match self {
            Perturbation::Replace => write_single(image, replacement, pixels, out),
            Perturbation::Impute => write_imputed_single(image, replacement, pixels, out),
        }
    }
}

/// Writes x^(k) for every k in `steps` into consecutive rows of `out`.
///
/// Row `j` of `out` is `image` with pixels `ordering[..steps.start + j]` set to their values in
/// `replacement` (all three channels).
///
/// # Shapes
/// `image`, `replacement`: f32 `[32, 32, 3]` normalised NHWC; `ordering`: pixel ids, at least
/// `steps.end - 1` of them; `out`: `[steps.len(), 32, 32, 3]`, overwritten.
pub fn write_steps(
    image: &[f32],
    replacement: &[f32],
    ordering: &[u16],
    steps: std::ops::Range<usize>,
    out: &mut [f32],
) -> Result<()> {
    check_len("image", image.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    check_len(
        "replacement",
        replacement.len(),
        IMAGE_VALUES,
        "[32, 32, 3]",
    )?;
    check_len(
        "perturbed rows",
        out.len(),
        steps.len() * IMAGE_VALUES,
        "[steps, 32, 32, 3]",
    )?;
    if steps.is_empty() {
        return Ok(());
    }
    check_last_step(&steps, ordering.len())?;
    // x^(k) perturbs ordering[..k]; the last row is k = steps.end - 1.
    let used = steps.end - 1;
    if let Some(&bad) = ordering[..used].iter().find(|&&p| usize::from(p) >= PIXELS) {
        return Err(PerturbationError::OutOfRange {
            what: "pixel id".to_owned(),
            value: usize::from(bad),
            max: PIXELS - 1,
        });
    }
    let (first, rest) = out.split_at_mut(IMAGE_VALUES);
    first.copy_from_slice(image);
    for &p in &ordering[..steps.start] {
        set_pixel(first, replacement, usize::from(p));
    }
    let mut previous: &mut [f32] = first;
    for (row, &p) in rest
        .chunks_exact_mut(IMAGE_VALUES)
        .zip(&ordering[steps.start..used])
    {
        row.copy_from_slice(previous);
        set_pixel(row, replacement, usize::from(p));
        previous = row;
    }
    Ok(())
}

/// Checks that an ordering of `ordering_len` pixels reaches the last of `steps` (x^(k) perturbs
/// its first k pixels); an empty range needs none.
pub(crate) fn check_last_step(steps: &std::ops::Range<usize>, ordering_len: usize) -> Result<()> {
    match steps.end.checked_sub(1) {
        Some(last) if last > ordering_len => Err(PerturbationError::OutOfRange {
            what: "last step".to_owned(),
            value: last,
            max: ordering_len,
        }),
        _ => Ok(()),
    }
}

/// Writes, for each pixel of `pixels`, the image with that pixel alone replaced.
///
/// # Shapes
/// `image`, `replacement`: f32 `[32, 32, 3]`; `pixels`: `[n]` pixel ids; `out`:
/// `[n, 32, 32, 3]`, overwritten.
pub fn write_single(
    image: &[f32],
    replacement: &[f32],
    pixels: &[u32],
    out: &mut [f32],
) -> Result<()> {
    check_len("image", image.len(), IMAGE_VALUES, "[32, 32, 3]")?;
    check_len(
        "replacement",
        replacement.len(),
        IMAGE_VALUES,
        "[32, 32, 3]",
    )?;
    check_len(
        "perturbed rows",
        out.len(),
        pixels.len() * IMAGE_VALUES,
        "[pixels, 32, 32, 3]",
    )?;
    for (row, &p) in out.chunks_exact_mut(IMAGE_VALUES).zip(pixels) {
        let p = p as usize;
        if p >= PIXELS {
            return Err(PerturbationError::OutOfRange {
                what: "pixel id".to_owned(),
                value: p,
                max: PIXELS - 1,
            });
        }
        row.copy_from_slice(image);
        set_pixel(row, replacement, p);
    }
    Ok(())
}

/// Sets the three channels of pixel `p` of `row` to those of `replacement`.
#[inline]
fn set_pixel(row: &mut [f32], replacement: &[f32], p: usize) {
    let at = p * CHANNELS;
    row[at..at + CHANNELS].copy_from_slice(&replacement[at..at + CHANNELS]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<f32> {
        (0..IMAGE_VALUES).map(|i| i as f32).collect()
    }

    /// x^(k) built from scratch, the definition.
    fn reference(image: &[f32], replacement: &[f32], ordering: &[u16], k: usize) -> Vec<f32> {
        let mut x = image.to_vec();
        for &p in &ordering[..k] {
            for c in 0..CHANNELS {
                x[usize::from(p) * CHANNELS + c] = replacement[usize::from(p) * CHANNELS + c];
            }
        }
        x
    }

    #[test]
    fn incremental_rows_equal_the_definition_for_any_start() {
        let img = image();
        let replacement: Vec<f32> = (0..IMAGE_VALUES).map(|i| -(i as f32) - 1.0).collect();
        let ordering: Vec<u16> = (0..PIXELS as u16).rev().step_by(3).chain([1, 4]).collect();
        for steps in [0..5, 3..9, 0..1, 7..7] {
            let mut out = vec![f32::NAN; steps.len() * IMAGE_VALUES];
            write_steps(&img, &replacement, &ordering, steps.clone(), &mut out).unwrap();
            for (j, row) in out.chunks_exact(IMAGE_VALUES).enumerate() {
                assert_eq!(
                    row,
                    reference(&img, &replacement, &ordering, steps.start + j).as_slice(),
                    "{steps:?} row {j}"
                );
            }
        }
        let row = &mut vec![0.0; IMAGE_VALUES];
        let two_rows = &mut vec![0.0; 2 * IMAGE_VALUES];
        assert!(write_steps(&img, &replacement, &ordering[..3], 3..5, two_rows).is_err());
        assert!(write_steps(&img, &replacement, &ordering[..3], 2..4, two_rows).is_ok());
        assert!(write_steps(&img, &replacement, &[1024], 1..2, row).is_err());
    }

    #[test]
    fn single_pixel_rows_change_exactly_that_pixel() {
        let img = image();
        let replacement = vec![0.5f32; IMAGE_VALUES];
        let pixels = [0u32, 33, 1023];
        let mut out = vec![0.0; pixels.len() * IMAGE_VALUES];
        write_single(&img, &replacement, &pixels, &mut out).unwrap();
        for (row, &p) in out.chunks_exact(IMAGE_VALUES).zip(&pixels) {
            let changed: Vec<usize> = (0..IMAGE_VALUES).filter(|&i| row[i] != img[i]).collect();
            let p = p as usize;
            assert_eq!(
                changed,
                (p * CHANNELS..p * CHANNELS + CHANNELS).collect::<Vec<_>>()
            );
        }
        assert!(write_single(&img, &replacement, &[1024], &mut vec![0.0; IMAGE_VALUES]).is_err());
    }
}
