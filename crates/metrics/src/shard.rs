//! `--shard I/N`: a contiguous slice of the images.

use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};

/// Shard `index` of `count` (0-based: `0/8` .. `7/8`, as a Slurm array's `SLURM_ARRAY_TASK_ID`
/// with `--array=0-7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    /// Which shard, `0..count`.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl ShardSpec {
    /// The positions (in the saliency file's image order) of this shard's images, out of
    /// `images`: `[index * images / count, (index + 1) * images / count)`. Every shard gets at
    /// least one image; more shards than images is an error.
    pub fn range(&self, images: usize) -> Result<Range<usize>> {
        if self.count > images {
            return Err(MetricsError::BadShard {
                spec: self.to_string(),
                message: format!(
                    "{} shards for {images} images: use at most one shard per image",
                    self.count
                ),
            });
        }
        Ok(self.index * images / self.count..(self.index + 1) * images / self.count)
    }

    /// The `shard` metadata of a shard file.
    pub fn describe(&self, images: usize) -> Result<ShardInfo> {
        let range = self.range(images)?;
        Ok(ShardInfo {
            index: self.index,
            count: self.count,
            first: range.start,
            end: range.end,
            images_total: images,
        })
    }
}

impl FromStr for ShardSpec {
    type Err = MetricsError;

    fn from_str(spec: &str) -> Result<Self> {
        let bad = |message: &str| MetricsError::BadShard {
            spec: spec.to_owned(),
            message: message.to_owned(),
        };
        let (i, n) = spec.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad("I must be below N"));
        }
        Ok(ShardSpec { index, count })
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard file says about itself (metadata field `shard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Which shard.
    pub index: usize,
    /// How many shards.
    pub count: usize,
    /// First position (in the saliency file's order) it covers.
    pub first: usize,
    /// One past its last position.
    pub end: usize,
    /// Images of the whole run.
    pub images_total: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_cover_every_image_once() {
        let s: ShardSpec = "2/8".parse().unwrap();
        assert_eq!(s, ShardSpec { index: 2, count: 8 });
        assert_eq!(s.to_string(), "2/8");
        for bad in ["8/8", "1", "a/2", "0/0", "-1/3"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
        for (n, count) in [(10, 3), (7, 7), (500, 8), (1, 1)] {
            let mut next = 0;
            for index in 0..count {
                let r = ShardSpec { index, count }.range(n).unwrap();
                assert_eq!(r.start, next);
                assert!(!r.is_empty());
                next = r.end;
            }
            assert_eq!(next, n);
        }
        assert!(ShardSpec { index: 0, count: 4 }.range(3).is_err());
    }
}
