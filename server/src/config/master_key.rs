//! The master key of integration credentials: `TFPILOT_MASTER_KEY` (base64
//! of 32 bytes) or `TFPILOT_MASTER_KEY_FILE` (a file holding it), and
//! `TFPILOT_MASTER_KEY_OLD` while records are rotated to a new key. A bad
//! value stops the start naming the variable, never repeating the value.

use super::ConfigError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::PathBuf;

/// 32 key bytes: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBytes([u8; 32]);

impl KeyBytes {
    /// Wraps key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes, for the one place that builds the key.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The configured master keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MasterKeySettings {
    /// `TFPILOT_MASTER_KEY` or the file of `TFPILOT_MASTER_KEY_FILE`;
    /// `None`: the embedded mode's key file, or no integrations (S3).
    pub current: Option<KeyBytes>,
    /// `TFPILOT_MASTER_KEY_OLD`.
    pub old: Option<KeyBytes>,
}

/// Reads base64 of exactly 32 bytes; the error names `var` and the rule.
pub fn parse_key(var: &'static str, text: &str) -> Result<KeyBytes, ConfigError> {
    let bad = |why: String| ConfigError::Env {
        var,
        message: format!(
            "not a master key: {why}; it must be 32 random bytes in base64, such as the output of `openssl rand -base64 32`"
        ),
    };
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| bad("not valid base64".into()))?;
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad(format!("it decodes to {} bytes, not 32", bytes.len())))?;
    Ok(KeyBytes(key))
}

pub(super) fn master_key_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<MasterKeySettings, ConfigError> {
    let set = |var: &str| env(var).filter(|s| !s.trim().is_empty());
    let current = match (set("TFPILOT_MASTER_KEY"), set("TFPILOT_MASTER_KEY_FILE")) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_MASTER_KEY_FILE",
                message: "is set with TFPILOT_MASTER_KEY: set one of them".into(),
            });
        }
        (Some(text), None) => Some(parse_key("TFPILOT_MASTER_KEY", &text)?),
        (None, Some(path)) => {
            let path = PathBuf::from(path.trim());
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Env {
                var: "TFPILOT_MASTER_KEY_FILE",
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            Some(
                parse_key("TFPILOT_MASTER_KEY_FILE", &text).map_err(|e| match e {
                    ConfigError::Env { var, message } => ConfigError::Env {
                        var,
                        message: format!("{}: {message}", path.display()),
                    },
                    other => other,
                })?,
            )
        }
        (None, None) => None,
    };
    let old = set("TFPILOT_MASTER_KEY_OLD")
        .map(|text| parse_key("TFPILOT_MASTER_KEY_OLD", &text))
        .transpose()?;
    Ok(MasterKeySettings { current, old })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn load(vars: &[(&str, &str)]) -> Result<MasterKeySettings, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        master_key_settings(&|k: &str| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn keys_are_read_from_the_variable_or_the_file() {
        assert_eq!(load(&[]).unwrap(), MasterKeySettings::default());
        let s = load(&[("TFPILOT_MASTER_KEY", KEY), ("TFPILOT_MASTER_KEY_OLD", KEY)]).unwrap();
        assert_eq!(s.current.as_ref().unwrap().expose()[31], 31);
        assert!(s.old.is_some());
        assert_eq!(
            format!("{s:?}"),
            "MasterKeySettings { current: Some(***), old: Some(***) }"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{KEY}\n")).unwrap();
        let s = load(&[("TFPILOT_MASTER_KEY_FILE", file.to_str().unwrap())]).unwrap();
        assert_eq!(s.current.unwrap().expose()[1], 1);
    }

    #[test]
    fn a_bad_key_names_its_variable_and_never_its_value() {
        let short = "c2hvcnQtYnV0LXNlY3JldA==";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, short).unwrap();
        let missing = dir.path().join("missing");
        #[rustfmt::skip]
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let table: &[(Vars<'_>, &str, &str)] = &[
            (
                &[("TFPILOT_MASTER_KEY", short)],
                "TFPILOT_MASTER_KEY",
                "decodes to 16 bytes, not 32",
            ),
            (
                &[("TFPILOT_MASTER_KEY", "not base64 at all!")],
                "TFPILOT_MASTER_KEY",
                "not valid base64",
            ),
            (
                &[("TFPILOT_MASTER_KEY_OLD", short)],
                "TFPILOT_MASTER_KEY_OLD",
                "not 32",
            ),
            (
                &[("TFPILOT_MASTER_KEY_FILE", file.to_str().unwrap())],
                "TFPILOT_MASTER_KEY_FILE",
                "not 32",
            ),
            (
                &[("TFPILOT_MASTER_KEY_FILE", missing.to_str().unwrap())],
                "TFPILOT_MASTER_KEY_FILE",
                "cannot read",
            ),
            (
                &[
                    ("TFPILOT_MASTER_KEY", KEY),
                    ("TFPILOT_MASTER_KEY_FILE", "x"),
                ],
                "TFPILOT_MASTER_KEY_FILE",
                "set one of them",
            ),
        ];
        for (vars, want_var, want) in table {
            match load(vars) {
                Err(ConfigError::Env { var, message }) => {
                    assert_eq!(var, *want_var, "{vars:?}");
                    assert!(message.contains(want), "{message}");
                    assert!(
                        !message.contains(short) && !message.contains("not base64 at all"),
                        "{message}"
                    );
                }
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }
}
