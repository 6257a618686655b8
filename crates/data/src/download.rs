//! Fetching the official archive: download with progress, MD5 check, extraction of the batch
//! files. Every step writes to a temporary name and renames when complete, so an interrupted
//! run never leaves something that looks finished.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::read::GzDecoder;
use md5::{Digest, Md5};
use tracing::info;

use crate::batch::hex;
use crate::error::{DataError, Result};
use crate::official::{
    batch_files, ARCHIVE_DIR, ARCHIVE_FILE, ARCHIVE_MD5, ARCHIVE_URL, META_FILE,
};
use crate::progress::bytes_bar;

/// The batch files of a previous download in `downloads_dir`, fetching and unpacking the
/// official archive first when they are not all there.
///
/// Layout: `downloads_dir/cifar-10-binary.tar.gz` (kept, so a failed extraction does not cost
/// another download) and `downloads_dir/cifar-10-batches-bin/`. Returns the latter.
pub fn fetch_official(downloads_dir: &Path, progress: bool) -> Result<PathBuf> {
    fetch_from(ARCHIVE_URL, ARCHIVE_MD5, downloads_dir, progress)
}

/// [`fetch_official`] from any URL with the given archive MD5 (tests use a loopback URL).
pub(crate) fn fetch_from(
    url: &str,
    md5: &str,
    downloads_dir: &Path,
    progress: bool,
) -> Result<PathBuf> {
    let dest = downloads_dir.join(ARCHIVE_DIR);
    if has_all_batches(&dest) {
        info!(dir = %dest.display(), "using the CIFAR-10 batches downloaded earlier");
        return Ok(dest);
    }
    let archive = downloads_dir.join(ARCHIVE_FILE);
    let have_archive = archive.is_file() && md5_file(&archive)? == md5;
    if !have_archive {
        info!(url, to = %archive.display(), "downloading CIFAR-10 (about 163 MB)");
        fs_err::create_dir_all(downloads_dir)
            .map_err(DataError::from)
            .and_then(|()| download(url, &archive, md5, progress))
            .map_err(|e| match e {
                DataError::Io(io) => DataError::Download {
                    url: url.to_owned(),
                    downloads: downloads_dir.to_owned(),
                    message: io.to_string(),
                },
                other => other,
            })?;
    }
    info!(archive = %archive.display(), to = %dest.display(), "unpacking the batch files");
    extract_batches(&archive, &dest)?;
    Ok(dest)
}

/// Whether `dir` holds the six batch files (not whether they are good: reading checks that).
pub fn has_all_batches(dir: &Path) -> bool {
    batch_files().all(|name| dir.join(name).is_file())
}

/// Downloads `url` to `dest`, checking that its MD5 is `expected_md5` (lower-case hex).
///
/// Streams into a temporary file beside `dest`, hashing as it goes, and renames it to `dest`
/// only when the download is complete and the MD5 matches. Network failures are returned as
/// [`DataError::Io`] with the URL in the message.
pub fn download(url: &str, dest: &Path, expected_md5: &str, progress: bool) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let net_err = |e: ureq::Error| std::io::Error::other(format!("GET {url}: {e}"));
    let response = agent.get(url).call().map_err(net_err)?;
    let body = response.into_body();
    let bar = bytes_bar(body.content_length(), "downloading", progress);
    let mut reader = bar.wrap_read(body.into_reader());

    let dir = parent_dir(dest);
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temporary file in {}: {e}", dir.display()),
            )
        })?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buffer).map_err(|e| {
            std::io::Error::new(e.kind(), format!("GET {url}: reading the response: {e}"))
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        tmp.write_all(&buffer[..n]).map_err(|e| {
            std::io::Error::new(e.kind(), format!("writing {}: {e}", tmp.path().display()))
        })?;
    }
    bar.finish_and_clear();
    let found = hex(&hasher.finalize());
    if found != expected_md5 {
        // The temporary file is deleted when `tmp` drops.
        return Err(DataError::ArchiveChecksum {
            path: dest.to_owned(),
            expected: expected_md5.to_owned(),
            found,
        });
    }
    tmp.as_file().sync_all()?;
    tmp.persist(dest).map_err(|e| {
        std::io::Error::new(
            e.error.kind(),
            format!("renaming into {}: {}", dest.display(), e.error),
        )
    })?;
    Ok(())
}

