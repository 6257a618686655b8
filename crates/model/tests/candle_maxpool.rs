//! The max-pool's backward against central finite differences, and the candle 0.11.1 trap it
//! replaces (stock `max_pool2d` backward scales a unique maximum's gradient by 1/4).

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use sal_model::candle_net::max_pool_2x2;

/// A fixed random "upstream gradient" and the scalar loss sum(w * pool(x)).
fn loss(pool: impl Fn(&Tensor) -> Tensor, x: &Tensor, w: &Tensor) -> Tensor {
    (pool(x) * w).unwrap().sum_all().unwrap()
}

fn random(shape: (usize, usize, usize, usize), seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..shape.0 * shape.1 * shape.2 * shape.3)
        .map(|_| rng.random::<f64>() * 2.0 - 1.0)
        .collect()
}

#[test]
fn backward_matches_central_finite_differences() {
    let shape = (2, 3, 6, 8);
    let x0 = random(shape, 1);
    let w = Tensor::from_vec(random((2, 3, 3, 4), 2), (2, 3, 3, 4), &Device::Cpu).unwrap();
    let x = Var::from_vec(x0.clone(), shape, &Device::Cpu).unwrap();
    let grads = loss(|t| max_pool_2x2(t).unwrap(), x.as_tensor(), &w)
        .backward()
        .unwrap();
    let analytic = grads
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let h = 1e-6;
    let eval = |v: &[f64]| {
        let t = Tensor::from_slice(v, shape, &Device::Cpu).unwrap();
        loss(|t| max_pool_2x2(t).unwrap(), &t, &w)
            .to_scalar::<f64>()
            .unwrap()
    };
    for i in 0..x0.len() {
        let (mut plus, mut minus) = (x0.clone(), x0.clone());
        plus[i] += h;
        minus[i] -= h;
        let numeric = (eval(&plus) - eval(&minus)) / (2.0 * h);
        assert!(
            (numeric - analytic[i]).abs() < 1e-6,
            "element {i}: numeric {numeric}, analytic {}",
            analytic[i]
        );
    }
    // Exactly one element per window carries the gradient.
    let nonzero = analytic.iter().filter(|g| **g != 0.0).count();
    assert_eq!(nonzero, 2 * 3 * 3 * 4);
}

#[test]
fn forward_agrees_with_candle_on_f32_and_f64() {
    let shape = (2, 4, 8, 8);
    let x = Tensor::from_vec(random(shape, 3), shape, &Device::Cpu).unwrap();
    for dtype in [DType::F32, DType::F64] {
        let x = x.to_dtype(dtype).unwrap();
        let ours = max_pool_2x2(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let stock = x
            .max_pool2d(2)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        assert_eq!(ours, stock, "{dtype:?}");
    }
}

/// Documents the trap (candle 0.11.1): with a unique maximum per window, the stock backward
/// gives that maximum 1/4 of the gradient; with four equal values it gives all four the full
/// gradient. Ours gives 1 and (1, 0, 0, 0). If candle fixes its backward, this test fails and
/// the custom op can be reconsidered.
#[test]
fn stock_candle_max_pool_backward_is_wrong_and_ours_is_not() {
    // [1, 1, 2, 4]: window 0 = (1, 4 / 2, 3) has the unique maximum 4; window 1 = (5, 5 / 5, 5)
    // has four maxima.
    let x0 = vec![1.0f64, 4.0, 5.0, 5.0, 2.0, 3.0, 5.0, 5.0];
    let grad_of = |pool: &dyn Fn(&Tensor) -> Tensor| {
        let x = Var::from_vec(x0.clone(), (1, 1, 2, 4), &Device::Cpu).unwrap();
        let store = pool(x.as_tensor()).sum_all().unwrap().backward().unwrap();
        store
            .get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap()
    };
    let stock = grad_of(&|t| t.max_pool2d(2).unwrap());
    let ours = grad_of(&|t| max_pool_2x2(t).unwrap());
    assert_eq!(ours, vec![0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(stock, vec![0.0, 0.25, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]);
}
