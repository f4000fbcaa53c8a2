//! SVG line plots (plotters, SVG backend only), with optional log axes.

use plotters::prelude::*;

/// One named line of `(x, y)` points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points; non-finite or (on log axes) non-positive values are dropped.
    pub points: Vec<(f64, f64)>,
    /// Draw markers as well as the line.
    pub markers: bool,
}

/// How a plot is laid out.
#[derive(Debug, Clone)]
pub struct PlotSpec {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Render series as an SVG document (returned as a string; write it atomically).
///
/// ```
/// use flowcert::report::plot::{PlotSpec, Series, line_plot_svg};
/// let s = Series { name: "y = x^2".into(), points: (1..10).map(|i| (i as f64, (i * i) as f64)).collect(), markers: true };
/// let spec = PlotSpec { title: "t".into(), x_label: "x".into(), y_label: "y".into(), log_x: false, log_y: true };
/// let svg = line_plot_svg(&spec, &[s]);
/// assert!(svg.starts_with("<svg"));
/// ```
pub fn line_plot_svg(spec: &PlotSpec, series: &[Series]) -> String {
    let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    let clean: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .copied()
                .filter(|&(x, y)| ok(x, spec.log_x) && ok(y, spec.log_y))
                .collect()
        })
        .collect();
    let all: Vec<(f64, f64)> = clean.iter().flatten().copied().collect();
    let range = |vals: Vec<f64>, log: bool| {
        let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            return if log { (0.1, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            let (lo, hi) = if hi / lo < 1.0001 {
                (lo / 2.0, hi * 2.0)
            } else {
                (lo, hi)
            };
            (lo / 1.2, hi * 1.2)
        } else {
            let pad = ((hi - lo) * 0.05).max(1e-12 + lo.abs() * 1e-6);
            (lo - pad, hi + pad)
        }
    };
    let (x0, x1) = range(all.iter().map(|p| p.0).collect(), spec.log_x);
    let (y0, y1) = range(all.iter().map(|p| p.1).collect(), spec.log_y);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (720, 480)).into_drawing_area();
        let _ = root.fill(&WHITE);
        macro_rules! draw {
            ($xr:expr, $yr:expr) => {{
                let chart = ChartBuilder::on(&root)
                    .caption(&spec.title, ("sans-serif", 18))
                    .margin(12)
                    .x_label_area_size(40)
                    .y_label_area_size(64)
                    .build_cartesian_2d($xr, $yr);
                if let Ok(mut chart) = chart {
                    let _ = chart
                        .configure_mesh()
                        .x_desc(spec.x_label.as_str())
                        .y_desc(spec.y_label.as_str())
                        .draw();
                    for (i, (s, pts)) in series.iter().zip(&clean).enumerate() {
                        let color = COLORS[i % COLORS.len()];
                        if let Ok(ann) = chart.draw_series(LineSeries::new(
                            pts.iter().copied(),
                            color.stroke_width(2),
                        )) {
                            ann.label(s.name.clone()).legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 18, y)], color)
                            });
                        }
                        if s.markers {
                            let _ = chart.draw_series(
                                pts.iter().map(|&p| Circle::new(p, 3, color.filled())),
                            );
                        }
                    }
                    let _ = chart
                        .configure_series_labels()
                        .background_style(WHITE.mix(0.8))
                        .border_style(BLACK)
                        .position(SeriesLabelPosition::UpperLeft)
                        .draw();
                }
            }};
        }
        match (spec.log_x, spec.log_y) {
            (false, false) => draw!(x0..x1, y0..y1),
            (true, false) => draw!((x0..x1).log_scale(), y0..y1),
            (false, true) => draw!(x0..x1, (y0..y1).log_scale()),
            (true, true) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
        }
        let _ = root.present();
    }
    buf
}
