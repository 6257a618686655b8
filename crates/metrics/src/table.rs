//! Per-image tensors: the unit that chunks, checkpoints and shards are made of.
//!
//! A [`Table`] holds, for a run of consecutive images, every tensor that has an image axis.
//! Tables of consecutive runs concatenate into the table of the whole run, whatever the cuts.

use sal_artifact::{Artifact, ArtifactWriter};

use crate::error::{MetricsError, Result};

/// Element type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// u8
    U8,
    /// u16
    U16,
    /// u32
    U32,
    /// f32
    F32,
    /// f64
    F64,
}

/// The values of a column, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// u8 values.
    U8(Vec<u8>),
    /// u16 values.
    U16(Vec<u16>),
    /// u32 values.
    U32(Vec<u32>),
    /// f32 values.
    F32(Vec<f32>),
    /// f64 values.
    F64(Vec<f64>),
}

/// Runs `$body` with `$v` bound to the typed vector of a [`Data`].
macro_rules! with_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            Data::U8($v) => $body,
            Data::U16($v) => $body,
            Data::U32($v) => $body,
            Data::F32($v) => $body,
            Data::F64($v) => $body,
        }
    };
}

impl Data {
    /// Number of values.
    pub fn len(&self) -> usize {
        with_data!(self, v => v.len())
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            Data::U8(_) => Dtype::U8,
            Data::U16(_) => Dtype::U16,
            Data::U32(_) => Dtype::U32,
            Data::F32(_) => Dtype::F32,
            Data::F64(_) => Dtype::F64,
        }
    }

    /// The f32 values, if this is an f32 column.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self {
            Data::F32(v) => Some(v),
            _ => None,
        }
    }

    /// The f64 values, if this is an f64 column.
    pub fn as_f64(&self) -> Option<&[f64]> {
        match self {
            Data::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The u32 values, if this is a u32 column.
    pub fn as_u32(&self) -> Option<&[u32]> {
        match self {
            Data::U32(v) => Some(v),
            _ => None,
        }
    }
}

/// What a column is: name, type, and where its image axis sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Tensor name.
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// The shape without the image axis.
    pub item_shape: Vec<usize>,
    /// Position of the image axis in the full shape (0, or 1 for `[R, N, L+1]`).
    pub image_axis: usize,
}

impl ColumnSpec {
    /// A column with the image axis first.
    pub fn new(name: String, dtype: Dtype, item_shape: &[usize]) -> Self {
        ColumnSpec {
            name,
            dtype,
            item_shape: item_shape.to_vec(),
            image_axis: 0,
        }
    }

    /// The full shape for `images` images.
    pub fn shape(&self, images: usize) -> Vec<usize> {
        let mut shape = self.item_shape.clone();
        shape.insert(self.image_axis, images);
        shape
    }

    /// Values before the image axis (the number of blocks) and after it (per image per block).
    fn outer_inner(&self) -> (usize, usize) {
        let outer = self.item_shape[..self.image_axis].iter().product();
        let inner = self.item_shape[self.image_axis..].iter().product();
        (outer, inner)
    }
}

/// A column: its spec and its values for the table's images.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// What it is.
    pub spec: ColumnSpec,
    /// Its values, shape `spec.shape(images)`.
    pub data: Data,
}

/// Every per-image tensor of a run of consecutive images.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Number of images.
    pub images: usize,
    /// The columns, in schema order.
    pub columns: Vec<Column>,
}

impl Table {
    /// A table from columns; checks every column's length against `images`.
    pub fn new(images: usize, columns: Vec<Column>) -> Result<Self> {
        for c in &columns {
            let expected: usize = c.spec.shape(images).iter().product();
            if c.data.len() != expected || c.data.dtype() != c.spec.dtype {
                return Err(MetricsError::BadLength {
                    what: format!("column `{}` ({:?})", c.spec.name, c.data.dtype()),
                    expected,
                    found: c.data.len(),
                    shape: format!("{:?} {:?}", c.spec.shape(images), c.spec.dtype),
                });
            }
        }
        Ok(Table { images, columns })
    }

