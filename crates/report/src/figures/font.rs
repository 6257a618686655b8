//! The font of the figures' text, found at run time.
//!
//! plotters draws text with `ab_glyph` (pure Rust) from a font registered at run time, so the
//! build needs no system library. The font is, in order: the file named by `SAL_REPORT_FONT`;
//! a well-known sans-serif file (DejaVu Sans, Liberation Sans, Arial); the first regular
//! `.ttf`/`.otf` under the system font folders in sorted order. Without any, figures are drawn
//! without text (the captions in the report still say what each panel shows).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::{ReportError, Result};

/// The family name the figures ask for; the SVG files name it too, so a viewer uses its own
/// sans-serif font for them.
pub const FAMILY: &str = "sans-serif";

/// Environment variable naming a TrueType/OpenType file to draw text with.
pub const FONT_ENV: &str = "SAL_REPORT_FONT";

const KNOWN_FONTS: [&str; 10] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

const FONT_DIRS: [&str; 3] = [
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/usr/X11R6/lib/X11/fonts",
];

/// Whether the figures have text, and from which font file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSupport {
    /// Text is drawn with this font file.
    Font(PathBuf),
    /// No font was found: figures are drawn without text.
    None,
}

impl TextSupport {
    /// Whether text can be drawn.
    pub fn enabled(&self) -> bool {
        matches!(self, TextSupport::Font(_))
    }

    /// A one-line description for the report (the font's file name, never its folder).
    pub fn describe(&self) -> String {
        match self {
            TextSupport::Font(path) => {
                format!(
                    "text drawn with {}",
                    path.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                )
            }
            TextSupport::None => {
                format!("no font found (set {FONT_ENV} to a .ttf file): figures drawn without text")
            }
        }
    }
}

static TEXT: OnceLock<std::result::Result<TextSupport, String>> = OnceLock::new();

/// Finds and registers the font once per process and says whether figures can have text.
///
/// An explicit `SAL_REPORT_FONT` that cannot be read or parsed is an error; finding no font
/// otherwise is not.
pub fn text_support() -> Result<TextSupport> {
    TEXT.get_or_init(discover_and_register)
        .clone()
        .map_err(|message| ReportError::Plot {
            figure: "font".to_owned(),
            message,
        })
}

fn discover_and_register() -> std::result::Result<TextSupport, String> {
    if let Some(path) = std::env::var_os(FONT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
    {
        return register(&path)
            .map(|()| TextSupport::Font(path.clone()))
            .map_err(|e| format!("{FONT_ENV}={}: {e}", path.display()));
    }
    let known = KNOWN_FONTS.iter().map(PathBuf::from);
    for path in known.chain(FONT_DIRS.iter().flat_map(|dir| font_files(Path::new(dir)))) {
        if path.is_file() && register(&path).is_ok() {
            tracing::debug!(font = %path.display(), "figure font");
            return Ok(TextSupport::Font(path));
        }
    }
    tracing::warn!("no font found; figures will have no text (set {FONT_ENV} to a .ttf file)");
    Ok(TextSupport::None)
}

fn register(path: &Path) -> std::result::Result<(), String> {
    let bytes = fs_err::read(path).map_err(|e| e.to_string())?;
    // plotters keeps registered fonts for the life of the process and wants 'static data;
    // this runs at most once per process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font(FAMILY, FontStyle::Normal, bytes)
        .map_err(|_| "not a TrueType or OpenType font".to_owned())
}

/// Regular (not bold, italic or monospace) font files under `dir`, recursively, sorted.
fn font_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_regular_font(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn is_regular_font(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    (name.ends_with(".ttf") || name.ends_with(".otf"))
        && !["bold", "italic", "oblique", "mono", "light", "condensed"]
            .iter()
            .any(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_fonts_are_candidates() {
        assert!(is_regular_font(Path::new("/f/DejaVuSans.ttf")));
        assert!(is_regular_font(Path::new("/f/Foo-Regular.OTF")));
        assert!(!is_regular_font(Path::new("/f/DejaVuSans-Bold.ttf")));
        assert!(!is_regular_font(Path::new("/f/DejaVuSansMono.ttf")));
        assert!(!is_regular_font(Path::new("/f/readme.txt")));
    }
}
