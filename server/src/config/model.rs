//! The assistant's model from `TFPILOT_MODEL_*`: an OpenAI-compatible
//! chat-completions server (llama.cpp, Ollama, vLLM…). Without
//! `TFPILOT_MODEL_URL`, the assistant uses its rules alone.

use super::{ConfigError, SecretString};
use std::time::Duration;

/// How the model is asked for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelMode {
    /// `response_format: {type: "json_schema", …, strict: true}`.
    JsonSchema,
    /// One forced function call whose parameters are the schema, for
    /// servers without `json_schema`.
    Tools,
}

/// A chat-completions server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSettings {
    /// The API base, up to `/v1`, without a trailing slash
    /// (`TFPILOT_MODEL_URL`, e.g. `http://127.0.0.1:11434/v1`).
    pub url: String,
    /// The model's name (`TFPILOT_MODEL`).
    pub model: String,
    /// Sent as a bearer token when set (`TFPILOT_MODEL_API_KEY`).
    pub api_key: Option<SecretString>,
    /// How long one answer may take (`TFPILOT_MODEL_TIMEOUT_SECS`, default 20).
    pub timeout: Duration,
    /// `json_schema` (default) or `tools` (`TFPILOT_MODEL_MODE`).
    pub mode: ModelMode,
    /// Answers kept in the prompt cache (`TFPILOT_MODEL_CACHE_MAX`,
    /// default 10,000; 0 keeps none).
    pub cache_max: usize,
}

/// `None` without `TFPILOT_MODEL_URL`; every other setting is checked.
impl ModelSettings {
    /// The defaults of the optional settings, for a model whose URL and
    /// name are stored (`url` and `model` are empty here).
    pub fn defaults() -> Self {
        Self {
            url: String::new(),
            model: String::new(),
            api_key: None,
            timeout: Duration::from_secs(20),
            mode: ModelMode::JsonSchema,
            cache_max: 10_000,
        }
    }
}

pub(super) fn model_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<ModelSettings>, ConfigError> {
    let set = |var: &str| {
        env(var)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let Some(url) = set("TFPILOT_MODEL_URL") else {
        return Ok(None);
    };
    let bad = |var: &'static str, message: String| ConfigError::Env { var, message };
    let parsed = reqwest::Url::parse(&url).map_err(|e| {
        bad(
            "TFPILOT_MODEL_URL",
            format!("`{url}` is not a URL ({e}); use e.g. http://127.0.0.1:11434/v1"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad(
            "TFPILOT_MODEL_URL",
            format!(
                "`{url}` must be an http or https URL of an OpenAI-compatible API, \
                 e.g. http://127.0.0.1:11434/v1"
            ),
        ));
    }
    let model = set("TFPILOT_MODEL").ok_or_else(|| {
        bad(
            "TFPILOT_MODEL",
            "must be set with TFPILOT_MODEL_URL: the model's name, e.g. `llama3.1:8b`".into(),
        )
    })?;
    let number = |var: &'static str, default: u64, min: u64, max: u64| match set(var) {
        None => Ok(default),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                bad(
                    var,
                    format!("`{v}` must be a whole number from {min} to {max}"),
                )
            }),
    };
    let mode = match set("TFPILOT_MODEL_MODE").as_deref() {
        None | Some("json_schema") => ModelMode::JsonSchema,
        Some("tools") => ModelMode::Tools,
        Some(other) => {
            return Err(bad(
                "TFPILOT_MODEL_MODE",
                format!("`{other}` must be `json_schema` or `tools`"),
            ));
        }
    };
    Ok(Some(ModelSettings {
        url: url.trim_end_matches('/').to_owned(),
        model,
        api_key: set("TFPILOT_MODEL_API_KEY").map(SecretString::new),
        timeout: Duration::from_secs(number("TFPILOT_MODEL_TIMEOUT_SECS", 20, 1, 600)?),
        mode,
        cache_max: number("TFPILOT_MODEL_CACHE_MAX", 10_000, 0, 10_000_000)? as usize,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<ModelSettings>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        model_settings(&|k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn no_url_no_model() {
        assert_eq!(read(&[("TFPILOT_MODEL", "x")]).ok(), Some(None));
    }

    #[test]
    fn a_url_that_is_not_http_stops_the_start_naming_the_variable() {
        for url in ["ftp://127.0.0.1/v1", "127.0.0.1:8080", "file:///tmp/x"] {
            let e = read(&[("TFPILOT_MODEL_URL", url), ("TFPILOT_MODEL", "m")])
                .expect_err(url)
                .to_string();
            assert!(e.starts_with("TFPILOT_MODEL_URL: "), "{e}");
        }
    }

    #[test]
    fn defaults_and_checks() {
        let s = read(&[
            ("TFPILOT_MODEL_URL", "http://127.0.0.1:11434/v1/"),
            ("TFPILOT_MODEL", "llama3.1:8b"),
        ])
        .expect("reads")
        .expect("a model");
        assert_eq!(s.url, "http://127.0.0.1:11434/v1");
        assert_eq!(s.timeout, Duration::from_secs(20));
        assert_eq!(s.cache_max, 10_000);
        assert_eq!(s.mode, ModelMode::JsonSchema);
        let e = read(&[("TFPILOT_MODEL_URL", "http://h/v1")])
            .expect_err("no model name")
            .to_string();
        assert!(e.starts_with("TFPILOT_MODEL: "), "{e}");
        let e = read(&[
            ("TFPILOT_MODEL_URL", "http://h/v1"),
            ("TFPILOT_MODEL", "m"),
            ("TFPILOT_MODEL_TIMEOUT_SECS", "0"),
        ])
        .expect_err("zero timeout")
        .to_string();
        assert!(e.starts_with("TFPILOT_MODEL_TIMEOUT_SECS: "), "{e}");
    }
}
