//! SQL functions that let a test watch queries from inside the engine: `gate(x)` holds
//! each call until the test lets it go and counts the calls inside at once; `tick(x)`
//! counts the batches evaluated. Both return their argument.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// What the gate has seen.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct GateCounts {
    /// Calls waiting inside the gate now.
    pub inside: usize,
    /// The most calls ever inside at once.
    pub most_inside: usize,
    /// Calls let go so far.
    pub finished: usize,
    /// Calls the test has allowed to leave and that have not left yet.
    released: usize,
}

/// `gate(x)`: each call waits inside until [`Gate::release`] lets one go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate {
    state: Arc<(Mutex<GateCounts>, Condvar)>,
}

impl Gate {
    /// The SQL function, to register on an engine's context.
    pub(crate) fn udf(&self) -> ScalarUDF {
        ScalarUDF::from(Probe {
            name: "gate",
            signature: Signature::exact(vec![DataType::Int64], Volatility::Volatile),
            kind: ProbeKind::Gate(self.clone()),
        })
    }

    /// Wait (at most `limit`) until `done` holds for the counts; the counts then.
    pub(crate) fn wait_until(
        &self,
        limit: Duration,
        done: impl Fn(&GateCounts) -> bool,
    ) -> GateCounts {
        let (lock, changed) = &*self.state;
        let deadline = Instant::now() + limit;
        let mut counts = lock.lock().unwrap();
        while !done(&counts) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "gate never reached the state: {counts:?}");
            counts = changed.wait_timeout(counts, left).unwrap().0;
        }
        counts.clone()
    }

    /// Let one call inside leave.
    pub(crate) fn release(&self) {
        let (lock, changed) = &*self.state;
        lock.lock().unwrap().released += 1;
        changed.notify_all();
    }

    fn pass(&self) {
        let (lock, changed) = &*self.state;
        let mut counts = lock.lock().unwrap();
        counts.inside += 1;
        counts.most_inside = counts.most_inside.max(counts.inside);
        changed.notify_all();
        while counts.released == 0 {
            counts = changed.wait(counts).unwrap();
        }
        counts.released -= 1;
        counts.inside -= 1;
        counts.finished += 1;
        changed.notify_all();
    }
}

/// `tick(x)`: counts the batches it evaluates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ticker {
    batches: Arc<AtomicU64>,
}

impl Ticker {
    /// The SQL function, to register on an engine's context.
    pub(crate) fn udf(&self) -> ScalarUDF {
        ScalarUDF::from(Probe {
            name: "tick",
            signature: Signature::exact(vec![DataType::Int64], Volatility::Volatile),
            kind: ProbeKind::Ticker(self.clone()),
        })
    }

    /// Batches evaluated so far.
    pub(crate) fn batches(&self) -> u64 {
        self.batches.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
enum ProbeKind {
    Gate(Gate),
    Ticker(Ticker),
}

#[derive(Debug)]
struct Probe {
    name: &'static str,
    signature: Signature,
    kind: ProbeKind,
}

impl PartialEq for Probe {
    fn eq(&self, other: &Self) -> bool {
        match (&self.kind, &other.kind) {
            (ProbeKind::Gate(a), ProbeKind::Gate(b)) => Arc::ptr_eq(&a.state, &b.state),
            (ProbeKind::Ticker(a), ProbeKind::Ticker(b)) => Arc::ptr_eq(&a.batches, &b.batches),
            _ => false,
        }
    }
}

impl Eq for Probe {}

impl Hash for Probe {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Probe {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match &self.kind {
            ProbeKind::Gate(gate) => gate.pass(),
            ProbeKind::Ticker(ticker) => {
                ticker.batches.fetch_add(1, Ordering::SeqCst);
            }
        }
        Ok(args.args[0].clone())
    }
}