    /// The column of this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.spec.name == name)
    }

    /// The specs of the columns.
    pub fn specs(&self) -> Vec<ColumnSpec> {
        self.columns.iter().map(|c| c.spec.clone()).collect()
    }

    /// The tables of consecutive runs of images joined into one, in the given order.
    ///
    /// All parts must have the same columns; columns with the image axis at position 1 are
    /// joined along that axis.
    pub fn concat(parts: &[Table]) -> Result<Table> {
        let Some(first) = parts.first() else {
            return Ok(Table {
                images: 0,
                columns: Vec::new(),
            });
        };
        let specs = first.specs();
        if let Some(bad) = parts.iter().find(|p| p.specs() != specs) {
            let names = |t: &Table| {
                t.columns
                    .iter()
                    .map(|c| c.spec.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(MetricsError::BadLength {
                what: format!(
                    "tables to join: columns [{}] vs [{}]",
                    names(first),
                    names(bad)
                ),
                expected: specs.len(),
                found: bad.columns.len(),
                shape: "the same columns".to_owned(),
            });
        }
        let images = parts.iter().map(|p| p.images).sum();
        let columns = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let (outer, inner) = spec.outer_inner();
                let pieces: Vec<(&Data, usize)> = parts
                    .iter()
                    .map(|p| (&p.columns[i].data, p.images))
                    .collect();
                Column {
                    spec: spec.clone(),
                    data: join(&pieces, outer, inner),
                }
            })
            .collect();
        Table::new(images, columns)
    }

    /// Adds every column for which `keep(name)` holds to `writer`.
    pub fn add_to(&self, writer: &mut ArtifactWriter, keep: impl Fn(&str) -> bool) -> Result<()> {
        for c in self.columns.iter().filter(|c| keep(&c.spec.name)) {
            let shape = c.spec.shape(self.images);
            with_data!(&c.data, v => writer.add(&c.spec.name, &shape, v))?;
        }
        Ok(())
    }

    /// Reads these columns from an artifact; all must have the same number of images.
    pub fn read(artifact: &Artifact, specs: &[ColumnSpec]) -> Result<Table> {
        let mut images = None;
        let mut columns = Vec::with_capacity(specs.len());
        for spec in specs {
            let mut dims: Vec<Option<usize>> = spec.item_shape.iter().copied().map(Some).collect();
            dims.insert(spec.image_axis, images);
            let (shape, data) = match spec.dtype {
                Dtype::U8 => artifact
                    .read_dims::<u8>(&spec.name, &dims)
                    .map(|(s, v)| (s, Data::U8(v)))?,
                Dtype::U16 => artifact
                    .read_dims::<u16>(&spec.name, &dims)
                    .map(|(s, v)| (s, Data::U16(v)))?,
                Dtype::U32 => artifact
                    .read_dims::<u32>(&spec.name, &dims)
                    .map(|(s, v)| (s, Data::U32(v)))?,
                Dtype::F32 => artifact
                    .read_dims::<f32>(&spec.name, &dims)
                    .map(|(s, v)| (s, Data::F32(v)))?,
                Dtype::F64 => artifact
                    .read_dims::<f64>(&spec.name, &dims)
                    .map(|(s, v)| (s, Data::F64(v)))?,
            };
            images = Some(shape[spec.image_axis]);
            columns.push(Column {
                spec: spec.clone(),
                data,
            });
        }
        Table::new(images.unwrap_or(0), columns)
    }
}

/// Joins pieces `(data, images)` of one column along its image axis.
fn join(pieces: &[(&Data, usize)], outer: usize, inner: usize) -> Data {
    fn typed<T: Copy>(pieces: &[(&[T], usize)], outer: usize, inner: usize) -> Vec<T> {
        let total: usize = pieces.iter().map(|(v, _)| v.len()).sum();
        let mut out = Vec::with_capacity(total);
        for o in 0..outer {
            for (values, images) in pieces {
                let block = images * inner;
                out.extend_from_slice(&values[o * block..(o + 1) * block]);
            }
        }
        out
    }
    macro_rules! join_as {
        ($variant:ident) => {{
            let typed_pieces: Vec<(&[_], usize)> = pieces
                .iter()
                .map(|(d, n)| match d {
                    Data::$variant(v) => (v.as_slice(), *n),
                    _ => unreachable!("specs are equal, so dtypes are"),
                })
                .collect();
            Data::$variant(typed(&typed_pieces, outer, inner))
        }};
    }
    match pieces[0].0 {
        Data::U8(_) => join_as!(U8),
        Data::U16(_) => join_as!(U16),
        Data::U32(_) => join_as!(U32),
        Data::F32(_) => join_as!(F32),
        Data::F64(_) => join_as!(F64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(first: u32, images: usize) -> Table {
        let idx = ColumnSpec::new("image_index".into(), Dtype::U32, &[]);
        let mut random = ColumnSpec::new("curve.random.mean".into(), Dtype::F32, &[2, 3]);
        random.image_axis = 1;
        let index: Vec<u32> = (first..first + images as u32).collect();
        // value = r * 1000 + image * 10 + k
        let mut values = Vec::new();
        for r in 0..2u32 {
            for &i in &index {
                for k in 0..3u32 {
                    values.push((r * 1000 + i * 10 + k) as f32);
                }
            }
        }
        Table::new(
            images,
            vec![
                Column {
                    spec: idx,
                    data: Data::U32(index),
                },
                Column {
                    spec: random,
                    data: Data::F32(values),
                },
            ],
        )
        .unwrap()
    }

    #[test]
    fn concat_joins_along_each_image_axis_whatever_the_cuts() {
        let whole = table(0, 5);
        for cuts in [vec![5], vec![2, 3], vec![1, 1, 3], vec![4, 1]] {
            let mut parts = Vec::new();
            let mut first = 0;
            for n in cuts {
                parts.push(table(first, n));
                first += n as u32;
            }
            assert_eq!(Table::concat(&parts).unwrap(), whole);
        }
        assert_eq!(
            whole.column("curve.random.mean").unwrap().spec.shape(5),
            vec![2, 5, 3]
        );
        assert!(Table::new(2, table(0, 3).columns).is_err());
    }
}
