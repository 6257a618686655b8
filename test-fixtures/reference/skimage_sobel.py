"""Reference values of the `edge` baseline from scikit-image (run once; output committed).

    pip install scikit-image==0.26.0 numpy
    python3 test-fixtures/reference/skimage_sobel.py > test-fixtures/reference/skimage_sobel.json

Two 32x32 RGB test images built from integer formulas (below, also in the Rust test), and for
each: scikit-image's Sobel magnitude of
  - `luminance_zero`: rgb2gray (0.2125 R + 0.7154 G + 0.0721 B), border pixels masked to 0 (what
    `filters.sobel` did before 0.19, the paper's time; in 0.19+ passing an all-true `mask` does it);
  - `mean_nearest`: the channel mean, border pixels replicated (`mode="nearest"`).
scikit-image divides its Sobel kernels by 4 and the magnitude by sqrt(2).
"""
import json

import numpy as np
from skimage import color, filters


def image(k):
    r, c = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    red = (r * 7 + c * 3 + 11 * k) % 256
    green = ((r - 16) ** 2 + (c - 10) ** 2 + 40 * k) % 256
    blue = (r * c + 5 * k) % 256
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


out = {"skimage_version": __import__("skimage").__version__, "images": []}
for k in range(2):
    rgb = image(k)
    unit = rgb.astype(np.float64) / 255.0
    grey = color.rgb2gray(unit)
    luminance_zero = filters.sobel(grey, mask=np.ones(grey.shape, dtype=bool))
    mean_nearest = filters.sobel(unit.mean(axis=-1), mode="nearest")
    out["images"].append(
        {
            "k": k,
            "luminance_zero": luminance_zero.ravel().tolist(),
            "mean_nearest": mean_nearest.ravel().tolist(),
        }
    )
print(json.dumps(out))
