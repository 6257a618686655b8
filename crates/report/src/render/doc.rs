//! The report as a sequence of blocks, rendered to Markdown and to HTML from the same content.

/// A table: a header row and body rows of text cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// Column headers.
    pub header: Vec<String>,
    /// Rows, each with one cell per header.
    pub rows: Vec<Vec<String>>,
    /// Whether the columns after the first hold numbers (right-aligned) rather than prose.
    pub numeric: bool,
}

impl Table {
    /// A table with these headers and no rows.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            numeric: true,
        }
    }

    /// A table of prose: every column left-aligned.
    pub fn prose<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            numeric: false,
            ..Table::new(header)
        }
    }

    /// Adds a row (padded or cut to the header's width).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        let mut cells: Vec<String> = cells.into_iter().map(Into::into).collect();
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
        self
    }
}

/// One block of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section heading (level 2 or 3; the title is level 1).
    Heading(u8, String),
    /// A paragraph of plain text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table with a caption above it.
    Table { caption: String, table: Table },
    /// A figure by file stem, with its caption.
    Figure { name: String, caption: String },
    /// Preformatted text (JSON).
    Code(String),
    /// The start of a folded part with this summary line (HTML `<details>`; a level-2
    /// heading in Markdown), up to the next [`Block::FoldEnd`].
    FoldStart(String),
    /// The end of a folded part.
    FoldEnd,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// The title.
    pub title: String,
    /// The blocks in order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// Appends a heading.
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }

    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }

    /// Appends a list.
    pub fn list(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// Appends a table.
    pub fn table(&mut self, caption: impl Into<String>, table: Table) {
        self.blocks.push(Block::Table {
            caption: caption.into(),
            table,
        });
    }

    /// Appends a figure.
    pub fn figure(&mut self, name: impl Into<String>, caption: impl Into<String>) {
        self.blocks.push(Block::Figure {
            name: name.into(),
            caption: caption.into(),
        });
    }

    /// Appends preformatted text.
    pub fn code(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Code(text.into()));
    }

    /// Appends the blocks `body` writes, folded under `summary` (collapsed in HTML).
    pub fn folded(&mut self, summary: impl Into<String>, body: impl FnOnce(&mut Document)) {
        self.blocks.push(Block::FoldStart(summary.into()));
        body(self);
        self.blocks.push(Block::FoldEnd);
    }
}

/// A number with `digits` decimals, never `-0.00`; NaN and infinities spelled out.
pub fn num(value: f64, digits: usize) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    let text = format!("{value:.digits$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_owned()
    } else {
        text
    }
}

/// `value (lo–hi)` with two decimals, or just the value without an interval.
pub fn with_interval(value: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{} ({}–{})", num(value, 2), num(lo, 2), num(hi, 2)),
        None => num(value, 2),
    }
}

/// The placeholder of a cell without a value.
pub const NONE: &str = "—";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_print_negative_zero() {
        assert_eq!(num(-0.001, 2), "0.00");
        assert_eq!(num(-0.011, 2), "-0.01");
        assert_eq!(num(0.126, 2), "0.13");
        assert_eq!(num(f64::NAN, 2), "NaN");
        assert_eq!(with_interval(0.48, Some((0.46, 0.5))), "0.48 (0.46–0.50)");
    }

    #[test]
    fn rows_are_padded_to_the_header() {
        let mut t = Table::new(["a", "b", "c"]);
        t.row(["1"]);
        assert_eq!(t.rows[0], ["1", "", ""]);
    }
}
