//! Plain-text tables for the client subcommands' human output: columns padded to their widest
//! cell (counted in characters, so non-ASCII names line up), two spaces apart, no trailing
//! padding. Deliberately small; scripts use `--json` instead.

use std::fmt::Write as _;

#[derive(Debug)]
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new<const N: usize>(headers: [&str; N]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row<S: AsRef<str>, const N: usize>(&mut self, cells: [S; N]) {
        // Line breaks would break the layout: a cell is one line.
        self.rows.push(
            cells
                .into_iter()
                .map(|c| c.as_ref().replace(['\n', '\r'], " "))
                .collect(),
        );
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(crate) fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.headers)
                .chain(&self.rows)
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let mut text = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count() + 2;
                    let _ = write!(line, "{cell}{}", " ".repeat(pad));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_on_characters() {
        let mut t = Table::new(["TOOL", "TOOLKIT", "NOTE"]);
        t.row(["GITHUB_STAR", "github", "stars a repo"]);
        t.row(["X", "café", ""]);
        t.row(["Y", "z", "two\nlines"]);
        expect_test::expect![[r#"
            TOOL         TOOLKIT  NOTE
            GITHUB_STAR  github   stars a repo
            X            café
            Y            z        two lines
        "#]]
        .assert_eq(&t.render());
    }
}
