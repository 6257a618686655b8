//! The similarity measures against scikit-image 0.26 and SciPy (values made by
//! `reference/make_reference.py`, stored in `reference/similarity.json`).

use sal_psychometrics::spearman;
use sal_sanity::similarity::{hog, scale_unit, ssim, Prepared};

struct Case {
    name: String,
    a: Vec<f64>,
    b: Vec<f64>,
    ssim: f64,
    hog_a: Vec<f64>,
    hog_pearson: f64,
    spearman_abs: f64,
    spearman_signed: f64,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/similarity.json"
    );
    let text = std::fs::read_to_string(path).expect("reference file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    };
    json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_owned(),
            a: floats(&c["a"]),
            b: floats(&c["b"]),
            ssim: c["ssim"].as_f64().expect("ssim"),
            hog_a: floats(&c["hog_a"]),
            hog_pearson: c["hog_pearson"].as_f64().expect("hog_pearson"),
            spearman_abs: c["spearman_abs"].as_f64().expect("spearman_abs"),
            spearman_signed: c["spearman_signed"].as_f64().expect("spearman_signed"),
        })
        .collect()
}

fn abs(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.abs()).collect()
}

#[test]
fn ssim_matches_scikit_image() {
    for c in cases() {
        let got = ssim::ssim(&scale_unit(&abs(&c.a)), &scale_unit(&abs(&c.b)), 32);
        assert!(
            (got - c.ssim).abs() < 1e-12,
            "{}: {got} vs {}",
            c.name,
            c.ssim
        );
    }
}

#[test]
fn hog_matches_scikit_image() {
    for c in cases() {
        let got = hog::hog(&scale_unit(&abs(&c.a)), 32);
        assert_eq!(got.len(), c.hog_a.len());
        // scikit-image sums each cell's magnitudes in f32.
        for (i, (g, e)) in got.iter().zip(&c.hog_a).enumerate() {
            assert!((g - e).abs() < 1e-6, "{} feature {i}: {g} vs {e}", c.name);
        }
    }
}

#[test]
fn spearman_matches_scipy() {
    for c in cases() {
        let a = spearman(&abs(&c.a), &abs(&c.b)).unwrap().value;
        let s = spearman(&c.a, &c.b).unwrap().value;
        assert!((a - c.spearman_abs).abs() < 1e-12, "{}: {a}", c.name);
        assert!((s - c.spearman_signed).abs() < 1e-12, "{}: {s}", c.name);
    }
}

#[test]
fn compare_gives_the_four_reference_measures_on_f32_maps() {
    for c in cases() {
        let to_f32 = |v: &[f64]| -> Vec<f32> { v.iter().map(|&x| x as f32).collect() };
        let a = Prepared::new(&to_f32(&c.a)).unwrap();
        let b = Prepared::new(&to_f32(&c.b)).unwrap();
        let got = a.compare(&b).unwrap();
        let expected = [c.spearman_abs, c.spearman_signed, c.ssim, c.hog_pearson];
        // Rounding the maps to f32 moves a few near-equal pixels' ranks (the blobs' tails).
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-3, "{}: {got:?} vs {expected:?}", c.name);
        }
    }
}
