//! Output: tables in kubectl's manner (columns padded, three spaces apart), JSON and YAML.

use crate::{CliError, Output};
use std::io::Write;

/// Prints rows under a header, columns aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(w - cell.chars().count() + 3));
            }
        }
        // An empty last cell leaves no padding behind.
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
    write(&out)
}

/// Writes to standard output.
pub fn write(text: &str) -> Result<(), CliError> {
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| CliError::printing(&e))
}

/// Prints `value` as JSON or YAML.
pub fn structured<T: serde::Serialize>(output: Output, value: &T) -> Result<(), CliError> {
    let text = match output {
        Output::Yaml => serde_yaml_ng::to_string(value).map_err(|e| CliError::Print(e.to_string()))?,
        _ => serde_json::to_string_pretty(value).map_err(|e| CliError::Print(e.to_string()))? + "\n",
    };
    write(&text)
}

/// The age of an RFC 3339 time as kubectl shows it (`45s`, `12m`, `3h`, `2d`).
pub fn age(time: &str) -> String {
    let Ok(t) = time.parse::<jiff::Timestamp>() else { return "<unknown>".into() };
    let secs = (jiff::Timestamp::now().as_second() - t.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 3600 * 48 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectls() {
        let ago = |s: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(s)).to_string();
        assert_eq!(age(&ago(5)), "5s");
        assert_eq!(age(&ago(600)), "10m");
        assert_eq!(age(&ago(3 * 3600)), "3h");
        assert_eq!(age(&ago(3 * 86400)), "3d");
        assert_eq!(age("yesterday"), "<unknown>");
    }
}
