//! Checked reads of artifact files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{SafeTensors, TensorInfo};

use crate::error::{ArtifactError, Result};
use crate::meta::{Meta, METADATA_KEY};
use crate::write::Element;
use crate::Kind;

/// An artifact file, read whole and checked against its schema.
///
/// Tensors are decoded on request by [`Artifact::read`] and friends, which check dtype and
/// shape and name the file and the tensor in every error.
pub struct Artifact {
    path: PathBuf,
    bytes: Vec<u8>,
    data_start: usize,
    tensors: BTreeMap<String, TensorInfo>,
    meta: Meta,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("path", &self.path)
            .field("schema", &self.meta.schema)
            .finish()
    }
}

impl Artifact {
    /// Opens `path` and checks that it holds an artifact of `kind` at the current schema version.
    pub fn open(path: &Path, kind: Kind) -> Result<Self> {
        let artifact = Self::open_any(path)?;
        let expected = kind.schema();
        if artifact.meta.schema != expected {
            return Err(ArtifactError::WrongSchema {
                path: path.to_owned(),
                expected,
                found: artifact.meta.schema.clone(),
            });
        }
        Ok(artifact)
    }

    /// Opens `path` whatever its schema (for inspection tools); the `sal` metadata must be present.
    pub fn open_any(path: &Path) -> Result<Self> {
        let bytes = fs_err::read(path)?;
        let parse_err = |e: safetensors::SafeTensorError| ArtifactError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let (header_len, header) = SafeTensors::read_metadata(&bytes).map_err(parse_err)?;
        // read_metadata checks the offsets against the header, and deserialize checks them
        // against the buffer length (a truncated file fails here).
        SafeTensors::deserialize(&bytes).map_err(parse_err)?;
        let text = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .ok_or_else(|| ArtifactError::NoMetadata {
                path: path.to_owned(),
            })?;
        let meta = Meta::parse(path, text)?;
        let tensors = header
            .tensors()
            .into_iter()
            .map(|(name, info)| (name, info.clone()))
            .collect();
        Ok(Artifact {
            path: path.to_owned(),
            data_start: 8 + header_len,
            bytes,
            tensors,
            meta,
        })
    }

    /// The file this artifact was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Whether a tensor of this name is present.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The names of all tensors, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.tensors
            .get(name)
            .ok_or_else(|| ArtifactError::MissingTensor {
                path: self.path.clone(),
                name: name.to_owned(),
            })
    }

    /// The shape of a tensor.
    pub fn shape(&self, name: &str) -> Result<&[usize]> {
        Ok(&self.info(name)?.shape)
    }

    /// Reads a tensor of element type `T` and exactly this shape.
    ///
    /// # Shapes
    /// Returns `shape.iter().product()` elements in row-major order.
    pub fn read<T: Element>(&self, name: &str, shape: &[usize]) -> Result<Vec<T>> {
        let dims: Vec<Option<usize>> = shape.iter().copied().map(Some).collect();
        self.read_dims(name, &dims).map(|(_, v)| v)
    }

    /// Reads a tensor of element type `T` whose shape matches `dims` (`None` = any size).
    ///
    /// # Shapes
    /// Returns the actual shape and its row-major elements.
    pub fn read_dims<T: Element>(
        &self,
        name: &str,
        dims: &[Option<usize>],
    ) -> Result<(Vec<usize>, Vec<T>)> {
        let info = self.info(name)?;
        if info.dtype != T::DTYPE {
            return Err(ArtifactError::WrongDtype {
                path: self.path.clone(),
                name: name.to_owned(),
                expected: format!("{:?}", T::DTYPE),
                found: format!("{:?}", info.dtype),
            });
        }
        let fits = info.shape.len() == dims.len()
            && info
                .shape
                .iter()
                .zip(dims)
                .all(|(&s, d)| d.is_none_or(|d| d == s));
        if !fits {
            return Err(ArtifactError::WrongShape {
                path: self.path.clone(),
                name: name.to_owned(),
                expected: describe_dims(dims),
                found: info.shape.clone(),
            });
        }
        let (start, end) = info.data_offsets;
        let bytes = &self.bytes[self.data_start + start..self.data_start + end];
        Ok((info.shape.clone(), T::from_le(bytes)))
    }

    /// Any numeric tensor, whatever its dtype, as f64 values (for comparisons and inspection).
    ///
    /// # Shapes
    /// Returns the dtype's name (`U8`, `F32`, ...), the shape and the row-major values.
    pub fn read_as_f64(&self, name: &str) -> Result<(String, Vec<usize>, Vec<f64>)> {
        use safetensors::Dtype;
        fn widen<T: Element>(bytes: &[u8]) -> Vec<f64> {
            T::from_le(bytes).into_iter().map(Element::as_f64).collect()
        }
        let info = self.info(name)?;
        let (start, end) = info.data_offsets;
        let bytes = &self.bytes[self.data_start + start..self.data_start + end];
        let values = match info.dtype {
            Dtype::U8 => widen::<u8>(bytes),
            Dtype::U16 => widen::<u16>(bytes),
            Dtype::U32 => widen::<u32>(bytes),
            Dtype::I64 => widen::<i64>(bytes),
            Dtype::F32 => widen::<f32>(bytes),
            Dtype::F64 => widen::<f64>(bytes),
            other => {
                return Err(ArtifactError::WrongDtype {
                    path: self.path.clone(),
                    name: name.to_owned(),
                    expected: "one of U8, U16, U32, I64, F32, F64".to_owned(),
                    found: format!("{other:?}"),
                })
            }
        };
        Ok((format!("{:?}", info.dtype), info.shape.clone(), values))
    }

    /// Like [`Artifact::read`], and refuses NaN or infinite values.
    pub fn read_finite<T: Element>(&self, name: &str, shape: &[usize]) -> Result<Vec<T>> {
        let values = self.read::<T>(name, shape)?;
        self.check_finite(name, &values)?;
        Ok(values)
    }

    /// An error naming this file and `name` if any value is NaN or infinite.
    pub fn check_finite<T: Element>(&self, name: &str, values: &[T]) -> Result<()> {
        match values.iter().position(|v| !v.as_f64().is_finite()) {
            None => Ok(()),
            Some(index) => Err(ArtifactError::NonFinite {
                path: self.path.clone(),
                name: name.to_owned(),
                index,
                value: values[index].as_f64(),
            }),
        }
    }
}

fn describe_dims(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "_".to_owned(), |d| d.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}
