//! `report.html`: the document as one self-contained HTML file, figures embedded as SVG data URIs.

use std::collections::BTreeMap;

use base64::Engine;

use super::doc::{Block, Document, Table};

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}\
th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:right}\
th:first-child,td:first-child,table.prose th,table.prose td{text-align:left}\
th{background:#f3f3f3}\
caption{caption-side:top;text-align:left;font-style:italic;padding-bottom:0.3em}\
figure{margin:1em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-style:italic;font-size:0.92em}\
pre{background:#f6f6f6;padding:0.8em;overflow-x:auto;font-size:0.85em}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the document as a self-contained HTML page; `svgs` maps a figure's name to its SVG.
pub fn to_html(doc: &Document, svgs: &BTreeMap<String, String>) -> String {
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&doc.title)
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&doc.title)));
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                out.push_str(&format!("<h{level}>{}</h{level}>\n", escape(text)))
            }
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    out.push_str(&format!("<li>{}</li>\n", escape(item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { caption, table } => write_table(&mut out, caption, table),
            Block::Figure { name, caption } => {
                out.push_str("<figure>\n");
                if let Some(svg) = svgs.get(name) {
                    let data = base64::engine::general_purpose::STANDARD.encode(svg.as_bytes());
                    out.push_str(&format!(
                        "<img alt=\"{}\" src=\"data:image/svg+xml;base64,{data}\">\n",
                        escape(name)
                    ));
                }
                out.push_str(&format!(
                    "<figcaption>{}</figcaption>\n</figure>\n",
                    escape(caption)
                ));
            }
            Block::Code(text) => out.push_str(&format!("<pre>{}</pre>\n", escape(text))),
            Block::FoldStart(summary) => out.push_str(&format!(
                "<details>\n<summary>{}</summary>\n",
                escape(summary)
            )),
            Block::FoldEnd => out.push_str("</details>\n"),
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn write_table(out: &mut String, caption: &str, table: &Table) {
    let class = if table.numeric {
        ""
    } else {
        " class=\"prose\""
    };
    out.push_str(&format!(
        "<table{class}>\n<caption>{}</caption>\n<thead><tr>",
        escape(caption)
    ));
    for h in &table.header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str(&format!("<td>{}</td>", escape(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_figures_are_embedded() {
        let mut doc = Document {
            title: "a < b".into(),
            blocks: vec![],
        };
        doc.paragraph("x & y");
        doc.folded("more <here>", |d| d.paragraph("inside"));
        doc.figure("f", "cap");
        let svgs = BTreeMap::from([("f".to_owned(), "<svg/>".to_owned())]);
        let html = to_html(&doc, &svgs);
        assert!(
            html.contains(
                "<details>\n<summary>more &lt;here&gt;</summary>\n<p>inside</p>\n</details>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<h1>a &lt; b</h1>") && html.contains("<p>x &amp; y</p>"),
            "{html}"
        );
        assert!(
            html.contains("src=\"data:image/svg+xml;base64,PHN2Zy8+\""),
            "{html}"
        );
    }
}
