//! The `edge` baseline against scikit-image's Sobel filter, on values computed by scikit-image
//! itself (`test-fixtures/reference/skimage_sobel.py`, output committed beside it).

use sal_attribution::methods::edge::{grey, sobel_magnitude, Border, Grey};

/// The fixture's image `k`, u8 NCHW `[3, 32, 32]` (the formulas of the Python script).
fn image(k: i64) -> Vec<u8> {
    let mut px = vec![0u8; 3 * 1024];
    for r in 0..32i64 {
        for c in 0..32i64 {
            let p = (r * 32 + c) as usize;
            px[p] = ((r * 7 + c * 3 + 11 * k) % 256) as u8;
            px[1024 + p] = (((r - 16).pow(2) + (c - 10).pow(2) + 40 * k) % 256) as u8;
            px[2048 + p] = ((r * c + 5 * k) % 256) as u8;
        }
    }
    px
}

#[test]
fn edge_maps_equal_scikit_image_sobel_times_4_sqrt_2() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-fixtures/reference/skimage_sobel.json"
    );
    let text = std::fs::read_to_string(path).expect("the skimage fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let scale = 4.0 * 2f64.sqrt();
    let mut checked = 0;
    for entry in fixture["images"].as_array().unwrap() {
        let k = entry["k"].as_i64().unwrap();
        let pixels = image(k);
        for (key, grey_rule, border) in [
            ("luminance_zero", Grey::Luminance, Border::Zero),
            ("mean_nearest", Grey::ChannelMean, Border::Replicate),
        ] {
            let want: Vec<f64> = entry[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() * scale)
                .collect();
            let mut got = vec![0.0f32; 1024];
            sobel_magnitude(&grey(&pixels, grey_rule), border, &mut got);
            for (p, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(*g) - w).abs() < 2e-5 * (1.0 + w.abs()),
                    "image {k}, {key}, pixel {p}: {g} vs {w}"
                );
            }
            checked += 1;
        }
        // The two variants are really different maps (border and grey both matter).
        let zero: Vec<f64> = entry["luminance_zero"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(zero[..32].iter().all(|&v| v == 0.0) && zero[33] > 0.0);
    }
    assert_eq!(checked, 4);
}
