//! The artifact contract: round trips, byte-identical rewrites, and errors that name the file
//! and the tensor.

use sal_artifact::{Artifact, ArtifactError, ArtifactWriter, Kind, Meta};

fn sample() -> ArtifactWriter {
    let meta = Meta::new(
        Kind::Saliency,
        "attribute",
        serde_json::json!({"methods": ["edge"], "seed": 2}),
    )
    .with_input("train", "k1".into());
    let mut w = ArtifactWriter::new(meta);
    w.add::<u32>("image_index", &[3], &[7, 8, 9]).unwrap();
    w.add::<f32>(
        "saliency.edge",
        &[3, 2, 2],
        &(0..12).map(|i| i as f32 * 0.5).collect::<Vec<_>>(),
    )
    .unwrap();
    w.add::<u8>("label", &[3], &[1, 2, 3]).unwrap();
    w
}

#[test]
fn round_trip_keeps_values_shapes_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saliency.safetensors");
    sample().write(&path).unwrap();
    let a = Artifact::open(&path, Kind::Saliency).unwrap();
    assert_eq!(a.read::<u32>("image_index", &[3]).unwrap(), vec![7, 8, 9]);
    assert_eq!(a.read::<u8>("label", &[3]).unwrap(), vec![1, 2, 3]);
    let (shape, map) = a
        .read_dims::<f32>("saliency.edge", &[None, Some(2), Some(2)])
        .unwrap();
    assert_eq!(shape, vec![3, 2, 2]);
    assert_eq!(map[5], 2.5);
    assert_eq!(a.meta().inputs["train"], "k1");
    assert_eq!(a.meta().schema, "saliency/1");
    let (dtype, shape, values) = a.read_as_f64("image_index").unwrap();
    assert_eq!(
        (dtype.as_str(), shape, values),
        ("U32", vec![3], vec![7.0, 8.0, 9.0])
    );
    assert_eq!(a.read_as_f64("saliency.edge").unwrap().2[5], 2.5);
}

#[test]
fn same_content_gives_same_bytes() {
    assert_eq!(sample().to_bytes().unwrap(), sample().to_bytes().unwrap());
}

#[test]
fn checked_reads_name_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.safetensors");
    sample().write(&path).unwrap();

    let err = Artifact::open(&path, Kind::Metrics).unwrap_err();
    assert!(matches!(err, ArtifactError::WrongSchema { .. }));
    assert!(
        err.to_string().contains("s.safetensors") && err.to_string().contains("metrics/2"),
        "{err}"
    );

    let a = Artifact::open(&path, Kind::Saliency).unwrap();
    let err = a
        .read::<f32>("saliency.deep_taylor", &[3, 2, 2])
        .unwrap_err();
    assert!(
        matches!(err, ArtifactError::MissingTensor { .. })
            && err.to_string().contains("saliency.deep_taylor")
    );
    let err = a.read::<f32>("label", &[3]).unwrap_err();
    assert!(
        matches!(err, ArtifactError::WrongDtype { .. }) && err.to_string().contains("label"),
        "{err}"
    );
    let err = a.read::<f32>("saliency.edge", &[3, 4]).unwrap_err();
    assert!(
        matches!(err, ArtifactError::WrongShape { .. }) && err.to_string().contains("[3, 4]"),
        "{err}"
    );
}

#[test]
fn non_finite_values_are_refused_with_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.safetensors");
    let mut w = ArtifactWriter::new(Meta::new(Kind::Metrics, "metrics", serde_json::json!({})));
    w.add::<f32>("p0", &[3], &[0.5, f32::NAN, 1.0]).unwrap();
    w.write(&path).unwrap();
    let a = Artifact::open(&path, Kind::Metrics).unwrap();
    let err = a.read_finite::<f32>("p0", &[3]).unwrap_err();
    assert!(
        matches!(err, ArtifactError::NonFinite { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = sample().to_bytes().unwrap();
    let path = dir.path().join("t.safetensors");
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let err = Artifact::open(&path, Kind::Saliency).unwrap_err();
    assert!(
        matches!(err, ArtifactError::Parse { .. }) && err.to_string().contains("t.safetensors"),
        "{err}"
    );

    let path = dir.path().join("plain.safetensors");
    let data = [0u8; 4];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::U8, vec![4], &data).unwrap();
    safetensors::serialize_to_file([("x", view)], None, &path).unwrap();
    let err = Artifact::open(&path, Kind::Saliency).unwrap_err();
    assert!(matches!(err, ArtifactError::NoMetadata { .. }), "{err}");

    let err = Artifact::open(&dir.path().join("absent.safetensors"), Kind::Saliency).unwrap_err();
    assert!(err.to_string().contains("absent.safetensors"), "{err}");
}

#[test]
fn writer_refuses_inconsistent_tensors() {
    let mut w = sample();
    assert!(matches!(
        w.add::<u8>("x", &[2, 2], &[1, 2, 3]),
        Err(ArtifactError::LengthMismatch { .. })
    ));
    assert!(matches!(
        w.add::<u8>("label", &[1], &[1]),
        Err(ArtifactError::DuplicateTensor { .. })
    ));
}

#[test]
fn atomic_write_leaves_no_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    sample().write(&path).unwrap();
    sample().write(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a.safetensors")]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o644,
            "artifacts are ordinary readable files, not 0600 temporaries"
        );
    }
}

#[test]
fn input_key_prefers_key_json_and_falls_back_to_a_content_hash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    sample().write(&path).unwrap();
    let key = sal_artifact::input_key(&path).unwrap();
    assert!(key.starts_with("blake3:") && key.len() == 7 + 64, "{key}");
    std::fs::write(
        dir.path().join("key.json"),
        r#"{"key":"abc123","stage":"attribute"}"#,
    )
    .unwrap();
    assert_eq!(sal_artifact::input_key(&path).unwrap(), "abc123");
}
