//! The module registry: the single source of truth for the UI's forms, the
//! assistant's questions, validation, normalization and the block template.
//!
//! [`Registry::from_toml`] (in [`load`]) is the only way to build one from
//! text, and it refuses anything it cannot fully check.

mod attribute;
mod load;

pub use attribute::AttributePath;
pub use load::RegistryError;

use super::ids::ModuleType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every module tfpilot can render, by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// Modules keyed by their type (`s3-bucket`).
    pub modules: BTreeMap<ModuleType, Module>,
}

impl Registry {
    /// The module of this type, if the registry has it.
    pub fn module(&self, ty: &ModuleType) -> Option<&Module> {
        self.modules.get(ty)
    }
}

/// One module: how it is presented, asked for, validated and rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// The module's type, e.g. `s3-bucket`.
    #[serde(rename = "type")]
    pub module_type: ModuleType,
    /// Human title ("S3 bucket").
    pub title: String,
    /// One sentence for the catalogue.
    pub description: String,
    /// Grouping in the UI ("storage").
    pub category: String,
    /// File under `envs/<env>/` the block is written to.
    pub file: String,
    /// Terraform module source, relative to `envs/<env>/`.
    pub source: String,
    /// minijinja template of the module block (without markers).
    pub template: String,
    /// Words people use when they ask for one ("dumps", "uploads"): the
    /// assistant picks a module by them, its title and its category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Inputs in the order the assistant asks them.
    pub inputs: Vec<Input>,
    /// How an existing resource is adopted (imported) by a request of
    /// kind `adopt`; modules without it are only ever created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Import>,
}

/// A module's `[modules.<m>.import]` table: where an adopted resource
/// goes and the id it is imported by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The resource address inside the module (`terraform_data.this`).
    pub to: String,
    /// minijinja template over the inputs (`{{ config.name }}`) giving the
    /// id Terraform imports by; tfpilot writes it through the literal
    /// encoder.
    pub id: String,
}

impl Module {
    /// The input with this name.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// The type of an input's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    /// A string, optionally constrained by `pattern` and length bounds.
    String,
    /// A number, optionally an integer, within `min`..=`max`.
    Number,
    /// true / false.
    Bool,
    /// One of `values`.
    Enum,
    /// A list of strings, each matching `pattern`, with count bounds.
    List,
    /// A map of string to string.
    Map,
}

impl InputType {
    /// Parses the registry spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "number" => Self::Number,
            "bool" => Self::Bool,
            "enum" => Self::Enum,
            "list" => Self::List,
            "map" => Self::Map,
            _ => return None,
        })
    }

    /// The registry spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::Enum => "enum",
            Self::List => "list",
            Self::Map => "map",
        }
    }
}

/// How dangerous a change of this input is; shown to approvers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Routine.
    #[default]
    Low,
    /// Worth a second look.
    Medium,
    /// Can lose data or break consumers.
    High,
}

/// One input of a module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Config key and Terraform variable name.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: InputType,
    /// What it means.
    pub description: String,
    /// What the assistant asks.
    pub question: String,
    /// Must be given (never has a default).
    pub required: bool,
    /// Used when the requester gives nothing.
    pub default: Option<serde_json::Value>,
    /// A valid sample value, shown as a hint (required inputs must have one).
    pub example: Option<serde_json::Value>,
    /// For strings and list items.
    pub pattern: Option<Pattern>,
    /// Number: lowest value; string: shortest length; list: fewest items.
    pub min: Option<f64>,
    /// Number: highest value; string: longest length; list: most items.
    pub max: Option<f64>,
    /// Numbers only: must be whole.
    pub integer: bool,
    /// Enum choices.
    pub values: Vec<String>,
    /// Cannot change after creation.
    pub immutable: bool,
    /// Never shown, logged or sent to the browser.
    pub sensitive: bool,
    /// Shown to approvers.
    pub risk: Risk,
    /// How the change explanation words this input's value: a phrase
    /// with `{value}` (numbers, strings, enums; a list's items; a map's
    /// keys, never its values), or for a bool the phrase when it is true.
    /// Checked at load; never set on a sensitive input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// A bool's phrase when it is false (nothing is said without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain_off: Option<String>,
    /// Where the input lands, unchanged, in the module's resources
    /// (`terraform_data.this.input.max_receive_count`): drift of that
    /// attribute is adopted as a new value of this input. Set only where
    /// the mapping is one to one; checked at load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<AttributePath>,
}

/// A compiled regular expression that serializes as its source text.
#[derive(Debug, Clone)]
pub struct Pattern(regex_lite::Regex);

impl Pattern {
    /// Compiles `src`, or returns the compiler's message.
    pub fn new(src: &str) -> Result<Self, String> {
        regex_lite::Regex::new(src)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// Whether `s` matches (patterns carry their own anchors).
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let src = String::deserialize(d)?;
        Pattern::new(&src).map_err(serde::de::Error::custom)
    }
}
