//! Text fitted to a pane's width by the panes themselves, not by ratatui's `Wrap`: a wrapped row
//! hangs under its text, not under its label; a word (a URL, an id) is kept whole on a line of its
//! own when it fits there; and a value cut to one line says so with `…`.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// A row narrower than this gives up its hanging indent: a column of two letters reads worse.
const MIN_HANGING: usize = 12;

fn width_of(text: &str) -> usize {
    Span::raw(text).width()
}

fn char_width(c: char) -> usize {
    let mut bytes = [0; 4];
    width_of(c.encode_utf8(&mut bytes))
}

/// Adds `text` to a row, into its last span when that has the same style: a run stays one span
/// (an exported picture draws it as one piece of text).
fn push(row: &mut Vec<Span<'static>>, text: &str, style: Style) {
    match row.last_mut() {
        Some(last) if last.style == style && !last.content.trim().is_empty() => {
            last.content.to_mut().push_str(text);
        }
        _ => row.push(Span::styled(text.to_owned(), style)),
    }
}

/// `prefix` then `body` (styled runs), wrapped into rows of at most `width` columns; rows after
/// the first start with blanks as wide as the prefix, so the text hangs under itself.
pub fn hanging(
    prefix: Vec<Span<'static>>,
    body: &[(String, Style)],
    width: u16,
) -> Vec<Line<'static>> {
    let width = usize::from(width).max(1);
    let mut indent: usize = prefix.iter().map(Span::width).sum();
    if width.saturating_sub(indent) < MIN_HANGING {
        indent = 0;
    }
    let room = width.saturating_sub(indent).max(1);
    let first_room = width
        .saturating_sub(prefix.iter().map(Span::width).sum())
        .max(1);

    let mut rows: Vec<Vec<Span<'static>>> = vec![prefix];
    let mut used = 0;
    let mut limit = first_room;
    let new_row = |rows: &mut Vec<Vec<Span<'static>>>, used: &mut usize, limit: &mut usize| {
        rows.push(if indent > 0 {
            vec![Span::raw(" ".repeat(indent))]
        } else {
            Vec::new()
        });
        *used = 0;
        *limit = room;
    };
    for (text, style) in body {
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let word_width = width_of(word);
            let gap = usize::from(used > 0);
            if used + gap + word_width > limit && used > 0 {
                new_row(&mut rows, &mut used, &mut limit);
            }
            let row = rows.len() - 1;
            if used > 0 {
                // Between two words of one run, the blank is the run's too.
                let same = rows[row].last().is_some_and(|last| last.style == *style);
                push(
                    &mut rows[row],
                    " ",
                    if same { *style } else { Style::new() },
                );
                used += 1;
            }
            if used + word_width <= limit {
                push(&mut rows[row], word, *style);
                used += word_width;
                continue;
            }
            // Wider than the hanging column but not than the pane (a URL): a row of its own,
            // indented as far as it still fits, rather than broken.
            if indent > 0 && word_width <= width {
                // The first row keeps its label; the word starts the next one.
                if used > 0 || row == 0 {
                    new_row(&mut rows, &mut used, &mut limit);
                }
                let row = rows.len() - 1;
                let outdent = indent.min(width - word_width);
                rows[row] = vec![
                    Span::raw(" ".repeat(outdent)),
                    Span::styled(word.to_owned(), *style),
                ];
                used = word_width;
                limit = width - outdent;
                continue;
            }
            // Longer than a whole row: broken where the row ends, the only way to show it.
            let mut piece = String::new();
            for c in word.chars() {
                let w = char_width(c);
                if used + w > limit && used > 0 {
                    let row = rows.len() - 1;
                    push(&mut rows[row], &std::mem::take(&mut piece), *style);
                    new_row(&mut rows, &mut used, &mut limit);
                }
                piece.push(c);
                used += w;
            }
            let row = rows.len() - 1;
            push(&mut rows[row], &piece, *style);
        }
    }
    rows.into_iter().map(Line::from).collect()
}

