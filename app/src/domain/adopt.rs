//! Adopting an existing resource: the `import` block an adopt request
//! renders next to its module block, the rules its import id follows, and
//! when the block is still wanted.
//!
//! The import id is the module's `import.id` template rendered over the
//! inputs, then written through the literal encoder like every value:
//! `import { to = module.<block>.<to> id = "<id>" }`. It stays inside the
//! request's bounded block, and only until the first successful apply: the
//! next commit tfpilot makes to the block (a new revision, a branch brought
//! up to date) leaves it out.

use super::config::{Config, FieldError};
use super::hcl;
use super::ids::Target;
use super::registry::{Import, Module};
use super::render::{self, Block, TemplateError};
use super::request::{Kind, Request};
use serde_json::Value;

/// Why an adopt request cannot be rendered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptError {
    /// The module has no `import` table: it can only be created.
    #[error(
        "module `{module}` cannot adopt an existing resource (its registry entry has no `import` table); use kind `create`"
    )]
    NotSupported {
        /// The module type.
        module: String,
    },
    /// The import id is empty or spans lines.
    #[error("the import id made from {} {rule}", names(.inputs))]
    BadId {
        /// The inputs the id is made from (`name`).
        inputs: Vec<String>,
        /// What is wrong (`is empty`, `contains a newline`).
        rule: String,
    },
    /// A template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

impl AdoptError {
    /// The refusal as field errors: `kind` for a module that cannot adopt,
    /// else one per input the import id is made from (by input name, like
    /// every other field error of a config).
    pub fn field_errors(&self) -> Vec<FieldError> {
        let message = self.to_string();
        let one = |field: &str| FieldError {
            field: field.to_owned(),
            message: message.clone(),
        };
        match self {
            AdoptError::NotSupported { .. } => vec![one("kind")],
            AdoptError::BadId { inputs, .. } if !inputs.is_empty() => {
                inputs.iter().map(|i| one(i)).collect()
            }
            AdoptError::BadId { .. } | AdoptError::Template(_) => vec![one("kind")],
        }
    }
}

fn names(inputs: &[String]) -> String {
    match inputs {
        [] => "the module's constants".into(),
        [one] => format!("input `{one}`"),
        many => format!(
            "inputs {}",
            many.iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The inputs an import id template reads (`config.<name>`), sorted, and
/// every other name it reads (which the registry loader refuses).
pub fn id_inputs(template: &str) -> Result<(Vec<String>, Vec<String>), TemplateError> {
    let env = render::environment();
    let t = env
        .template_from_str(template)
        .map_err(render::template_error)?;
    let mut inputs = Vec::new();
    let mut others = Vec::new();
    for name in t.undeclared_variables(true) {
        match name
            .strip_prefix("config.")
            .and_then(|r| r.split('.').next())
        {
            Some(input) if !input.is_empty() => inputs.push(input.to_owned()),
            _ => others.push(name),
        }
    }
    inputs.sort();
    inputs.dedup();
    others.sort();
    Ok((inputs, others))
}

/// The import id `import` gives for `config`: rendered, then checked (not
/// empty, one line).
pub fn import_id(import: &Import, config: &Config) -> Result<String, AdoptError> {
    let env = render::environment();
    let t = env
        .template_from_str(&import.id)
        .map_err(render::template_error)?;
    // An input left empty reads as nothing, never as `none`.
    let config: Config = config
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if v.is_null() {
                    Value::from("")
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    let id = t
        .render(minijinja::context! { config => config })
        .map_err(render::template_error)?;
    let rule = if id.trim().is_empty() {
        Some("is empty")
    } else if id.contains(['\n', '\r']) {
        Some("contains a newline")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(AdoptError::BadId {
            inputs: id_inputs(&import.id)?.0,
            rule: format!("{rule}; give an input that names the existing resource"),
        }),
        None => Ok(id),
    }
}

/// The rule for filing a request of `kind` for `module` with `config`
/// (normalized): an adopt request needs a module with an `import` table
/// and an import id that is not empty and has no newline. Shared by the
/// server (422) and the browser.
pub fn check(module: &Module, kind: Kind, config: &Config) -> Result<(), AdoptError> {
    match kind {
        Kind::Create => Ok(()),
        Kind::Adopt => {
            let import = module
                .import
                .as_ref()
                .ok_or_else(|| AdoptError::NotSupported {
                    module: module.module_type.to_string(),
                })?;
            import_id(import, config).map(|_| ())
        }
    }
}

/// Whether the request's block still carries its import block: an adopt
/// request that no apply has succeeded for yet (after one, the resource
/// is in the state and the next commit to the block drops it).
pub fn wants_import(req: &Request) -> bool {
    req.kind == Kind::Adopt && !req.runs.apply.attempts.iter().any(|a| a.succeeded())
}

/// The `import` block for `module`'s block of `target`.
pub fn import_block(
    module: &Module,
    target: Target<'_>,
    config: &Config,
) -> Result<String, AdoptError> {
    let import = module
        .import
        .as_ref()
        .ok_or_else(|| AdoptError::NotSupported {
            module: module.module_type.to_string(),
        })?;
    let id = import_id(import, config)?;
    Ok(format!(
        "import {{\n  to = module.{}.{}\n  id = {}\n}}\n",
        render::block_name(&module.module_type, target.request_id),
        import.to,
        hcl::encode(&Value::String(id))
    ))
}

/// The request's block: the module block, and its import block after it
/// when `import` (see [`wants_import`]), between one pair of markers.
pub fn render(
    module: &Module,
    target: Target<'_>,
    config: &Config,
    import: bool,
) -> Result<Block, AdoptError> {
    let block = render::render_block(module, target, config)?;
    if !import {
        return Ok(block);
    }
    let body = format!("{}\n{}", block.body, import_block(module, target, config)?);
    Ok(render::wrap(&block.file, target, body))
}

#[cfg(test)]
mod tests;
