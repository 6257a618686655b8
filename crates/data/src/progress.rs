//! Progress bars for long byte-wise work (downloading, hashing), drawn on stderr.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` bytes showing bytes done, rate and ETA; a spinner with bytes and rate when
/// the length is unknown; hidden when `enabled` is false (`sal -q`) or stderr is not a terminal.
pub(crate) fn bytes_bar(len: Option<u64>, message: &str, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(len) => (
            ProgressBar::new(len),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{msg} {spinner} {bytes} {binary_bytes_per_sec}",
        ),
    };
    let style = ProgressStyle::with_template(template)
        .expect("the templates above are valid")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_owned());
    bar
}
