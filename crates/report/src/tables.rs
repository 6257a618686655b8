//! Table 1 and Table 2 as the paper lays them out, each of our numbers beside the paper's.

use crate::load::stats::{Estimate, Stats, Variant};
use crate::paper::{PaperValues, Table2Row};
use crate::render::{num, with_interval, Table, NONE};

/// A column of Table 1: a fill, with or without edge detection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    fill: String,
    with_edge: bool,
    paper: Option<usize>,
}

/// Table 1: Krippendorff's alpha per metric variant; per column our value, then the paper's.
///
/// Rows are the paper's rows, then any other variant the stats stage computed (other L, and the
/// metrics the paper does not have, labelled so); columns the paper's four (fill x edge), then
/// those of any other fill we computed.
pub fn table1(paper: &PaperValues, stats: &Stats, fills: &[String]) -> Table {
    let mut columns: Vec<Column> = paper
        .table1
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| Column {
            fill: c.fill.clone(),
            with_edge: c.with_edge,
            paper: Some(i),
        })
        .collect();
    for fill in fills
        .iter()
        .filter(|f| !paper.table1.columns.iter().any(|c| &c.fill == *f))
    {
        for with_edge in [true, false] {
            columns.push(Column {
                fill: fill.clone(),
                with_edge,
                paper: None,
            });
        }
    }
    let mut header = vec!["Metric".to_owned()];
    for c in &columns {
        let edge = if c.with_edge {
            "with edge"
        } else {
            "without edge"
        };
        let tag = if c.paper.is_none() {
            " (not in the paper)"
        } else {
            ""
        };
        header.push(format!("{} fill{tag}, {edge}: ours", c.fill));
        header.push("paper".to_owned());
    }
    let mut table = Table::new(header);

    let mut rows: Vec<(String, crate::paper::Metric, Option<usize>, Option<usize>)> = paper
        .table1
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.label.clone(), r.metric, r.steps, Some(i)))
        .collect();
    let mut extra: Vec<_> = stats
        .alpha
        .iter()
        .map(|a| (a.variant.metric, a.variant.steps))
        .filter(|(m, l)| !rows.iter().any(|r| r.1 == *m && r.2 == *l))
        .collect();
    extra.sort();
    extra.dedup();
    for (metric, steps) in extra {
        let label = match steps {
            Some(l) => format!("{}, L={l}", metric.tagged_label()),
            None => metric.tagged_label(),
        };
        rows.push((label, metric, steps, None));
    }

    for (label, metric, steps, paper_row) in rows {
        let mut cells = vec![label];
        for c in &columns {
            let variant = Variant {
                metric,
                steps,
                fill: c.fill.clone(),
            };
            cells.push(
                stats
                    .alpha(&variant, c.with_edge)
                    .map_or(NONE.to_owned(), |a| with_interval(a.value, a.ci)),
            );
            let paper_cell = paper_row
                .zip(c.paper)
                .map(|(r, col)| paper.table1.rows[r].cells[col]);
            cells.push(paper_cell.map_or(NONE.to_owned(), |[v, lo, hi]| {
                with_interval(v, Some((lo, hi)))
            }));
        }
        table.row(cells);
    }
    table
}

/// The L at which the stats stage correlated AOPC in Table 2: the paper's L if it was
/// computed, else the largest L present.
pub fn table2_steps(paper: &PaperValues, stats: &Stats) -> Option<usize> {
    let steps: Vec<usize> = stats
        .consistency
        .iter()
        .flat_map(|c| [c.x.steps, c.y.steps])
        .flatten()
        .collect();
    if steps.contains(&paper.table2.steps) {
        Some(paper.table2.steps)
    } else {
        steps.into_iter().max()
    }
}

/// The variant of one side of a Table 2 row at AOPC step `steps`.
pub fn table2_variant(side: &crate::paper::MetricFill, steps: Option<usize>) -> Variant {
    let steps = if side.metric == crate::paper::Metric::Faithfulness {
        None
    } else {
        steps
    };
    Variant {
        metric: side.metric,
        steps,
        fill: side.fill.clone(),
    }
}

/// Our rho for a Table 2 row and method.
pub fn table2_ours(
    stats: &Stats,
    row: &Table2Row,
    method: &str,
    steps: Option<usize>,
) -> Option<f64> {
    table2_estimate(stats, row, method, steps).map(|e| e.value)
}

/// Our rho for a Table 2 row and method, with its interval where n was recorded.
pub fn table2_estimate(
    stats: &Stats,
    row: &Table2Row,
    method: &str,
    steps: Option<usize>,
) -> Option<Estimate> {
    stats.consistency(
        method,
        &table2_variant(&row.x, steps),
        &table2_variant(&row.y, steps),
    )
}

/// Table 2: Spearman rho between pairs of metrics per method; per method our value, then the
/// paper's. Rows are the paper's, then any other pair the stats stage computed.
pub fn table2(paper: &PaperValues, stats: &Stats, methods: &[String]) -> Table {
    let steps = table2_steps(paper, stats);
    let mut columns: Vec<String> = paper.table2.columns.clone();
    let extra: Vec<String> = methods
        .iter()
        .filter(|m| !columns.contains(m))
        .cloned()
        .collect();
    columns.extend(extra);
    let mut header = vec!["Metrics correlated".to_owned()];
    for m in &columns {
        header.push(format!("{}: ours", paper.method_label(m)));
        header.push("paper".to_owned());
    }
    let mut table = Table::new(header);
    for row in &paper.table2.rows {
        let mut cells = vec![row.label.clone()];
        for m in &columns {
            cells.push(table2_ours(stats, row, m, steps).map_or(NONE.to_owned(), |v| num(v, 2)));
            let paper_value = paper
                .table2
                .columns
                .iter()
                .position(|c| c == m)
                .map(|i| row.values[i]);
            cells.push(paper_value.map_or(NONE.to_owned(), |v| num(v, 2)));
        }
        table.row(cells);
    }
    // Pairs the stage computed that the paper's table does not have.
    let mut extra: Vec<(Variant, Variant)> = Vec::new();
    for c in &stats.consistency {
        let known = paper.table2.rows.iter().any(|r| {
            let (x, y) = (table2_variant(&r.x, steps), table2_variant(&r.y, steps));
            (c.x == x && c.y == y) || (c.x == y && c.y == x)
        });
        if !known && !extra.contains(&(c.x.clone(), c.y.clone())) {
            extra.push((c.x.clone(), c.y.clone()));
        }
    }
    for (x, y) in extra {
        let mut cells = vec![format!("{} vs {}", x.label(), y.label())];
        for m in &columns {
            cells.push(
                stats
                    .consistency(m, &x, &y)
                    .map_or(NONE.to_owned(), |e| num(e.value, 2)),
            );
            cells.push(NONE.to_owned());
        }
        table.row(cells);
    }
    table
}
