//! What the imputation fill costs per step on the host: the time to build x^(k) for k = 1..L
//! (each step one sparse linear system of k unknowns, three channels, solved by conjugate
//! gradients in f64), against nothing else: the forward passes are timed by `sal bench`.
//!
//! `cargo run --release -p sal-perturbation --example imputation_cost [-- IMAGES STEPS]`
//!
//! Random smooth images and random orderings (the solve's cost depends on how many removed
//! pixels touch each other, so a map's clustered orderings cost a little more per step than
//! random ones; both are printed).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sal_perturbation::imputation::write_imputed_steps;
use sal_perturbation::{IMAGE_VALUES, PIXELS};

fn main() {
    let mut args = std::env::args().skip(1);
    let parse =
        |a: Option<String>, default: usize| a.map_or(default, |v| v.parse().expect("a count"));
    let images = parse(args.next(), 20);
    let steps = parse(args.next(), 100);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let noise = vec![0.0f32; IMAGE_VALUES];
    let mut out = vec![0.0f32; steps * IMAGE_VALUES];
    for (name, clustered) in [("random orderings", false), ("clustered orderings", true)] {
        let mut seconds = 0.0;
        for _ in 0..images {
            let image: Vec<f32> = (0..IMAGE_VALUES)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect();
            let mut ordering: Vec<u16> = (0..PIXELS as u16).collect();
            if clustered {
                // Pixels by distance from a random centre: a blob that grows, as MoRF on a
                // saliency map with one object.
                let (r0, c0): (i32, i32) = (rng.random_range(0..32), rng.random_range(0..32));
                ordering.sort_by_key(|&p| {
                    let (r, c) = (i32::from(p) / 32, i32::from(p) % 32);
                    ((r - r0).pow(2) + (c - c0).pow(2), p)
                });
            } else {
                for i in (1..PIXELS).rev() {
                    ordering.swap(i, rng.random_range(0..=i));
                }
            }
            let start = Instant::now();
            write_imputed_steps(&image, &noise, &ordering, 1..steps + 1, &mut out)
                .expect("valid ordering");
            seconds += start.elapsed().as_secs_f64();
        }
        let per_step = seconds / (images * steps) as f64;
        println!(
            "{name}: {:.1} us per imputed step (L = {steps}, {images} images), {:.2} ms per curve",
            per_step * 1e6,
            per_step * steps as f64 * 1e3
        );
    }
}
