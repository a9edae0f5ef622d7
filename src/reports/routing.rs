//! The triage routing table: which team answers a conversation, by journey stage.
//!
//! The shipped table (`queries/routing.toml`) sends service and experience to support,
//! purchase to sales, advocacy to community, awareness and consideration to marketing.
//! A user file replaces it whole:
//!
//! ```toml
//! [teams]
//! service = "care"
//! purchase = "sales"
//! unclassified = "care"
//! ```
//!
//! The engine exposes it as the SQL table `routing (stage, team)`, which the `triage`
//! report joins; a stage missing from it is routed to `unrouted`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use crate::config::{load_toml, parse_toml};
use crate::engine::moments::STAGES;
use crate::{Error, Result};

/// Name of the routing table in SQL.
pub const ROUTING: &str = "routing";

/// The shipped routing table.
pub const SHIPPED_ROUTING: &str = include_str!("../../queries/routing.toml");

/// The stage of a conversation whose first post names no stage.
pub const UNCLASSIFIED: &str = "unclassified";

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    teams: BTreeMap<String, String>,
}

/// Stage -> team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The team for each stage.
    pub teams: BTreeMap<String, String>,
}

impl Routing {
    /// Parse a routing file; `origin` names it in errors. Stages must be journey stages or
    /// `unclassified`, so a misspelt stage is an error rather than a silent `unrouted`.
    ///
    /// ```
    /// let r = socialcx::reports::routing::Routing::parse("[teams]\nservice = \"care\"\n", "x").unwrap();
    /// assert_eq!(r.teams["service"], "care");
    /// assert!(socialcx::reports::routing::Routing::parse("[teams]\nservise = \"care\"\n", "x").is_err());
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Routing> {
        Routing::checked(parse_toml(text, origin)?, origin)
    }

    /// The table of a parsed file, if every stage is known and has a team.
    fn checked(file: RoutingFile, origin: &str) -> Result<Routing> {
        for (stage, team) in &file.teams {
            if !STAGES.contains(&stage.as_str()) && stage != UNCLASSIFIED {
                return Err(Error::config(
                    origin,
                    format!(
                        "unknown stage {stage:?} (the stages are {}, and {UNCLASSIFIED})",
                        STAGES.join(", ")
                    ),
                ));
            }
            if team.trim().is_empty() {
                return Err(Error::config(
                    origin,
                    format!("stage {stage:?} has an empty team"),
                ));
            }
        }
        Ok(Routing { teams: file.teams })
    }

    /// The shipped table.
    ///
    /// ```
    /// let r = socialcx::reports::routing::Routing::shipped();
    /// assert_eq!(r.teams["purchase"], "sales");
    /// ```
    pub fn shipped() -> Routing {
        Routing::parse(SHIPPED_ROUTING, "queries/routing.toml").expect("shipped routing parses")
    }

    /// The file at `path`, or the shipped table when `None`.
    pub fn load(path: Option<&Path>) -> Result<Routing> {
        match path {
            None => Ok(Routing::shipped()),
            Some(path) => Routing::checked(load_toml(path)?, &path.display().to_string()),
        }
    }

    /// The table as DataFusion registers it: `routing (stage, team)`.
    pub fn table(&self) -> Result<MemTable> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("stage", DataType::Utf8, false),
            Field::new("team", DataType::Utf8, false),
        ]));
        let stages: StringArray = self.teams.keys().map(Some).collect();
        let teams: StringArray = self.teams.values().map(Some).collect();
        let batch =
            RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(stages), Arc::new(teams)])?;
        Ok(MemTable::try_new(schema, vec![vec![batch]])?)
    }
}
