//! Where a project's runs go (`executor` in `tfpilot.toml`) and HCP
//! Terraform's settings: `[projects.<key>.tfc]` with `organization` and a
//! workspace per environment, `TFPILOT_TFC_TOKEN` and `TFPILOT_TFC_URL`.

use super::{ConfigError, SecretString};
use app::domain::ids::EnvName;
use serde::Deserialize;
use std::collections::BTreeMap;

/// HCP Terraform's (or Terraform Enterprise's) address.
pub const DEFAULT_TFC_URL: &str = "https://app.terraform.io";

/// Where a project's plans, applies and destroys run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExecutorChoice {
    /// The mode's own: local terraform in the embedded mode, GitHub Actions
    /// with GitHub (`executor` unset, `"local"` or `"actions"`).
    #[default]
    Mode,
    /// HCP Terraform or Terraform Enterprise workspaces (`executor = "tfc"`).
    Tfc(TfcProject),
}

/// A project's HCP Terraform workspaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfcProject {
    /// The organization (`tfc.organization`).
    pub organization: String,
    /// The workspace of each environment (`tfc.workspaces`).
    pub workspaces: BTreeMap<EnvName, String>,
}

/// The API and its token, for projects with `executor = "tfc"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfcSettings {
    /// `TFPILOT_TFC_URL` without a trailing slash (default
    /// `https://app.terraform.io`; Terraform Enterprise's own URL works).
    pub url: String,
    /// A user or team API token (`TFPILOT_TFC_TOKEN`).
    pub token: SecretString,
}

/// `[projects.<key>.tfc]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTfc {
    organization: String,
    #[serde(default)]
    workspaces: BTreeMap<String, String>,
}

/// `tfpilot.toml` itself, to name the line of a problem.
#[derive(Debug, Clone, Default)]
pub(super) struct FileSource {
    /// The path as given.
    pub(super) shown: String,
    /// The whole text.
    pub(super) text: String,
}

impl FileSource {
    /// `path:line` of a byte offset.
    pub(super) fn at(&self, offset: usize) -> String {
        let end = offset.min(self.text.len());
        let line = self.text[..end].matches('\n').count() + 1;
        format!("{}:{line}", self.shown)
    }
}

/// The project's `executor` and `tfc` keys, checked against its
/// environments: every environment needs a workspace.
pub(super) fn executor_choice(
    key: &str,
    executor: Option<toml::Spanned<String>>,
    tfc: Option<toml::Spanned<FileTfc>>,
    environments: &[EnvName],
    source: &FileSource,
) -> Result<ExecutorChoice, ConfigError> {
    let bad = |offset: usize, field: &str, message: String| ConfigError::File {
        path: source.at(offset),
        message: format!("projects.{key}.{field}: {message}"),
    };
    let tfc_at = tfc.as_ref().map(|t| t.span().start);
    let tfc_chosen = match &executor {
        None => tfc.is_some(),
        Some(e) => match e.get_ref().as_str() {
            "tfc" => true,
            "local" | "actions" => false,
            other => {
                return Err(bad(
                    e.span().start,
                    "executor",
                    format!("`{other}` is not an executor: use \"tfc\", \"actions\" or \"local\""),
                ));
            }
        },
    };
    if !tfc_chosen {
        if let Some(at) = tfc_at {
            return Err(bad(
                at,
                "tfc",
                "is set but the executor is not \"tfc\"; remove it or set executor = \"tfc\""
                    .into(),
            ));
        }
        return Ok(ExecutorChoice::Mode);
    }
    let at = executor.as_ref().map_or(0, |e| e.span().start);
    let Some(tfc) = tfc else {
        return Err(bad(
            at,
            "tfc",
            "executor = \"tfc\" needs a [projects.<key>.tfc] table with `organization` and \
             `workspaces = { <env> = \"<workspace>\" }`"
                .into(),
        ));
    };
    let at = tfc.span().start;
    let tfc = tfc.into_inner();
    let organization = tfc.organization.trim().to_owned();
    if !valid_name(&organization) {
        return Err(bad(
            at,
            "tfc.organization",
            format!("`{organization}` is not an organization name (letters, digits, - and _)"),
        ));
    }
    let mut workspaces = BTreeMap::new();
    for (env, name) in tfc.workspaces {
        let parsed = environments.iter().find(|e| e.as_str() == env);
        let Some(parsed) = parsed else {
            return Err(bad(
                at,
                &format!("tfc.workspaces.{env}"),
                format!("`{env}` is not one of the project's environments"),
            ));
        };
        let name = name.trim().to_owned();
        if !valid_name(&name) {
            return Err(bad(
                at,
                &format!("tfc.workspaces.{env}"),
                format!("`{name}` is not a workspace name (letters, digits, - and _)"),
            ));
        }
        workspaces.insert(parsed.clone(), name);
    }
    if let Some(missing) = environments.iter().find(|e| !workspaces.contains_key(*e)) {
        return Err(bad(
            at,
            &format!("tfc.workspaces.{missing}"),
            format!("environment `{missing}` has no HCP Terraform workspace"),
        ));
    }
    Ok(ExecutorChoice::Tfc(TfcProject {
        organization,
        workspaces,
    }))
}

