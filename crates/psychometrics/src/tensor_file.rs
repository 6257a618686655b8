//! Reading one numeric tensor from any safetensors file (not necessarily a sal artifact), for
//! the `sal stats alpha` / `sal stats spearman` utilities.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::error::{Result, StatsError};

/// Reads tensor `name` of `path` as f64 values, checking it has `dims` dimensions.
///
/// Accepts f64, f32, f16, bf16 and every integer dtype (converted to f64; NaN stays NaN).
///
/// # Shapes
/// Returns the tensor's shape (`dims` entries) and its values in row-major order.
pub fn read_f64(path: &Path, name: &str, dims: usize) -> Result<(Vec<usize>, Vec<f64>)> {
    let bytes = fs_err::read(path)?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| StatsError::TensorParse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let view = file.tensor(name).map_err(|_| {
        let mut names: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
        names.sort();
        StatsError::TensorMissing {
            path: path.to_owned(),
            name: name.to_owned(),
            available: names.join(", "),
        }
    })?;
    let shape = view.shape().to_vec();
    if shape.len() != dims {
        return Err(StatsError::TensorRank {
            path: path.to_owned(),
            name: name.to_owned(),
            shape,
            expected: dims,
        });
    }
    let data = view.data();
    macro_rules! decode {
        ($t:ty, $convert:expr) => {
            data.chunks_exact(std::mem::size_of::<$t>())
                .map(|c| {
                    $convert(<$t>::from_le_bytes(
                        c.try_into().expect("chunk of element size"),
                    ))
                })
                .collect()
        };
    }
    let values: Vec<f64> = match view.dtype() {
        Dtype::F64 => decode!(f64, |v| v),
        Dtype::F32 => decode!(f32, f64::from),
        Dtype::F16 => decode!(u16, f16_to_f64),
        Dtype::BF16 => decode!(u16, |b: u16| f64::from(f32::from_bits(u32::from(b) << 16))),
        Dtype::I64 => decode!(i64, |v| v as f64),
        Dtype::I32 => decode!(i32, f64::from),
        Dtype::I16 => decode!(i16, f64::from),
        Dtype::I8 => decode!(i8, f64::from),
        Dtype::U64 => decode!(u64, |v| v as f64),
        Dtype::U32 => decode!(u32, f64::from),
        Dtype::U16 => decode!(u16, f64::from),
        Dtype::U8 => decode!(u8, f64::from),
        other => {
            return Err(StatsError::TensorDtype {
                path: path.to_owned(),
                name: name.to_owned(),
                dtype: format!("{other:?}"),
            })
        }
    };
    Ok((shape, values))
}

/// IEEE half precision to f64.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    fn write(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        fs_err::write(path, safetensors::tensor::serialize(views, None).unwrap()).unwrap();
    }

    #[test]
    fn reads_floats_and_integers_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.safetensors");
        let f32s: Vec<u8> = [1.5f32, f32::NAN, -2.0, 4.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let halves: Vec<u8> = [0x3c00u16, 0xc000, 0x3555]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        write(
            &path,
            &[
                ("ratings", Dtype::F32, vec![2, 2], f32s),
                ("codes", Dtype::U8, vec![3], vec![1, 2, 250]),
                ("half", Dtype::F16, vec![3], halves),
                ("flags", Dtype::BOOL, vec![1], vec![1]),
            ],
        );
        let (shape, v) = read_f64(&path, "ratings", 2).unwrap();
        assert_eq!(shape, [2, 2]);
        assert_eq!((v[0], v[2], v[3]), (1.5, -2.0, 4.0));
        assert!(v[1].is_nan());
        assert_eq!(read_f64(&path, "codes", 1).unwrap().1, [1.0, 2.0, 250.0]);
        let half = read_f64(&path, "half", 1).unwrap().1;
        assert_eq!(&half[..2], &[1.0, -2.0]);
        assert!((half[2] - 1.0 / 3.0).abs() < 1e-3);
        let err = read_f64(&path, "rating", 2).unwrap_err().to_string();
        assert!(
            err.contains("user.safetensors") && err.contains("`rating`") && err.contains("ratings"),
            "{err}"
        );
        let err = read_f64(&path, "codes", 2).unwrap_err().to_string();
        assert!(err.contains("[3]") && err.contains("2 dimension"), "{err}");
        assert!(matches!(
            read_f64(&path, "flags", 1),
            Err(StatsError::TensorDtype { .. })
        ));
        fs_err::write(&path, b"not safetensors").unwrap();
        assert!(matches!(
            read_f64(&path, "ratings", 2),
            Err(StatsError::TensorParse { .. })
        ));
    }
}
