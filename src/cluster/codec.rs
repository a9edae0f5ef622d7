//! How plans travel between a client, the scheduler and the executors: our plan nodes
//! (the graph functions' [`GraphExec`]) and the scoring functions, on top of Ballista's
//! own codec (its shuffle nodes) and DataFusion's (everything else).

use std::sync::Arc;

use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, exec_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};

use crate::engine::influence::table::{GraphExec, GraphKind};
use crate::engine::scoring::Scoring;
use crate::lake::table::DerivedColumns;

/// What starts a buffer of ours (Ballista's are protobuf messages, never this).
const NODE_TAG: &[u8] = b"socialcx.node:";
/// What starts a scoring function's definition: then the fingerprint of its configuration.
const SCORING_TAG: &[u8] = b"socialcx.scoring:";

/// A plan node of ours, as it travels.
#[derive(Debug, Serialize, Deserialize)]
enum Node {
    /// A [`GraphExec`]: its function and projection (its inputs are its children).
    Graph {
        function: String,
        projection: Option<Vec<usize>>,
    },
}

/// The codec every role installs (client, scheduler, executors), built from that role's
/// own scoring configuration.
///
/// ```
/// use std::sync::Arc;
/// use datafusion_proto::physical_plan::PhysicalExtensionCodec;
/// use socialcx::engine::scoring::Scoring;
/// let codec = socialcx::cluster::codec::ClusterCodec::new(Arc::new(Scoring::load(None, None).unwrap()));
/// let udf = &codec.scoring().udfs()[0];
/// let mut buf = Vec::new();
/// codec.try_encode_udf(udf, &mut buf).unwrap();
/// assert_eq!(codec.try_decode_udf(udf.name(), &buf).unwrap().name(), udf.name());
/// ```
#[derive(Debug)]
pub struct ClusterCodec {
    scoring: Arc<Scoring>,
    ballista: BallistaPhysicalExtensionCodec,
    refuse_on_call: bool,
    /// Whether it knows socialcx's functions (only the test hook below says no).
    functions: bool,
}

impl ClusterCodec {
    /// The codec of a role scoring with `scoring`.
    pub fn new(scoring: Arc<Scoring>) -> ClusterCodec {
        ClusterCodec {
            scoring,
            ballista: BallistaPhysicalExtensionCodec::default(),
            refuse_on_call: false,
            functions: true,
        }
    }

    /// The codec of an executor scoring with `scoring`: a scoring function planned with
    /// another configuration decodes, and fails its task when called. Ballista reports a
    /// plan an executor cannot decode only as "rejected by executor", while a failed task's
    /// error reaches the client word for word.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use socialcx::engine::scoring::Scoring;
    /// let scoring = Arc::new(Scoring::load(None, None).unwrap());
    /// let codec = socialcx::cluster::codec::ClusterCodec::for_executor(scoring);
    /// ```
    pub fn for_executor(scoring: Arc<Scoring>) -> ClusterCodec {
        ClusterCodec {
            refuse_on_call: true,
            ..ClusterCodec::new(scoring)
        }
    }

    /// The scoring configuration this role runs with.
    pub fn scoring(&self) -> &Arc<Scoring> {
        &self.scoring
    }

    /// The same codec, as one of a build without socialcx's functions (`test-hooks` only).
    #[cfg(feature = "test-hooks")]
    pub fn without_functions(self) -> ClusterCodec {
        ClusterCodec {
            functions: false,
            ..self
        }
    }

    fn scoring_udf(&self, name: &str) -> Option<&ScalarUDF> {
        let udfs = if self.functions {
            self.scoring.udfs()
        } else {
            &[]
        };
        udfs.iter().find(|u| u.name() == name)
    }
}

impl PhysicalExtensionCodec for ClusterCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(ours) = buf.strip_prefix(NODE_TAG) else {
            return self.ballista.try_decode(buf, inputs, ctx, proto_converter);
        };
        let node: Node = serde_json::from_slice(ours).map_err(|e| {
            datafusion::error::DataFusionError::Internal(format!("a socialcx plan node: {e}"))
        })?;
        match node {
            Node::Graph {
                function,
                projection,
            } => {
                let Some(kind) = GraphKind::from_name(&function) else {
                    return exec_err!(
                        "this build has no graph function {function}: the cluster runs another version of socialcx"
                    );
                };
                Ok(Arc::new(GraphExec::from_parts(
                    kind,
                    inputs.to_vec(),
                    projection,
                )?))
            }
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(graph) = node.downcast_ref::<GraphExec>() else {
            return self.ballista.try_encode(node, buf, proto_converter);
        };
        let node = Node::Graph {
            function: graph.kind().name().to_string(),
            projection: graph.projection().map(<[usize]>::to_vec),
        };
        buf.extend_from_slice(NODE_TAG);
        serde_json::to_writer(&mut *buf, &node).map_err(|e| {
            datafusion::error::DataFusionError::Internal(format!("a socialcx plan node: {e}"))
        })
    }

    fn try_encode_udf(&self, udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if self.scoring_udf(udf.name()).is_some() {
            buf.extend_from_slice(SCORING_TAG);
            buf.extend_from_slice(self.scoring.fingerprint().as_bytes());
        }
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        let here = self.scoring.fingerprint();
        let planned = buf.strip_prefix(SCORING_TAG).map(String::from_utf8_lossy);
        let udf = self.scoring_udf(name);
        let reason = match (planned, udf) {
            (Some(planned), Some(udf)) if planned == here => return Ok(Arc::new(udf.clone())),
            (Some(planned), Some(_)) => format!(
                "{name}() was planned with scoring configuration {planned}, but this process \
                 scores with {here}: start every role of the cluster with the same --lexicon, \
                 --taxonomy and socialcx build"
            ),
            _ => format!(
                "{name}() is not a function of this process (socialcx {}): start every role \
                 of the cluster from the same socialcx build",
                env!("CARGO_PKG_VERSION")
            ),
        };
        if !self.refuse_on_call {
            return exec_err!("{reason}");
        }
        Ok(Arc::new(ScalarUDF::new_from_impl(Refused {
            name: name.to_string(),
            signature: udf.map_or_else(
                || Signature::variadic_any(Volatility::Volatile),
                |udf| udf.signature().clone(),
            ),
            udf: udf.cloned(),
            reason,
        })))
    }
    fn try_decode_udaf(&self, name: &str, _buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        // Our aggregates have no configuration: the name is the whole definition.
        // (A plan names a function by its name, never an alias.)
        match crate::engine::max_by::udafs()
            .into_iter()
            .find(|f| f.name() == name)
        {
            Some(udaf) => Ok(Arc::new(udaf)),
            None => exec_err!(
                "{name}() is not an aggregate function of this process (socialcx {}): start \
                 every role of the cluster from the same socialcx build",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// A function this process will not run: one planned with another scoring configuration
/// (it keeps the function's types), or one it does not have at all (an executor of another
/// build). It fails its task, saying why.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Refused {
    name: String,
    signature: Signature,
    udf: Option<ScalarUDF>,
    reason: String,
}

impl ScalarUDFImpl for Refused {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &self.udf {
            Some(udf) => udf.return_type(arg_types),
            None => exec_err!("{}", self.reason),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match &self.udf {
            Some(udf) => udf.return_field_from_args(args),
            None => exec_err!("{}", self.reason),
        }
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("{}", self.reason)
    }
}
