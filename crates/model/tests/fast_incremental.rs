//! The incremental forward against the full forward of every pass it stands for: the same bits.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_model::arch::{Architecture, IMAGE_VALUES, PIXELS};
use sal_model::fast::bench::{random_images, random_weights};
use sal_model::fast::{EditChain, FastNet, IncrementalNet};
use sal_model::{Classifier, ModelError};

/// The images the chains stand for, pass by pass, chain after chain.
fn explicit_passes(base: &[f32], chains: &[EditChain<'_>]) -> Vec<f32> {
    let mut images = Vec::new();
    for chain in chains {
        let mut image = base.to_vec();
        for &p in chain.pixels {
            if !chain.cumulative {
                image.copy_from_slice(base);
            }
            let p = usize::from(p);
            image[3 * p..3 * p + 3].copy_from_slice(&chain.replacement[3 * p..3 * p + 3]);
            images.extend_from_slice(&image);
        }
    }
    images
}

fn check_equal(
    net: &mut FastNet,
    inc: &mut IncrementalNet,
    base: &[f32],
    chains: &[EditChain<'_>],
) {
    let classes = net.num_classes();
    let passes: usize = chains.iter().map(|c| c.pixels.len()).sum();
    let mut base_logits = vec![0.0; classes];
    let mut logits = vec![f32::NAN; passes * classes];
    inc.logits(base, chains, &mut base_logits, &mut logits)
        .unwrap();
    let mut want_base = vec![0.0; classes];
    net.logits(base, &mut want_base).unwrap();
    assert_eq!(base_logits, want_base, "base pass");
    let images = explicit_passes(base, chains);
    let mut want = vec![0.0; passes * classes];
    net.logits(&images, &mut want).unwrap();
    for (i, (got, want)) in logits
        .chunks_exact(classes)
        .zip(want.chunks_exact(classes))
        .enumerate()
    {
        assert_eq!(got, want, "pass {i}");
    }
}

#[test]
fn every_pass_equals_the_full_forward_bitwise() {
    let arch = Architecture::default();
    let mut net = FastNet::new(&random_weights(&arch, 5)).unwrap();
    let base = random_images(1, 6);
    let zeros = vec![0.0f32; IMAGE_VALUES];
    let other = random_images(1, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let orders: Vec<Vec<u16>> = (0..5)
        .map(|_| {
            (0..40)
                .map(|_| rng.random_range(0..PIXELS as u16))
                .collect()
        })
        .collect();
    // Corners, edges, a repeated pixel, and the interior.
    let edges: Vec<u16> = vec![0, 31, 992, 1023, 1023, 16, 512, 543, 33, 0];
    let chains = vec![
        EditChain {
            replacement: &zeros,
            pixels: &orders[0],
            cumulative: true,
        },
        EditChain {
            replacement: &other,
            pixels: &edges,
            cumulative: true,
        },
        EditChain {
            replacement: &other,
            pixels: &orders[1],
            cumulative: false,
        },
        EditChain {
            replacement: &zeros,
            pixels: &[],
            cumulative: true,
        },
        EditChain {
            replacement: &other,
            pixels: &orders[2],
            cumulative: true,
        },
        EditChain {
            replacement: &zeros,
            pixels: &edges,
            cumulative: false,
        },
        EditChain {
            replacement: &other,
            pixels: &orders[3][..7],
            cumulative: true,
        },
        EditChain {
            replacement: &zeros,
            pixels: &orders[4],
            cumulative: false,
        },
    ];
    // All chains in flight at once, and fewer slots than chains (slots are reused).
    for slots in [64, 3, 1] {
        let mut inc = IncrementalNet::new(&net).with_max_slots(slots);
        check_equal(&mut net, &mut inc, &base, &chains);
        // A second image through the same states.
        let base2 = random_images(1, 9);
        check_equal(&mut net, &mut inc, &base2, &chains[..3]);
    }
}

#[test]
fn small_widths_and_bad_inputs() {
    let arch = Architecture::with_widths([4, 4, 8, 8, 8, 8]);
    let mut net = FastNet::new(&random_weights(&arch, 1)).unwrap();
    let mut inc = IncrementalNet::new(&net);
    let base = random_images(1, 2);
    let other = random_images(1, 3);
    let pixels: Vec<u16> = (0..60).map(|i| (i * 37 % 1024) as u16).collect();
    let chains = [
        EditChain {
            replacement: &other,
            pixels: &pixels,
            cumulative: true,
        },
        EditChain {
            replacement: &other,
            pixels: &pixels,
            cumulative: false,
        },
    ];
    check_equal(&mut net, &mut inc, &base, &chains);
    assert_eq!(
        inc.state_bytes(),
        4 * (3072 + 2 * 4096 + 1024 + 2 * 2048 + 512 + 2 * 512 + 128)
    );

    let mut base_logits = vec![0.0; 10];
    let mut logits = vec![0.0; 10];
    let bad = [EditChain {
        replacement: &other,
        pixels: &[1024],
        cumulative: true,
    }];
    let err = inc
        .logits(&base, &bad, &mut base_logits, &mut logits)
        .unwrap_err();
    assert!(matches!(err, ModelError::BadPixel { pixel: 1024 }), "{err}");
    let mut nan = base.clone();
    nan[5] = f32::NAN;
    let one = [EditChain {
        replacement: &other,
        pixels: &[3],
        cumulative: true,
    }];
    let err = inc
        .logits(&nan, &one, &mut base_logits, &mut logits)
        .unwrap_err();
    assert!(matches!(err, ModelError::NonFinite { .. }), "{err}");
    let err = inc
        .logits(&base, &one, &mut base_logits, &mut logits[..5])
        .unwrap_err();
    assert!(matches!(err, ModelError::BadLength { .. }), "{err}");
}
