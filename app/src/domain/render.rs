//! The block renderer: registry template + normalized config → the exact
//! bytes tfpilot commits, wrapped in its markers.
//!
//! User values reach the output only through the `hcl` filter, which is the
//! literal encoder; templates run with strict undefined checks and no
//! auto-escaping.

use super::blocks;
use super::config::Config;
use super::hcl;
use super::ids::{EnvName, ModuleType, ProjectKey, RequestId, Target};
use super::registry::{InputType, Module};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

/// A rendered block ready to be written into `envs/<env>/<file>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// File name under `envs/<env>/`.
    pub file: String,
    /// The marker id (the request id).
    pub id: String,
    /// The template output, ending in a newline (what goes between markers).
    pub body: String,
    /// Markers + body: the bytes the bounded editor inserts.
    pub text: String,
}

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Line inside the template, when the engine knows it.
    pub line: Option<usize>,
    /// The engine's description.
    pub message: String,
}

/// The HCL label of a request's module block: `<module>_<request id>`.
pub fn block_name(module: &ModuleType, id: &RequestId) -> String {
    format!("{module}_{id}")
}

/// The template engine every registry template runs in: strict
/// undefined, no auto-escape, the `hcl` filter.
pub(super) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter(
        "hcl",
        |v: minijinja::Value| -> Result<String, minijinja::Error> {
            if v.is_undefined() {
                return Err(minijinja::Error::from(minijinja::ErrorKind::UndefinedError));
            }
            let json = serde_json::to_value(&v).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
            })?;
            Ok(hcl::encode(&json))
        },
    );
    env
}

pub(super) fn template_error(e: minijinja::Error) -> TemplateError {
    TemplateError {
        line: e.line(),
        message: match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.to_string(),
        },
    }
}

/// Renders `module` for `target` with a normalized `config`.
pub fn render_block(
    module: &Module,
    target: Target<'_>,
    config: &Config,
) -> Result<Block, TemplateError> {
    let env = environment();
    let template = env
        .template_from_str(&module.template)
        .map_err(template_error)?;
    let ctx = minijinja::context! {
        block_name => block_name(&module.module_type, target.request_id),
        request_id => target.request_id.as_str(),
        project => target.project.as_str(),
        environment => target.environment.as_str(),
        module => module.module_type.as_str(),
        source => module.source.as_str(),
        config => config,
    };
    let mut body = template.render(ctx).map_err(template_error)?;
    let trimmed = body.trim_end().len();
    body.truncate(trimmed);
    body.push('\n');
    Ok(wrap(&module.file, target, body))
}

/// `body` (ending in a newline) between the markers of `target`'s block.
pub(super) fn wrap(file: &str, target: Target<'_>, body: String) -> Block {
    let id = target.request_id.as_str();
    let text = format!(
        "{}\n{body}{}\n",
        blocks::begin_marker(id),
        blocks::end_marker(id)
    );
    Block {
        file: file.to_owned(),
        id: id.to_owned(),
        body,
        text,
    }
}

/// A config with a valid value for every input: its default, else its
/// example, else `null` (optional) or a placeholder of the right type.
/// Used to check that a template renders, and to render samples.
pub fn sample_config(module: &Module) -> Config {
    module
        .inputs
        .iter()
        .map(|i| {
            let placeholder = || match i.ty {
                _ if !i.required => Value::Null,
                InputType::String => Value::String("sample".into()),
                InputType::Number => serde_json::json!(i.min.unwrap_or(1.0) as i64),
                InputType::Bool => Value::Bool(false),
                InputType::Enum => Value::String(i.values.first().cloned().unwrap_or_default()),
                InputType::List => Value::Array(vec![]),
                InputType::Map => Value::Object(Default::default()),
            };
            let v = i
                .default
                .clone()
                .or_else(|| i.example.clone())
                .unwrap_or_else(placeholder);
            (i.name.clone(), v)
        })
        .collect()
}

/// Compiles the template and renders it once with [`sample_config`], so a
/// typo (`config.nmae`, an unknown filter) stops the registry from loading.
pub fn check_template(module: &Module) -> Result<(), TemplateError> {
    let id = RequestId::generate(0, 0);
    let (project, env) = (
        ProjectKey::parse("sample").expect("valid"),
        EnvName::parse("dev").expect("valid"),
    );
    let target = Target {
        request_id: &id,
        project: &project,
        environment: &env,
    };
    render_block(module, target, &sample_config(module)).map(|_| ())
}