/// Organization and workspace names: letters, digits, `-` and `_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// The API settings, needed when `needed` (a project runs on HCP
/// Terraform) unless `stored` (a master key: the token may be the stored
/// integration `tfc/default`).
pub(super) fn tfc_settings(
    env: &impl Fn(&str) -> Option<String>,
    needed: bool,
    stored: bool,
) -> Result<Option<TfcSettings>, ConfigError> {
    let set = |var: &str| {
        env(var)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let url = set("TFPILOT_TFC_URL").unwrap_or_else(|| DEFAULT_TFC_URL.to_owned());
    let parsed = reqwest::Url::parse(&url).map_err(|e| ConfigError::Env {
        var: "TFPILOT_TFC_URL",
        message: format!("`{url}` is not a URL ({e}); the default is {DEFAULT_TFC_URL}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::Env {
            var: "TFPILOT_TFC_URL",
            message: format!("`{url}` must be an http or https URL such as {DEFAULT_TFC_URL}"),
        });
    }
    let token = match set("TFPILOT_TFC_TOKEN") {
        Some(t) => t,
        None if needed && !stored => {
            return Err(ConfigError::Env {
                var: "TFPILOT_TFC_TOKEN",
                message: "must be set: a project has executor = \"tfc\"; use a team or user \
                          API token that may queue, read and apply runs in its workspaces \
                          (or set TFPILOT_MASTER_KEY and store it as the tfc integration `default`)"
                    .into(),
            });
        }
        None => return Ok(None),
    };
    Ok(Some(TfcSettings {
        url: url.trim_end_matches('/').to_owned(),
        token: SecretString::new(token),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(text: &str) -> Result<ExecutorChoice, ConfigError> {
        #[derive(Deserialize)]
        struct P {
            executor: Option<toml::Spanned<String>>,
            tfc: Option<toml::Spanned<FileTfc>>,
        }
        let p: P = toml::from_str(text).unwrap();
        let envs = ["dev", "prod"].map(|e| EnvName::parse(e).unwrap());
        let source = FileSource {
            shown: "tfpilot.toml".into(),
            text: text.into(),
        };
        executor_choice("payments", p.executor, p.tfc, &envs, &source)
    }

    #[test]
    fn a_tfc_project_names_a_workspace_per_environment() {
        let choice = project(
            "executor = \"tfc\"\n[tfc]\norganization = \"acme\"\n\
             workspaces = { dev = \"payments-dev\", prod = \"payments-prod\" }\n",
        )
        .unwrap();
        let ExecutorChoice::Tfc(tfc) = choice else {
            panic!("tfc expected")
        };
        assert_eq!(tfc.organization, "acme");
        assert_eq!(tfc.workspaces.len(), 2);
        let dotted = project(
            "executor = \"tfc\"\ntfc.organization = \"acme\"\n\
             tfc.workspaces = { dev = \"payments-dev\", prod = \"payments-prod\" }\n",
        )
        .unwrap();
        assert_eq!(dotted, ExecutorChoice::Tfc(tfc), "dotted keys say the same");
        assert_eq!(project("").unwrap(), ExecutorChoice::Mode);
        assert_eq!(
            project("executor = \"actions\"").unwrap(),
            ExecutorChoice::Mode
        );
    }

    #[test]
    fn a_missing_workspace_names_the_file_line_and_key() {
        let err = project(
            "executor = \"tfc\"\n\n[tfc]\norganization = \"acme\"\nworkspaces = { dev = \"payments-dev\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("tfpilot.toml:3: "), "{err}");
        assert!(
            err.contains("projects.payments.tfc.workspaces.prod"),
            "{err}"
        );
    }

    #[test]
    fn bad_executors_and_names_are_refused() {
        let err = project("executor = \"jenkins\"").unwrap_err().to_string();
        assert!(
            err.contains("tfpilot.toml:1: projects.payments.executor"),
            "{err}"
        );
        let err = project("executor = \"tfc\"").unwrap_err().to_string();
        assert!(err.contains("projects.payments.tfc"), "{err}");
        let err = project(
            "executor = \"tfc\"\n[tfc]\norganization = \"a b\"\nworkspaces = { dev = \"d\", prod = \"p\" }",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tfc.organization"), "{err}");
        let err = project(
            "[tfc]\norganization = \"acme\"\nworkspaces = { dev = \"d\", prod = \"p\", qa = \"q\" }",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tfc.workspaces.qa"), "{err}");
    }

    #[test]
    fn the_token_is_needed_only_by_tfc_projects() {
        let none = |_: &str| None;
        assert_eq!(tfc_settings(&none, false, false).unwrap(), None);
        let err = tfc_settings(&none, true, false).unwrap_err().to_string();
        assert!(err.starts_with("TFPILOT_TFC_TOKEN"), "{err}");
        assert_eq!(
            tfc_settings(&none, true, true).unwrap(),
            None,
            "with a master key the token may be stored"
        );
        let env = |k: &str| match k {
            "TFPILOT_TFC_TOKEN" => Some("t0ken".to_owned()),
            "TFPILOT_TFC_URL" => Some("https://tfe.example.com/".to_owned()),
            _ => None,
        };
        let s = tfc_settings(&env, true, false).unwrap().unwrap();
        assert_eq!(s.url, "https://tfe.example.com");
        assert_eq!(s.token.expose(), "t0ken");
        let env = |k: &str| (k == "TFPILOT_TFC_URL").then(|| "ftp://x".to_owned());
        let err = tfc_settings(&env, false, false).unwrap_err().to_string();
        assert!(err.starts_with("TFPILOT_TFC_URL"), "{err}");
    }
}