/// MD5 of a file's bytes, lower-case hex.
pub fn md5_file(path: &Path) -> Result<String> {
    let mut file = BufReader::with_capacity(1 << 20, fs_err::File::open(path)?);
    let mut hasher = Md5::new();
    std::io::copy(&mut file, &mut hasher)
        .map_err(|e| std::io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    Ok(hex(&hasher.finalize()))
}

/// Unpacks the six batch files (and `batches.meta.txt` when present) from a `.tar.gz` into
/// `dest`.
///
/// Entries are matched by file name wherever they sit in the archive (the official one has
/// them under `cifar-10-batches-bin/`) and written under that bare name, so no archive path can
/// escape `dest`. Everything is written into a temporary folder beside `dest`, which is renamed
/// to `dest` only when all six batch files were found; a `dest` left incomplete by someone else
/// is replaced.
pub fn extract_batches(archive: &Path, dest: &Path) -> Result<()> {
    let archive_err = |message: String| DataError::Archive {
        path: archive.to_owned(),
        message,
    };
    let parent = parent_dir(dest);
    fs_err::create_dir_all(parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(parent)
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating a temporary folder in {}: {e}", parent.display()),
            )
        })?;

    let file = BufReader::with_capacity(1 << 20, fs_err::File::open(archive)?);
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let wanted: Vec<&str> = batch_files().chain(std::iter::once(META_FILE)).collect();
    let mut found: Vec<&str> = Vec::new();
    let entries = tar
        .entries()
        .map_err(|e| archive_err(format!("not a readable tar.gz archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| archive_err(format!("not a readable tar.gz archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| archive_err(format!("an entry has an unreadable path: {e}")))?;
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| wanted.iter().find(|w| **w == n))
        else {
            continue;
        };
        let target = tmp.path().join(name);
        let mut out = fs_err::File::create(&target)?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| archive_err(format!("unpacking {name} into {}: {e}", target.display())))?;
        out.sync_all()?;
        found.push(name);
    }
    let missing: Vec<&str> = batch_files().filter(|name| !found.contains(name)).collect();
    if !missing.is_empty() {
        return Err(archive_err(format!(
            "the archive lacks {}: it is not the CIFAR-10 binary version; delete it and run again",
            missing.join(", ")
        )));
    }
    if dest.exists() {
        fs_err::remove_dir_all(dest)?;
    }
    let kept = tmp.keep();
    fs_err::rename(&kept, dest)?;
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;

    /// A tiny .tar.gz with the given (path, content) entries.
    fn tar_gz(path: &Path, entries: &[(&str, &[u8])]) {
        let file = std::fs::File::create(path).unwrap();
        let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
        for (name, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *content).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn md5_of_a_file_matches_a_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.txt");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(md5_file(&path).unwrap(), "900150983cd24fb0d6963f7d28e17f72");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(md5_file(&path).unwrap(), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn the_batch_files_are_extracted_by_name_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar.gz");
        let mut entries: Vec<(String, Vec<u8>)> = batch_files()
            .map(|n| (format!("cifar-10-batches-bin/{n}"), n.as_bytes().to_vec()))
            .collect();
        entries.push(("cifar-10-batches-bin/readme.html".into(), b"x".to_vec()));
        entries.push((
            "cifar-10-batches-bin/batches.meta.txt".into(),
            b"airplane\n".to_vec(),
        ));
        let refs: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        tar_gz(&archive, &refs);

        let dest = dir.path().join("out").join(ARCHIVE_DIR);
        extract_batches(&archive, &dest).unwrap();
        assert!(has_all_batches(&dest));
        for name in batch_files() {
            assert_eq!(std::fs::read(dest.join(name)).unwrap(), name.as_bytes());
        }
        assert_eq!(std::fs::read(dest.join(META_FILE)).unwrap(), b"airplane\n");
        assert!(!dest.join("readme.html").exists());
        // Only `dest` was created beside it: no temporary folder is left.
        let siblings: Vec<_> = std::fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(siblings.len(), 1);
    }

    #[test]
    fn an_archive_without_every_batch_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar.gz");
        tar_gz(
            &archive,
            &[
                ("cifar-10-batches-bin/data_batch_1.bin", b"1"),
                ("test_batch.bin", b"t"),
            ],
        );
        let dest = dir.path().join("out").join(ARCHIVE_DIR);
        let err = extract_batches(&archive, &dest).unwrap_err().to_string();
        assert!(
            err.contains("a.tar.gz")
                && err.contains("data_batch_2.bin")
                && !err.contains("test_batch"),
            "{err}"
        );
        assert!(!dest.exists());
        assert_eq!(
            std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
            0
        );
    }

    #[test]
    fn a_file_that_is_not_a_tar_gz_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("junk.tar.gz");
        std::fs::write(&archive, b"this is not gzip").unwrap();
        let err = extract_batches(&archive, &dir.path().join("out"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("junk.tar.gz"), "{err}");
    }

    /// Serves one HTTP response with `body` on a loopback port; returns the URL.
    fn serve_once(body: &'static [u8]) -> String {
        use std::io::{BufRead, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/cifar.tar.gz", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let mut stream = reader.into_inner();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
        });
        url
    }

    #[test]
    fn a_download_with_the_expected_md5_is_renamed_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        download(
            &serve_once(b"abc"),
            &dest,
            "900150983cd24fb0d6963f7d28e17f72",
            false,
        )
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"abc");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_download_with_another_md5_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tar.gz");
        let err = download(
            &serve_once(b"abd"),
            &dest,
            "900150983cd24fb0d6963f7d28e17f72",
            false,
        )
        .unwrap_err();
        assert!(matches!(err, DataError::ArchiveChecksum { .. }), "{err:?}");
        assert!(err.to_string().contains("a.tar.gz"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// A URL on which nothing listens (connection refused at once, no network needed).
    fn refused_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/cifar.tar.gz", listener.local_addr().unwrap());
        drop(listener);
        url
    }

    #[test]
    fn without_network_or_local_copy_the_error_says_how_to_point_at_one() {
        let dir = tempfile::tempdir().unwrap();
        let downloads = dir.path().join("downloads");
        let url = refused_url();
        let err = fetch_from(&url, ARCHIVE_MD5, &downloads, false).unwrap_err();
        assert!(matches!(err, DataError::Download { .. }), "{err:?}");
        let text = err.to_string();
        for needle in [
            "data.dir",
            "SAL_CIFAR10_DIR",
            "dir = ",
            "downloads",
            "data_batch_1.bin",
            url.as_str(),
        ] {
            assert!(text.contains(needle), "{needle:?} not in: {text}");
        }
        assert!(!downloads.join(ARCHIVE_FILE).exists());
    }

    #[test]
    fn an_earlier_download_is_reused_without_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let batches = dir.path().join(ARCHIVE_DIR);
        std::fs::create_dir(&batches).unwrap();
        for name in batch_files() {
            std::fs::write(batches.join(name), name).unwrap();
        }
        assert_eq!(
            fetch_from(&refused_url(), ARCHIVE_MD5, dir.path(), false).unwrap(),
            batches
        );
    }

    #[test]
    fn a_downloaded_archive_with_the_right_md5_is_unpacked_without_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join(ARCHIVE_FILE);
        let entries: Vec<(String, Vec<u8>)> = batch_files()
            .map(|n| (n.to_owned(), n.as_bytes().to_vec()))
            .collect();
        let refs: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        tar_gz(&archive, &refs);
        let md5 = md5_file(&archive).unwrap();
        let dest = fetch_from(&refused_url(), &md5, dir.path(), false).unwrap();
        assert_eq!(dest, dir.path().join(ARCHIVE_DIR));
        assert!(has_all_batches(&dest));
        // With another expected MD5 the archive is not trusted, and the download is attempted.
        std::fs::remove_dir_all(&dest).unwrap();
        let err = fetch_from(&refused_url(), ARCHIVE_MD5, dir.path(), false).unwrap_err();
        assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    }

    #[test]
    fn a_download_that_cannot_connect_is_an_error_naming_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.tar.gz");
        let url = refused_url();
        let err = download(&url, &dest, ARCHIVE_MD5, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&url), "{err}");
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
