//! The layers under `Config::load`: the `tfpilot.toml` file and the parsing of `TFPILOT_*` values.

use super::ConfigError;
use super::projects::FileProject;
use super::tfc::FileSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) bind: Option<String>,
    pub(super) data_dir: Option<PathBuf>,
    pub(super) registry: Option<PathBuf>,
    pub(super) site_root: Option<PathBuf>,
    #[serde(default)]
    pub(super) projects: BTreeMap<String, FileProject>,
    pub(super) prod_environments: Option<Vec<String>>,
    pub(super) prod_allowed_users: Option<Vec<String>>,
    pub(super) destroy_prod_allowed_users: Option<Vec<String>>,
    pub(super) four_eyes: Option<bool>,
    pub(super) admins: Option<Vec<String>>,
    pub(super) approvers: Option<Vec<String>>,
    /// The file's path and text, to name the line of a problem.
    #[serde(skip)]
    pub(super) source: FileSource,
}

/// `10.0.0.0/8, 192.0.2.7, 2001:db8::/32`: addresses and CIDR blocks.
pub(super) fn trusted_proxies(value: Option<String>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let value = value.unwrap_or_default();
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| ConfigError::Env {
                    var: "TFPILOT_TRUSTED_PROXIES",
                    message: format!(
                        "`{entry}` is not an IP address or a CIDR block such as 10.0.0.0/8"
                    ),
                })
        })
        .collect()
}

pub(super) fn flag(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match env(var) {
        None => Ok(default),
        Some(v) => parse_bool(&v).ok_or_else(|| ConfigError::Env {
            var,
            message: format!("`{v}` is not a boolean (true or false)"),
        }),
    }
}

pub(super) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub(super) fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: shown.clone(),
        message: format!("cannot read the file named by TFPILOT_CONFIG: {e}"),
    })?;
    let mut file: FileConfig = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        ConfigError::File {
            path: line.map_or(shown.clone(), |l| format!("{shown}:{l}")),
            message: e.message().trim().to_owned(),
        }
    })?;
    file.source = FileSource { shown, text };
    Ok(file)
}
