//! `report.md`: the document as GitHub-flavoured Markdown, figures linked from `figures/`.

use super::doc::{Block, Document, Table};

/// The folder of the figure files, relative to the report.
pub const FIGURES_DIR: &str = "figures";

/// Renders the document as Markdown.
pub fn to_markdown(doc: &Document) -> String {
    let mut out = format!("# {}\n", doc.title);
    for block in &doc.blocks {
        out.push('\n');
        match block {
            Block::Heading(level, text) => {
                out.push_str(&"#".repeat(usize::from(*level)));
                out.push(' ');
                out.push_str(text);
                out.push('\n');
            }
            Block::Paragraph(text) => {
                out.push_str(text);
                out.push('\n');
            }
            Block::List(items) => {
                for item in items {
                    out.push_str("- ");
                    out.push_str(item);
                    out.push('\n');
                }
            }
            Block::Table { caption, table } => {
                out.push_str(&format!("*{caption}*\n\n"));
                write_table(&mut out, table);
            }
            Block::Figure { name, caption } => {
                out.push_str(&format!("![{name}]({FIGURES_DIR}/{name}.png)\n\n"));
                out.push_str(&format!("*{caption}* ([SVG]({FIGURES_DIR}/{name}.svg))\n"));
            }
            Block::FoldStart(summary) => {
                out.push_str("## ");
                out.push_str(summary);
                out.push('\n');
            }
            Block::FoldEnd => {}
            Block::Code(text) => {
                out.push_str("```json\n");
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("```\n");
            }
        }
    }
    out
}

fn write_table(out: &mut String, table: &Table) {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    out.push('|');
    for h in &table.header {
        out.push_str(&format!(" {} |", cell(h)));
    }
    out.push_str("\n|");
    for (i, _) in table.header.iter().enumerate() {
        out.push_str(if i == 0 || !table.numeric {
            " --- |"
        } else {
            " ---: |"
        });
    }
    out.push('\n');
    for row in &table.rows {
        out.push('|');
        for c in row {
            out.push_str(&format!(" {} |", cell(c)));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_pipes_and_figures_link_png_and_svg() {
        let mut doc = Document {
            title: "T".into(),
            blocks: vec![],
        };
        let mut t = Table::new(["a|b", "c"]);
        t.row(["1", "2"]);
        doc.table("cap", t);
        doc.figure("figure1", "Caption.");
        let md = to_markdown(&doc);
        assert!(
            md.contains("| a\\|b | c |\n| --- | ---: |\n| 1 | 2 |\n"),
            "{md}"
        );
        assert!(
            md.contains("![figure1](figures/figure1.png)") && md.contains("(figures/figure1.svg)"),
            "{md}"
        );
    }
}
