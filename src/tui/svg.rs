//! A rendered frame as SVG, colours and all: the README's pictures come from the tool itself,
//! rebuilt from the demo tenant, so they show no real secret and cannot drift from the code.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_WIDTH: f32 = 8.4;
const CELL_HEIGHT: f32 = 17.0;
const FOREGROUND: &str = "#d4d4d4";
const BACKGROUND: &str = "#1e1e1e";

/// A terminal palette close to the common dark themes.
fn colour(color: Color) -> Option<String> {
    Some(match color {
        Color::Reset => return None,
        Color::Black => "#000000".into(),
        Color::Red => "#f14c4c".into(),
        Color::Green => "#23d18b".into(),
        Color::Yellow => "#f5f543".into(),
        Color::Blue => "#3b8eea".into(),
        Color::Magenta => "#d670d6".into(),
        Color::Cyan => "#29b8db".into(),
        Color::Gray => "#cccccc".into(),
        Color::DarkGray => "#808080".into(),
        Color::LightRed => "#ff7b72".into(),
        Color::LightGreen => "#7ee787".into(),
        Color::LightYellow => "#ffea7f".into(),
        Color::LightBlue => "#79c0ff".into(),
        Color::LightMagenta => "#ff9bce".into(),
        Color::LightCyan => "#a5f3fc".into(),
        Color::White => "#ffffff".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => format!("#{i:02x}{i:02x}{i:02x}"),
    })
}

fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '&' => "&amp;".chars().collect::<Vec<_>>(),
            '<' => "&lt;".chars().collect(),
            '>' => "&gt;".chars().collect(),
            '"' => "&quot;".chars().collect(),
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect()
}

/// The frame as an SVG document.
pub fn to_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (width, height) = (
        f32::from(area.width) * CELL_WIDTH,
        f32::from(area.height) * CELL_HEIGHT,
    );
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.1} {height:.1}\" font-family=\"ui-monospace, 'Cascadia Mono', Menlo, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BACKGROUND}\"/>\n"
    );
    for y in 0..area.height {
        let baseline = (f32::from(y) + 0.78) * CELL_HEIGHT;
        let mut x = 0;
        while x < area.width {
            let Some(cell) = buffer.cell((area.x + x, area.y + y)) else {
                break;
            };
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let (fg, bg) = if reversed {
                (cell.bg, cell.fg)
            } else {
                (cell.fg, cell.bg)
            };
            let fill = colour(fg).unwrap_or_else(|| {
                if reversed {
                    BACKGROUND.into()
                } else {
                    FOREGROUND.into()
                }
            });
            let back = colour(bg).or_else(|| reversed.then(|| FOREGROUND.to_owned()));
            // A run of cells with the same look becomes one text element.
            let start = x;
            let mut text = String::new();
            while x < area.width {
                let Some(next) = buffer.cell((area.x + x, area.y + y)) else {
                    break;
                };
                if next.fg != cell.fg || next.bg != cell.bg || next.modifier != cell.modifier {
                    break;
                }
                text.push_str(next.symbol());
                x += 1;
            }
            let left = f32::from(start) * CELL_WIDTH;
            let run_width = f32::from(x - start) * CELL_WIDTH;
            if let Some(back) = back {
                let top = f32::from(y) * CELL_HEIGHT;
                let _ = writeln!(
                    svg,
                    "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{run_width:.1}\" height=\"{CELL_HEIGHT:.1}\" fill=\"{back}\"/>"
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let weight = if cell.modifier.contains(Modifier::BOLD) {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let _ = writeln!(
                svg,
                "<text x=\"{left:.1}\" y=\"{baseline:.1}\" fill=\"{fill}\"{weight} xml:space=\"preserve\" textLength=\"{run_width:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>",
                escape(&text)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
