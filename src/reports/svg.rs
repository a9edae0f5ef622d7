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

/// About how wide `text` is drawn at `size` px in the charts' sans-serif font (a little more
/// than most fonts need, so that what is laid out by it fits).
///
/// ```
/// let w = socialcx::reports::svg::text_width("2026-03-01", 11.0);
/// assert!(w > 55.0 && w < 80.0, "{w}");
/// ```
pub fn text_width(text: &str, size: f64) -> f64 {
    // Em widths a little above DejaVu Sans's (what headless Chromium draws system-ui with)
    // and most other sans-serif fonts'.
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.34,
            'f' | 't' | 'r' => 0.42,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 1.0,
            c if c.is_ascii_uppercase() => 0.74,
            _ => 0.64,
        })
        .sum::<f64>()
        * size
}

/// `text` cut to at most `width` px at `size` (with an ellipsis when cut).
///
/// ```
/// use socialcx::reports::svg::fit;
/// assert_eq!(fit("short", 100.0, 12.0), "short");
/// assert!(fit("a rather long label that does not fit", 60.0, 12.0).ends_with('…'));
/// ```
pub fn fit(text: &str, width: f64, size: f64) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if text_width(&out, size) + text_width("…", size) > width {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

/// What a legend entry shows beside its words.
#[derive(Debug, Clone, PartialEq)]
pub enum Swatch {
    /// A filled square of this colour.
    Fill(String),
    /// A line of this colour.
    Line(String),
    /// A dashed line of this colour.
    Dashed(String),
    /// A dot of this colour.
    Dot(String),
    /// A hollow dot of this colour.
    Hollow(String),
    /// The hatching of a gap.
    Hatch,
    /// A colour scale from the first colour to the last, left to right.
    Scale(Vec<String>),
}

/// A chart's legend: each swatch with its words, as HTML (`<figcaption class="legend">`),
/// so that it wraps, prints and reads as text.
///
/// ```
/// use socialcx::reports::svg::{Swatch, legend};
/// let html = legend(&[(Swatch::Fill("#4477aa".into()), "support".into())]);
/// assert!(html.contains("class=\"legend\"") && html.contains("support"));
/// ```
pub fn legend(keys: &[(Swatch, String)]) -> String {
    let mut out = String::from("<figcaption class=\"legend\">");
    for (swatch, words) in keys {
        let (w, shape) = match swatch {
            Swatch::Fill(c) => (
                14,
                format!("<rect x=\"1\" y=\"1\" width=\"12\" height=\"12\" fill=\"{}\"/>", escape(c)),
            ),
            Swatch::Line(c) => (
                22,
                format!("<line x1=\"1\" x2=\"21\" y1=\"7\" y2=\"7\" stroke=\"{}\" stroke-width=\"2\"/>", escape(c)),
            ),
            Swatch::Dashed(c) => (
                22,
                format!(
                    "<line x1=\"1\" x2=\"21\" y1=\"7\" y2=\"7\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
                    escape(c)
                ),
            ),
            Swatch::Dot(c) => (
                14,
                format!("<circle cx=\"7\" cy=\"7\" r=\"4.5\" fill=\"{}\"/>", escape(c)),
            ),
            Swatch::Hollow(c) => (
                14,
                format!(
                    "<circle cx=\"7\" cy=\"7\" r=\"3.5\" fill=\"#fff\" stroke=\"{}\" stroke-width=\"1.5\"/>",
                    escape(c)
                ),
            ),
            Swatch::Hatch => (
                14,
                "<rect x=\"1\" y=\"1\" width=\"12\" height=\"12\" fill=\"#fff5f0\" stroke=\"#d73027\" stroke-width=\"1.5\"/>\
                 <line x1=\"1\" y1=\"9\" x2=\"9\" y2=\"1\" stroke=\"#fc9272\" stroke-width=\"2\"/>\
                 <line x1=\"5\" y1=\"13\" x2=\"13\" y2=\"5\" stroke=\"#fc9272\" stroke-width=\"2\"/>"
                    .to_string(),
            ),
            Swatch::Scale(colors) => {
                let n = colors.len().max(1);
                let step = 48.0 / n as f64;
                let mut shape = String::new();
                for (i, c) in colors.iter().enumerate() {
                    let _ = write!(
                        shape,
                        "<rect x=\"{:.1}\" y=\"1\" width=\"{:.1}\" height=\"12\" fill=\"{}\"/>",
                        i as f64 * step,
                        step + 0.5,
                        escape(c)
                    );
                }
                (48, shape)
            }
        };
        let _ = write!(
            out,
            "<span class=\"key\"><svg class=\"swatch\" width=\"{w}\" height=\"14\" viewBox=\"0 0 {w} 14\" aria-hidden=\"true\">{shape}</svg>{}</span>",
            escape(words)
        );
    }
    out.push_str("</figcaption>");
    out
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
    /// The x label (a day, with its year: `2026-03-01`).
    pub label: String,
    /// The value (None: no data that day).
    pub value: Option<f64>,
    /// The band around the baseline for this day.
    pub band: Option<(f64, f64)>,
    /// Whether the value rests on enough posts to be judged against the band; a day that
    /// is not is drawn hollow (`mark thin`) and never as a breach.
    pub judged: bool,
    /// The tooltip.
    pub tip: String,
}

/// A line chart of `points` over a shaded band; judged points outside their band are drawn
/// as red dots with the class `mark breach`, points on too few posts hollow (`mark thin`).
pub fn trend_chart(title: &str, y_label: &str, points: &[TrendPoint]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 260.0, 56.0, 40.0, 28.0, 40.0);
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
        let breach = p.judged && p.band.is_some_and(|(l, u)| v < l || v > u);
        let (class, r, fill, stroke) = if !p.judged {
            ("mark thin", 2.6, "#ffffff", "#08519c")
        } else if breach {
            ("mark breach", 4.5, "#d73027", "none")
        } else {
            ("mark point", 2.2, "#08519c", "none")
        };
        let _ = write!(
            s,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{fill}\" stroke=\"{stroke}\"><title>{}</title></circle>",
            x(i),
            y(v),
            escape(&p.tip)
        );
    }
    // Day labels, about seven of them, none past the chart's edges.
    let every = points.len().div_ceil(7).max(1);
    for (i, p) in points.iter().enumerate().step_by(every) {
        let half = text_width(&p.label, 11.0) / 2.0;
        let anchor = if x(i) + half > w - 2.0 {
            "end"
        } else if x(i) - half < 2.0 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#555\">{}</text>",
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
/// The labels' column is as wide as the longest label needs (up to 420 px; a longer label is
/// cut with an ellipsis, whole in its tooltip), so no label runs off the chart.
pub fn bar_chart(title: &str, bars: &[Bar], marks: Option<&[f64]>) -> String {
    let row = 22.0;
    let widest = bars
        .iter()
        .map(|b| text_width(&b.label, 12.0))
        .fold(0.0, f64::max);
    let left = (widest + 16.0).clamp(120.0, 420.0);
    let (right, top, bottom) = (64.0, 28.0, 28.0);
    let w = left + 470.0 + right;
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
            "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{}<title>{}</title></text>\
             <rect class=\"mark\" x=\"{a:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{}</text>",
            left - 6.0,
            y0 + row * 0.6,
            escape(&fit(&b.label, left - 12.0, 12.0)),
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

/// The opening of a chart of `w` x `h` (widened to its title if that is longer) and its title.
fn open_svg(title: &str, w: f64, h: f64) -> String {
    let w = w.max((text_width(title, 14.0) * 1.08 + 16.0).ceil());
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
            judged: true,
            tip: format!("{v}"),
        };
        let svg = trend_chart("t", "y", &[p(0.5), p(2.0), p(0.4)]);
        assert_eq!(svg.matches("class=\"mark breach\"").count(), 1);
        assert_eq!(svg.matches("class=\"mark point\"").count(), 2);
        // On too few posts, a value out of its band is drawn hollow, not as a breach.
        let thin = TrendPoint {
            judged: false,
            ..p(2.0)
        };
        let svg = trend_chart("t", "y", &[p(0.5), thin, p(0.4)]);
        assert_eq!(svg.matches("class=\"mark breach\"").count(), 0);
        assert_eq!(svg.matches("class=\"mark thin\"").count(), 1);
    }

    #[test]
    fn a_long_bar_label_widens_its_column_and_is_cut_only_past_420px() {
        let bar = |label: &str| Bar {
            label: label.into(),
            value: 1.0,
            color: "#000".into(),
            tip: label.into(),
        };
        let label = "Staybright · support_chat · consideration · share_negative";
        let svg = bar_chart("t", &[bar(label)], None);
        assert!(svg.contains(&format!(">{label}<title>")), "{svg}");
        let long = "x".repeat(200);
        let svg = bar_chart("t", &[bar(&long)], None);
        assert!(svg.contains("…<title>"), "cut with an ellipsis");
    }
}
