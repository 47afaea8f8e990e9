//! The new-request page on the wire: the choices it offers (projects,
//! the module catalogue, a module's schema) and the draft it sends back.

use crate::domain::config::Config;
use crate::domain::registry::Module;
use crate::domain::request::Kind;
use serde::{Deserialize, Serialize};

/// One module in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleCard {
    /// Module type (`s3-bucket`).
    pub module_type: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// Grouping.
    pub category: String,
    /// Number of inputs.
    pub inputs: usize,
    /// Number of high-risk inputs.
    pub high_risk_inputs: usize,
}

/// A project and its environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectChoice {
    /// Key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Environments, in order.
    pub environments: Vec<String>,
}

/// What the page offers the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOptions {
    /// Projects.
    pub projects: Vec<ProjectChoice>,
    /// Modules.
    pub modules: Vec<ModuleCard>,
    /// The chosen module's schema (its template left out).
    pub module: Option<Module>,
    /// The id the request will be filed under, issued by the server.
    pub id: String,
    /// The server's proof that it issued `id` to this caller.
    #[serde(default)]
    pub ticket: String,
}

/// A request being written: where, which module, the answers so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The id the server issued to the page (or the request's, when changing it).
    pub id: String,
    /// The ticket issued with a new id (empty when changing a request).
    #[serde(default)]
    pub ticket: String,
    /// Project key.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Module type.
    pub module: String,
    /// Answers.
    pub config: Config,
    /// New, or adopting an existing resource (modules with `import`).
    #[serde(default, skip_serializing_if = "Kind::is_create")]
    pub kind: Kind,
}