/// A line as rows of at most `width` columns: when its first span is a label (it ends in a
/// blank and more follows), the rest hangs under itself past it; else the line wraps flush left.
pub fn fit(line: Line<'static>, width: u16) -> Vec<Line<'static>> {
    if line.width() <= usize::from(width) {
        return vec![line];
    }
    let mut spans = line.spans.into_iter();
    let labelled = spans.len() > 1;
    let first = spans.next().unwrap_or_default();
    let (prefix, mut body) = if labelled && first.content.ends_with(' ') {
        (vec![first], Vec::new())
    } else {
        (Vec::new(), vec![(first.content.into_owned(), first.style)])
    };
    body.extend(spans.map(|s| (s.content.into_owned(), s.style)));
    hanging(prefix, &body, width)
}

/// One labelled row of plain text: `label` (in `label_style`, padded to `label_width`) and
/// `text` hanging under itself.
pub fn labelled(
    label: &str,
    label_width: usize,
    label_style: Style,
    text: &str,
    style: Style,
    width: u16,
) -> Vec<Line<'static>> {
    hanging(
        vec![Span::styled(format!("{label:<label_width$}"), label_style)],
        &[(text.to_owned(), style)],
        width,
    )
}

/// `text` cut to `width` columns, ending in `…` when something was cut.
pub fn cut_end(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// A one-line view of `text` with the cursor (a char index) in it: `(shown, cursor column)`.
/// When the text is wider than `width`, the view scrolls with the cursor and marks each cut end
/// with `…`, so a long paste never hides the cursor.
pub fn window(text: &str, cursor: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    // The cursor after the last character needs a cell of its own.
    if chars.len() < width || width < 4 {
        return (text.to_owned(), cursor);
    }
    let collect = |range: std::ops::Range<usize>| chars[range].iter().collect::<String>();
    if cursor < width - 1 {
        let shown = width - 1;
        return (format!("{}…", collect(0..shown)), cursor);
    }
    // The cursor sits one cell left of the right edge: what follows it stays hinted at.
    let start = cursor + 3 - width;
    let end = (start + width - 2).min(chars.len());
    let tail = if end < chars.len() { "…" } else { "" };
    (
        format!("…{}{tail}", collect(start..end)),
        cursor - start + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn wrapped_rows_hang_under_the_text_and_keep_a_url_whole() {
        let url = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes";
        let lines = labelled(
            "docs",
            6,
            Style::new(),
            &format!("see {url} now"),
            Style::new(),
            81,
        );
        assert_eq!(
            plain(&lines),
            [
                "docs  see".to_owned(),
                format!("      {url}"),
                "      now".to_owned()
            ]
        );
        // Wider than the hanging column, not than the pane: on a row of its own, indented as
        // far as it fits, whole.
        let wide = u16::try_from(url.len()).unwrap();
        let lines = labelled(
            "docs",
            6,
            Style::new(),
            &format!("see {url} now"),
            Style::new(),
            wide + 2,
        );
        assert_eq!(
            plain(&lines),
            [
                "docs  see".to_owned(),
                format!("  {url}"),
                "      now".to_owned()
            ]
        );
        let lines = labelled("docs", 6, Style::new(), url, Style::new(), wide);
        assert_eq!(plain(&lines), ["docs  ".to_owned(), url.to_owned()]);
        // Wider than a row: broken where the row ends, on rows of its own.
        let lines = labelled(
            "docs",
            6,
            Style::new(),
            &format!("see {url}"),
            Style::new(),
            40,
        );
        assert_eq!(lines[0].to_string(), "docs  see");
        assert!(lines[1].to_string().starts_with("      https://"));
        assert!(lines.iter().all(|l| l.width() <= 40));
        assert_eq!(
            lines
                .iter()
                .map(|l| l.to_string().trim().to_owned())
                .collect::<String>(),
            format!("docs  see{url}")
        );
    }

    #[test]
    fn cut_values_say_so() {
        assert_eq!(cut_end("abcdef", 6), "abcdef");
        assert_eq!(cut_end("abcdefg", 6), "abcde…");
    }

    #[test]
    fn the_window_follows_the_cursor_and_marks_both_ends() {
        let text = "0123456789abcdefghij";
        assert_eq!(window(text, 3, 30), (text.to_owned(), 3));
        assert_eq!(window(text, 3, 10), ("012345678…".to_owned(), 3));
        let (shown, column) = window(text, 20, 10);
        assert_eq!(shown, "…defghij");
        assert_eq!(column, 8);
        let (shown, column) = window(text, 12, 10);
        assert_eq!(shown, "…56789abc…");
        assert_eq!(
            &shown
                .chars()
                .nth(column)
                .map(String::from)
                .unwrap_or_default(),
            "c"
        );
    }
}
