//! Building artifact files and writing them atomically.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use crate::error::{ArtifactError, Result};
use crate::meta::{Meta, METADATA_KEY};

/// A plain element type that can be stored in an artifact tensor (little-endian).
pub trait Element: Copy + Default + Send + Sync + 'static {
    /// The safetensors dtype of this type.
    const DTYPE: Dtype;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_le(values: &[Self], out: &mut Vec<u8>);
    /// Decodes little-endian bytes (length a multiple of `SIZE`).
    fn from_le(bytes: &[u8]) -> Vec<Self>;
    /// The value as f64, for finiteness checks (integers are always finite).
    fn as_f64(self) -> f64;
}

macro_rules! element {
    ($t:ty, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: Dtype = $dtype;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn extend_le(values: &[Self], out: &mut Vec<u8>) {
                out.reserve(values.len() * Self::SIZE);
                for v in values {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            fn from_le(bytes: &[u8]) -> Vec<Self> {
                bytes
                    .chunks_exact(Self::SIZE)
                    .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunk of element size")))
                    .collect()
            }
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    };
}

element!(u8, Dtype::U8);
element!(u16, Dtype::U16);
element!(u32, Dtype::U32);
element!(i64, Dtype::I64);
element!(f32, Dtype::F32);
element!(f64, Dtype::F64);

struct OwnedTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// Collects tensors and metadata, then writes one artifact file atomically.
///
/// The tensors are kept in a sorted map and the metadata is canonical JSON, so the same
/// content always gives the same bytes.
pub struct ArtifactWriter {
    meta: Meta,
    tensors: BTreeMap<String, OwnedTensor>,
}

impl ArtifactWriter {
    /// A writer for an artifact with this metadata.
    pub fn new(meta: Meta) -> Self {
        ArtifactWriter {
            meta,
            tensors: BTreeMap::new(),
        }
    }

    /// The metadata, to add fields after creation.
    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// Adds a tensor.
    ///
    /// # Shapes
    /// `data.len()` must equal the product of `shape`.
    pub fn add<T: Element>(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[T],
    ) -> Result<&mut Self> {
        let expected: usize = shape.iter().product();
        if data.len() != expected {
            return Err(ArtifactError::LengthMismatch {
                name: name.to_owned(),
                len: data.len(),
                shape: shape.to_vec(),
            });
        }
        if self.tensors.contains_key(name) {
            return Err(ArtifactError::DuplicateTensor {
                name: name.to_owned(),
            });
        }
        let mut bytes = Vec::new();
        T::extend_le(data, &mut bytes);
        self.tensors.insert(
            name.to_owned(),
            OwnedTensor {
                dtype: T::DTYPE,
                shape: shape.to_vec(),
                bytes,
            },
        );
        Ok(self)
    }

    /// Names of the tensors added so far, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The complete file content.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let views = self
            .tensors
            .iter()
            .map(|(name, t)| {
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| ArtifactError::Parse {
                        path: name.into(),
                        message: e.to_string(),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata = HashMap::from([(METADATA_KEY.to_owned(), self.meta.to_canonical_json())]);
        safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| ArtifactError::Parse {
            path: "<in memory>".into(),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically: a temporary file in the same folder, synced, then renamed.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes()?)
    }
}

/// Writes `bytes` to `path` atomically: a reader sees either the old file or the whole new one,
/// never a partial file, even if the process is killed midway.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temporary file in {}: {e}", dir.display()),
            )
        })?;
    tmp.write_all(bytes)
        .and_then(|()| readable_by_all(tmp.as_file()))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| {
            std::io::Error::new(e.kind(), format!("writing {}: {e}", tmp.path().display()))
        })?;
    tmp.persist(path).map_err(|e| {
        std::io::Error::new(
            e.error.kind(),
            format!("renaming into {}: {}", path.display(), e.error),
        )
    })?;
    Ok(())
}

/// Gives the file the permissions of an ordinary new file (0644), instead of the 0600 that
/// temporary files get, so artifacts can be shared like any other output.
fn readable_by_all(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
