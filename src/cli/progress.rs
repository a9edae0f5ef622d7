//! Progress bars on stderr (hidden when stderr is not a terminal), for what the library
//! reports through [`Progress`].

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Progress, Silent, Unit};

/// Bars on stderr when `visible`, nothing otherwise.
///
/// ```
/// let p = socialcx::cli::progress::bars(false);
/// p.finish();
/// ```
pub fn bars(visible: bool) -> Arc<dyn Progress> {
    if visible {
        Arc::new(Bars(Mutex::new(ProgressBar::hidden())))
    } else {
        Arc::new(Silent)
    }
}

/// The current step's bar: a new one per step, styled before it first draws (restyling a
/// drawn bar shows the old step's counts in the new step's units for a frame).
struct Bars(Mutex<ProgressBar>);

impl Bars {
    fn bar(&self) -> ProgressBar {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Progress for Bars {
    fn start(&self, message: &str, total: u64, unit: Unit) {
        let counts = match unit {
            Unit::Bytes => "{bytes}/{total_bytes} {bytes_per_sec}",
            Unit::Files => "{pos}/{len} files",
            Unit::Rows => "{pos}/{len} rows {per_sec}",
            Unit::Steps => "{pos}/{len}",
        };
        let template = format!("{{msg:30!}} [{{bar:30}}] {counts} eta {{eta}}");
        let style = ProgressStyle::with_template(&template)
            .expect("valid template")
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(message.to_string());
        let old = std::mem::replace(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()), bar);
        old.finish_and_clear();
    }

    fn set(&self, done: u64) {
        self.bar().set_position(done);
    }

    fn message(&self, message: &str) {
        self.bar().set_message(message.to_string());
    }

    fn finish(&self) {
        self.bar().finish_and_clear();
    }
}
