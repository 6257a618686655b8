"""Reference values of the similarity measures, from scikit-image and SciPy.

Run: python3 make_reference.py > similarity.json
(measured with scikit-image 0.26.0, SciPy and NumPy 2.4.6). The maps are written into the JSON
too, so the Rust test does not depend on NumPy's generator.

SSIM: skimage.metrics.structural_similarity(a, b, data_range=1.0) (7x7 uniform window).
HOG: skimage.feature.hog(a) with its defaults (9 orientations, 8x8 cells, 3x3 blocks, L2-Hys).
Spearman: scipy.stats.spearmanr over the 1024 pixels (absolute and signed maps).
"""
import json

import numpy as np
import scipy
import skimage
from scipy.stats import pearsonr, spearmanr
from skimage.feature import hog
from skimage.metrics import structural_similarity


def cases():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32]
    blob = lambda cy, cx, s: np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    signed = rng.normal(size=(32, 32))
    yield "uniform_noise", rng.uniform(-1, 1, (32, 32)), rng.uniform(-1, 1, (32, 32))
    yield "shifted_blobs", blob(12, 14, 5) - 0.5 * blob(22, 20, 3), blob(14, 15, 5) - 0.4 * blob(20, 22, 4)
    yield "noisy_copy_with_ties", np.round(signed * 4) / 4, np.round((signed + 0.5 * rng.normal(size=(32, 32))) * 4) / 4


def scaled(m):
    a = np.abs(m)
    return a / a.max()


out = {"versions": {"scikit-image": skimage.__version__, "scipy": scipy.__version__, "numpy": np.__version__}, "cases": []}
for name, a, b in cases():
    sa, sb = scaled(a), scaled(b)
    ha, hb = hog(sa), hog(sb)
    out["cases"].append({
        "name": name,
        "a": a.ravel().tolist(),
        "b": b.ravel().tolist(),
        "ssim": float(structural_similarity(sa, sb, data_range=1.0)),
        "hog_a": ha.tolist(),
        "hog_pearson": float(pearsonr(ha, hb)[0]),
        "spearman_abs": float(spearmanr(np.abs(a).ravel(), np.abs(b).ravel())[0]),
        "spearman_signed": float(spearmanr(a.ravel(), b.ravel())[0]),
    })
print(json.dumps(out))
