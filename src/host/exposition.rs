//! Prometheus' text exposition format (version 0.0.4), written by both
//! daemons' metrics endpoints: each family once, with its `# HELP` and
//! `# TYPE`, then its samples. Label values come from the configuration
//! only, and are escaped all the same.

use std::fmt::Write;

/// The Content-Type of a scrape's answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A histogram's state: cumulative counts per upper bound, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// counts[i]: observations ≤ bounds[i] (not yet cumulative).
    counts: Vec<u64>,
    /// Above the last bound.
    over: u64,
    sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            over: 0,
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, seconds: f64) {
        self.sum += seconds;
        match self.bounds.iter().position(|&b| seconds <= b) {
            Some(i) => self.counts[i] += 1,
            None => self.over += 1,
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.over
    }
}

/// A text being written: families in the order they are begun.
#[derive(Debug, Default)]
pub struct Text {
    out: String,
    /// Names begun, so that a family is never written twice.
    names: Vec<&'static str>,
}

/// Writes a label value as the format quotes it.
fn escape(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn labels(pairs: &[(&str, &str)], out: &mut String) {
    if pairs.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape(v, out);
        out.push('"');
    }
    out.push('}');
}

/// A sample value: integers without a fraction, the rest as Rust writes
/// an f64 (`+Inf` for infinity).
fn value(v: f64, out: &mut String) {
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

impl Text {
    pub fn new() -> Text {
        Text::default()
    }

    /// Begins family `name` (its HELP and TYPE), once.
    pub fn family(&mut self, name: &'static str, kind: Kind, help: &str) -> &mut Text {
        if !self.names.contains(&name) {
            self.names.push(name);
            let _ = writeln!(self.out, "# HELP {name} {help}");
            let _ = writeln!(self.out, "# TYPE {name} {}", kind.word());
        }
        self
    }

    /// One sample of the family begun last.
    pub fn sample(&mut self, name: &str, pairs: &[(&str, &str)], v: f64) -> &mut Text {
        self.out.push_str(name);
        labels(pairs, &mut self.out);
        self.out.push(' ');
        value(v, &mut self.out);
        self.out.push('\n');
        self
    }

    /// A state as one-hot gauges: one sample per state, 1 for `current`.
    pub fn one_hot(
        &mut self,
        name: &str,
        pairs: &[(&str, &str)],
        states: &[&str],
        current: &str,
    ) -> &mut Text {
        for s in states {
            let mut all: Vec<(&str, &str)> = pairs.to_vec();
            all.push(("state", s));
            self.sample(name, &all, if *s == current { 1.0 } else { 0.0 });
        }
        self
    }

    /// A histogram's `_bucket` (cumulative, `le`), `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, pairs: &[(&str, &str)], h: &Histogram) -> &mut Text {
        let mut cumulative = 0;
        let mut le = String::new();
        for (b, c) in h.bounds.iter().zip(&h.counts) {
            cumulative += c;
            le.clear();
            value(*b, &mut le);
            let mut all: Vec<(&str, &str)> = pairs.to_vec();
            all.push(("le", &le));
            self.sample(&format!("{name}_bucket"), &all, cumulative as f64);
        }
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("le", "+Inf"));
        self.sample(&format!("{name}_bucket"), &all, h.count() as f64);
        self.sample(&format!("{name}_sum"), pairs, h.sum);
        self.sample(&format!("{name}_count"), pairs, h.count() as f64);
        self
    }

    /// The families' names, in the order written.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    pub fn into_string(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaping() {
        let mut t = Text::new();
        t.family(
            "tandem_frames_received_total",
            Kind::Counter,
            "Frames read.",
        )
        .sample(
            "tandem_frames_received_total",
            &[("link", "ucast eth0 \"x\"\\")],
            3.0,
        );
        t.family("tandem_frames_received_total", Kind::Counter, "again")
            .sample("tandem_frames_received_total", &[], 0.5);
        assert_eq!(
            t.into_string(),
            "# HELP tandem_frames_received_total Frames read.\n# TYPE tandem_frames_received_total counter\ntandem_frames_received_total{link=\"ucast eth0 \\\"x\\\"\\\\\"} 3\ntandem_frames_received_total 0.5\n"
        );
    }

    #[test]
    fn a_state_is_one_hot() {
        let mut t = Text::new();
        t.family("tandem_peer_liveness", Kind::Gauge, "Liveness.")
            .one_hot(
                "tandem_peer_liveness",
                &[("node", "beta")],
                &["up", "dead"],
                "dead",
            );
        let s = t.into_string();
        assert!(s.contains("tandem_peer_liveness{node=\"beta\",state=\"up\"} 0\n"));
        assert!(s.contains("tandem_peer_liveness{node=\"beta\",state=\"dead\"} 1\n"));
    }

    #[test]
    fn a_histogram_is_cumulative_with_inf_sum_and_count() {
        static BOUNDS: [f64; 3] = [0.25, 0.5, 1.0];
        let mut h = Histogram::new(&BOUNDS);
        for s in [0.125, 0.5, 0.5, 4.0] {
            h.observe(s);
        }
        let mut t = Text::new();
        t.family("tandem_takeover_seconds", Kind::Histogram, "Takeovers.")
            .histogram("tandem_takeover_seconds", &[("group", "g")], &h);
        let s = t.into_string();
        for line in [
            "tandem_takeover_seconds_bucket{group=\"g\",le=\"0.25\"} 1\n",
            "tandem_takeover_seconds_bucket{group=\"g\",le=\"0.5\"} 3\n",
            "tandem_takeover_seconds_bucket{group=\"g\",le=\"1\"} 3\n",
            "tandem_takeover_seconds_bucket{group=\"g\",le=\"+Inf\"} 4\n",
            "tandem_takeover_seconds_sum{group=\"g\"} 5.125\n",
            "tandem_takeover_seconds_count{group=\"g\"} 4\n",
        ] {
            assert!(s.contains(line), "{line} not in\n{s}");
        }
    }
}
