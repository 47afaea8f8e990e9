//! Reading the module registry file.

use app::domain::registry::Registry;
use std::path::Path;

/// The registry could not be used; the message lists every problem with
/// file, line, module and field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(String);

/// Reads and checks the registry at `path`.
pub fn load(path: &Path) -> Result<Registry, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError(format!(
            "{shown}: cannot read the module registry: {e} (set TFPILOT_REGISTRY to its path)"
        ))
    })?;
    Registry::from_toml(&shown, &text).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        LoadError(format!(
            "the module registry is invalid:\n{}",
            lines.join("\n")
        ))
    })
}
