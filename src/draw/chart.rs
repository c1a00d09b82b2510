//! Plain SVG bar charts for `snapsim plot`: panels stacked top to bottom, each a grouped bar
//! chart (one bar per series at each x), with an axis, labels and a legend. Integer pixels.

use std::fmt::Write;

/// One series of a panel: a name and a value per x.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// Its name in the legend (a protocol, a run).
    pub name: String,
    /// One value per x label (missing values are drawn as no bar).
    pub values: Vec<Option<u64>>,
}

/// One chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panel {
    /// What it shows.
    pub title: String,
    /// The values' unit, for the axis.
    pub unit: String,
    /// The x positions' labels.
    pub x_labels: Vec<String>,
    /// The series, side by side at each x.
    pub series: Vec<Series>,
}

const WIDTH: u64 = 900;
const PANEL_HEIGHT: u64 = 240;
const LEFT: u64 = 90;
const PLOT_HEIGHT: u64 = 150;
const COLOURS: [&str; 6] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The panels as one SVG, `title` on top.
pub fn render_panels(title: &str, panels: &[Panel]) -> String {
    let height = 40 + panels.len() as u64 * PANEL_HEIGHT;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} \
         {height}\" font-family=\"sans-serif\" font-size=\"11\">\n<text class=\"title\" x=\"10\" y=\"20\" \
         font-size=\"14\">{}</text>\n",
        escape(title)
    );
    for (index, panel) in panels.iter().enumerate() {
        render_panel(&mut out, panel, 40 + index as u64 * PANEL_HEIGHT);
    }
    out += "</svg>\n";
    out
}

fn render_panel(out: &mut String, panel: &Panel, top: u64) {
    let plot_top = top + 28;
    let base = plot_top + PLOT_HEIGHT;
    let plot_width = WIDTH - LEFT - 20;
    let highest =
        panel.series.iter().flat_map(|series| series.values.iter().flatten()).copied().max().unwrap_or(0).max(1);
    let _ = writeln!(
        out,
        "<g class=\"panel\"><text class=\"panel-title\" x=\"{LEFT}\" y=\"{}\" font-size=\"12\">{} ({})</text>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#444\"/>\
         <line x1=\"{LEFT}\" y1=\"{plot_top}\" x2=\"{LEFT}\" y2=\"{base}\" stroke=\"#444\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{highest}</text><text x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        top + 16,
        escape(&panel.title),
        escape(&panel.unit),
        WIDTH - 20,
        LEFT - 4,
        plot_top + 4,
        LEFT - 4,
    );
    let slots = panel.x_labels.len().max(1) as u64;
    let slot = plot_width / slots;
    let bars = panel.series.len().max(1) as u64;
    let bar = ((slot * 4 / 5) / bars).max(1);
    for (x, label) in panel.x_labels.iter().enumerate() {
        let left = LEFT + x as u64 * slot + slot / 10;
        for (index, series) in panel.series.iter().enumerate() {
            let Some(value) = series.values.get(x).copied().flatten() else { continue };
            let bar_height = value * PLOT_HEIGHT / highest;
            let _ = writeln!(
                out,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{bar_height}\" fill=\"{}\">\
                 <title>{}: {label}: {value} {}</title></rect>",
                left + index as u64 * bar,
                base - bar_height,
                COLOURS[index % COLOURS.len()],
                escape(&series.name),
                escape(&panel.unit)
            );
        }
        if slots <= 40 || x % (slots as usize / 20).max(1) == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                left + slot * 2 / 5,
                base + 14,
                escape(label)
            );
        }
    }
    for (index, series) in panel.series.iter().enumerate() {
        let x = LEFT + index as u64 * 150;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
            base + 24,
            COLOURS[index % COLOURS.len()],
            x + 14,
            base + 33,
            escape(&series.name)
        );
    }
    out.push_str("</g>\n");
}
