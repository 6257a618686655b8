//! The imputation fill (ROAD's noisy linear imputation) through the engine: curves and Deltas
//! against a case solved by hand, and the incremental path leaving its rows to full passes.

mod common;

use common::{Linear, Recording, VALUES};
use sal_config::MetricsConfig;
use sal_metrics::{Engine, ImageInput, ImageResult, Protocol};
use sal_model::arch::Architecture;
use sal_model::fast::FastNet;
use sal_model::train::init_weights;
use sal_perturbation::fill::imputation::ImputationFill;
use sal_perturbation::fill::FillSetup;
use sal_perturbation::{Draw, Draws, Normalisation};

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Normalised value = pixel value / 100 in every channel.
fn normalisation() -> Normalisation {
    Normalisation::from_fn(|_, v| f32::from(v) / 100.0)
}

/// Pixel P = (5, 5), Q = (5, 6).
const P: usize = 5 * 32 + 5;
const Q: usize = 5 * 32 + 6;

#[test]
fn imputed_curves_and_deltas_equal_the_hand_solved_system() {
    // Red: P = 2.0, its four direct neighbours (Q among them) 1.0, everything else 0. The
    // model: logit 0 = red of P, logit 1 = 0, so f = sigmoid(red of P) for class 0.
    let mut pixels = vec![0u8; VALUES];
    pixels[P] = 200;
    for n in [P - 1, P + 1, P - 32, P + 32] {
        pixels[n] = 100;
    }
    let mut weights = vec![0.0f32; 2 * VALUES];
    weights[P * 3] = 1.0;
    let mut model = Linear {
        weights,
        classes: 2,
    };
    // The map ranks P first, Q second (MoRF).
    let mut map = vec![0.0f32; 1024];
    map[P] = 2.0;
    map[Q] = 1.0;
    let config = MetricsConfig {
        steps: 2,
        random_orderings: 1,
        faithfulness_pixels: 1024,
        fills: vec!["imputation".into()],
        batch_size: 16,
        ..MetricsConfig::default()
    };
    let protocol = Protocol::new(&config, vec!["m".into()], normalisation()).unwrap();
    let result = Engine::new(&mut model, &protocol)
        .image(
            &ImageInput {
                index: 9,
                predicted: 0,
                pixels: &pixels,
                maps: &[&map],
            },
            &mut |_| {},
        )
        .unwrap();
    let noise = ImputationFill::new(&FillSetup {
        seed: config.seed,
        normalisation: normalisation(),
        draws: Draws::Paired,
    })
    .noise(9, Draw::Shared);
    let n = f64::from(noise[P * 3]);
    assert!(
        n != 0.0 && n.abs() < 0.05,
        "ROAD's noise, 0.01 N(0, 1): {n}"
    );
    let f0 = sigmoid(2.0);
    // Step 1: P alone from its neighbours: 4 x 1/6 x 1.0 = 2/3. Step 2: P and Q together,
    // S_P = 3/6 (kept direct neighbours), S_Q = 2/12 (P's vertical neighbours are Q's
    // diagonal ones): x_P = 36/35 (S_P + S_Q / 6) = 19/35.
    let want = [
        0.0,
        f0 - sigmoid(2.0 / 3.0 + n),
        f0 - sigmoid(19.0 / 35.0 + n),
    ];
    // drop.m.morf.imputation is row 0 of the drops.
    for (k, w) in want.iter().enumerate() {
        assert!(
            (result.drops[k] - w).abs() < 1e-6,
            "step {k}: {} vs {w}",
            result.drops[k]
        );
    }
    // Delta of pixel P alone is step 1's drop; of a pixel the model does not read, 0.
    let at = |pixel: usize| {
        protocol
            .faithfulness_pixels
            .iter()
            .position(|&p| p as usize == pixel)
            .unwrap()
    };
    assert!((result.delta[at(P)] - want[1]).abs() < 1e-6);
    assert_eq!(result.delta[at(Q)], 0.0);
    assert_eq!(
        result.fill_images,
        vec![None],
        "nothing stored for imputation"
    );
}

#[test]
fn the_incremental_path_gives_full_passes_numbers_and_runs_only_imputed_rows_in_full() {
    // The imputing fill between two replacing ones: the incremental chains' logits must land
    // at the rows on both sides of the imputed block.
    let config = MetricsConfig {
        steps: 10,
        random_orderings: 2,
        faithfulness_pixels: 8,
        fills: vec!["mean".into(), "imputation".into(), "uniform".into()],
        batch_size: 40,
        ..MetricsConfig::default()
    };
    let protocol = Protocol::new(&config, vec!["a".into(), "b".into()], normalisation()).unwrap();
    let weights = init_weights(&Architecture::default(), 3);
    let net = FastNet::new(&weights).unwrap();
    let pixels: Vec<u8> = (0..VALUES).map(|i| (i * 37 % 251) as u8).collect();
    let maps: Vec<Vec<f32>> = (0..2)
        .map(|m| (0..1024).map(|p| ((p * (7 + m)) % 31) as f32).collect())
        .collect();
    let mut base = vec![0.0; VALUES];
    normalisation().nchw_to_nhwc(&pixels, &mut base).unwrap();
    let mut logits = vec![0.0; 10];
    sal_model::Classifier::logits(&mut net.clone(), &base, &mut logits).unwrap();
    let predicted = sal_model::inference::argmax_rows(&logits, 10)[0] as u8;
    let run = |incremental: bool| -> (ImageResult, Vec<usize>) {
        let mut recording = Recording {
            inner: net.clone(),
            rows: Vec::new(),
            batches: Vec::new(),
        };
        let mut engine = Engine::new(&mut recording, &protocol);
        if incremental {
            engine = engine.with_incremental(&net);
        }
        let mut reported = 0;
        let result = engine
            .image(
                &ImageInput {
                    index: 4,
                    predicted,
                    pixels: &pixels,
                    maps: &[&maps[0], &maps[1]],
                },
                &mut |rows| reported += rows,
            )
            .unwrap();
        assert_eq!(reported as usize, protocol.passes_per_image());
        (result, recording.batches)
    };
    let (full, full_batches) = run(false);
    let (fast, fast_batches) = run(true);
    assert_eq!(full, fast, "the same results, bitwise");
    assert_eq!(
        full_batches.iter().sum::<usize>(),
        protocol.passes_per_image()
    );
    // Per fill: 2 methods x 2 orders + 2 random curves of 10 steps, 8 single pixels.
    let imputed_rows = (2 * 2 + 2) * 10 + 8;
    assert_eq!(fast_batches.iter().sum::<usize>(), imputed_rows);
    // The imputed curves move (the check is not vacuous) and differ from the mean fill's.
    let width = 11;
    let curve = |fill: usize| &full.drops[fill * width..(fill + 1) * width];
    assert!(curve(1).iter().any(|&d| d != 0.0));
    assert_ne!(curve(0), curve(1));
}
