//! The charts of report pages, drawn as inline SVG: no script, no network, the same in a
//! browser, a mail client or a PDF. Every mark a reader looks at (a bar, a cell, a point, a
//! line) has the class `mark` and a `<title>` tooltip with its exact figures.
//!
//! ```
//! use socialcx::reports::svg::{Bar, bar_chart};
//! let svg = bar_chart("Posts", &[Bar { label: "forum".into(), value: 3.0, color: "#4477aa".into(),
//!     tip: "forum: 3".into() }], None);
//! assert!(svg.contains("class=\"mark\""));
//! ```

use std::fmt::Write;

use crate::output::html::escape;

/// A colour for a value in -1..1: red for negative, grey for 0, green for positive.
///
/// ```
/// assert_eq!(socialcx::reports::svg::diverging(0.0), "#efefef");
/// assert_eq!(socialcx::reports::svg::diverging(1.0), "#1a9850");
/// ```
pub fn diverging(value: f64) -> String {
    let v = value.clamp(-1.0, 1.0);
    let (from, to, t) = if v < 0.0 {
        ((0xef, 0xef, 0xef), (0xd7, 0x30, 0x27), -v)
    } else {
        ((0xef, 0xef, 0xef), (0x1a, 0x98, 0x50), v)
    };
    let mix = |a: i32, b: i32| (a as f64 + (b - a) as f64 * t).round() as i32;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(from.0, to.0),
        mix(from.1, to.1),
        mix(from.2, to.2)
    )
}

/// A number for axis labels and cells: short, without trailing zeros.
pub fn short(value: f64) -> String {
    let a = value.abs();
    if a >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if a >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else if a >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Evenly spaced, rounded ticks covering `lo..hi`.
fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    let mut out = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// One day of a trend: its label, value, and the baseline band (low, high) if known.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    /// The x label (a day).
    pub label: String,
    /// The value (None: no data that day).
    pub value: Option<f64>,
    /// The band around the baseline for this day.
    pub band: Option<(f64, f64)>,
    /// The tooltip.
    pub tip: String,
}

/// A line chart of `points` over a shaded band; points outside their band are drawn as red
/// dots with the class `mark breach`.
pub fn trend_chart(title: &str, y_label: &str, points: &[TrendPoint]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 260.0, 56.0, 16.0, 28.0, 40.0);
    let mut values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    for p in points {
        if let Some((lo, hi)) = p.band {
            values.push(lo);
            values.push(hi);
        }
    }
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        let pad = ((hi - lo) * 0.08).max(1e-3);
        (lo - pad, hi + pad)
    } else {
        (-1.0, 1.0)
    };
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (w - left - right) * i as f64 / n;
    let y = |v: f64| top + (h - top - bottom) * (hi - v) / (hi - lo);
    let mut s = open_svg(title, w, h);
    axes(&mut s, w, h, left, right, top, bottom, lo, hi, y_label, &y);
    // The band, as one polygon per run of days that have it.
    let mut run: Vec<(usize, f64, f64)> = Vec::new();
    let mut bands = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match p.band {
            Some((l, u)) => run.push((i, l, u)),
            None if !run.is_empty() => bands.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        bands.push(run);
    }
    for band in &bands {
        let mut d = String::new();
        for (k, (i, _, u)) in band.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1} ",
                if k == 0 { "M" } else { "L" },
                x(*i),
                y(*u)
            );
        }
        for (i, l, _) in band.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", x(*i), y(*l));
        }
        let _ = write!(
            s,
            "<path class=\"mark band\" d=\"{d}Z\" fill=\"#9ecae1\" fill-opacity=\"0.45\" stroke=\"none\"><title>baseline band</title></path>"
        );
    }
    // The line, broken where a day has no value.
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !d.is_empty() {
        let _ = write!(
            s,
            "<path class=\"mark line\" d=\"{d}\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\"/>"
        );
    }
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else { continue };
        let breach = p.band.is_some_and(|(l, u)| v < l || v > u);
        let (class, r, fill) = if breach {
            ("mark breach", 4.5, "#d73027")
        } else {
            ("mark point", 2.2, "#08519c")
        };
        let _ = write!(
            s,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{fill}\"><title>{}</title></circle>",
            x(i),
            y(v),
            escape(&p.tip)
        );
    }
    // Day labels, about eight of them.
    let every = points.len().div_ceil(8).max(1);
    for (i, p) in points.iter().enumerate().step_by(every) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(i),
            h - bottom + 16.0,
            escape(&p.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar of a bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Its label (left of the bar).
    pub label: String,
    /// Its length.
    pub value: f64,
    /// Its fill.
    pub color: String,
    /// The tooltip.
    pub tip: String,
}

/// Horizontal bars, one per row, longest scale at the right; values may be negative (bars
/// then grow left of a zero line). `marks` draws dashed vertical lines (e.g. thresholds).
pub fn bar_chart(title: &str, bars: &[Bar], marks: Option<&[f64]>) -> String {
    let row = 22.0;
    let (w, left, right, top, bottom) = (760.0, 230.0, 60.0, 28.0, 28.0);
    let h = top + bottom + row * bars.len().max(1) as f64;
    let mut lo = bars.iter().map(|b| b.value).fold(0.0, f64::min);
    let mut hi = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    for m in marks.unwrap_or(&[]) {
        lo = lo.min(*m);
        hi = hi.max(*m);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let x = |v: f64| left + (w - left - right) * (v - lo) / (hi - lo);
    let mut s = open_svg(title, w, h);
    for t in ticks(lo, hi, 6) {
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{0:.1}\" y=\"{2:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{3}</text>",
            x(t),
            h - bottom,
            h - bottom + 16.0,
            short(t)
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y0 = top + row * i as f64 + 3.0;
        let (a, z) = (x(b.value.min(0.0)), x(b.value.max(0.0)));
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}</text>\
             <rect class=\"mark\" x=\"{a:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{}</text>",
            left - 6.0,
            y0 + row * 0.6,
            escape(&b.label),
            (z - a).max(1.0),
            row - 6.0,
            escape(&b.color),
            escape(&b.tip),
            z + 4.0,
            y0 + row * 0.6,
            short(b.value)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#888\"/>",
        x(0.0),
        h - bottom
    );
    for m in marks.unwrap_or(&[]) {
        let _ = write!(
            s,
            "<line class=\"threshold\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#d73027\" stroke-dasharray=\"4 3\"/>",
            x(*m),
            h - bottom
        );
    }
    s.push_str("</svg>");
    s
}

/// One cell of a heatmap.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The text inside (e.g. a count).
    pub text: String,
    /// Its fill.
    pub color: String,
    /// A gap: hatched, outlined in red, with the class `mark gap`.
    pub gap: bool,
    /// The tooltip.
    pub tip: String,
}

/// A rows x columns grid of cells (`cells[row][column]`).
pub fn heatmap(title: &str, rows: &[String], columns: &[String], cells: &[Vec<Cell>]) -> String {
    let (cw, ch, left, top) = (96.0, 40.0, 120.0, 56.0);
    let w = left + cw * columns.len().max(1) as f64 + 16.0;
    let h = top + ch * rows.len().max(1) as f64 + 16.0;
    let mut s = open_svg(title, w, h);
    s.push_str(
        "<defs><pattern id=\"gap-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff5f0\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#fc9272\" stroke-width=\"2\"/></pattern></defs>",
    );
    for (j, c) in columns.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">{}</text>",
            left + cw * (j as f64 + 0.5),
            top - 10.0,
            escape(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y0 = top + ch * i as f64;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}</text>",
            left - 8.0,
            y0 + ch * 0.55,
            escape(r)
        );
        for (j, cell) in cells
            .get(i)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let x0 = left + cw * j as f64;
            let (class, fill, stroke) = if cell.gap {
                ("mark gap", "url(#gap-hatch)", "#d73027")
            } else {
                ("mark cell", cell.color.as_str(), "#ffffff")
            };
            let _ = write!(
                s,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" stroke=\"{stroke}\" stroke-width=\"2\"><title>{}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#111\">{}</text>",
                x0 + 1.0,
                y0 + 1.0,
                cw - 2.0,
                ch - 2.0,
                escape(fill),
                escape(&cell.tip),
                x0 + cw / 2.0,
                y0 + ch * 0.58,
                escape(&cell.text)
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn open_svg(title: &str, w: f64, h: f64) -> String {
    format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{0}\" \
         font-family=\"system-ui, -apple-system, Segoe UI, sans-serif\">\
         <text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"600\" fill=\"#111\">{0}</text>",
        escape(title)
    )
}

#[allow(clippy::too_many_arguments)]
fn axes(
    s: &mut String,
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    lo: f64,
    hi: f64,
    y_label: &str,
    y: &dyn Fn(f64) -> f64,
) {
    for t in ticks(lo, hi, 5) {
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{1:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{2:.1}\" y=\"{3:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{4}</text>",
            w - right,
            y(t),
            left - 6.0,
            y(t) + 4.0,
            short(t)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#888\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#555\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        h - bottom,
        12.0,
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0,
        escape(y_label)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = ticks(0.0, 1.0, 5);
        assert_eq!(t.len(), 6, "{t:?}");
        assert!(
            t.iter()
                .zip([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
                .all(|(a, b)| (a - b).abs() < 1e-9)
        );
        let t = ticks(-0.37, 0.52, 5);
        assert!(
            t[0] >= -0.37 && *t.last().unwrap() <= 0.52 && t.contains(&0.0),
            "{t:?}"
        );
    }

    #[test]
    fn a_point_outside_its_band_is_a_breach() {
        let p = |v: f64| TrendPoint {
            label: "d".into(),
            value: Some(v),
            band: Some((0.0, 1.0)),
            tip: format!("{v}"),
        };
        let svg = trend_chart("t", "y", &[p(0.5), p(2.0), p(0.4)]);
        assert_eq!(svg.matches("class=\"mark breach\"").count(), 1);
        assert_eq!(svg.matches("class=\"mark point\"").count(), 2);
    }
}
