//! Layered configuration: defaults, file, environment; errors name the source.

use crate::support::config_from;
use std::io::Write;

#[test]
fn defaults_are_the_embedded_mode() {
    let c = config_from(&[]).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(c.data_dir.to_str(), Some("./data"));
    assert_eq!(c.registry.to_str(), Some("./modules-registry.toml"));
    let sandbox = c.projects.values().next().unwrap();
    assert_eq!(sandbox.key.as_str(), "sandbox");
    let envs: Vec<_> = sandbox.environments.iter().map(|e| e.as_str()).collect();
    assert_eq!(envs, ["dev", "prod"]);
    assert!(sandbox.repo.is_none(), "a local repo");
    assert!(c.policy.is_prod("prod") && !c.policy.is_prod("dev"));
    assert!(c.policy.four_eyes);
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        r#"bind = "127.0.0.1:4000"
data_dir = "/srv/tfpilot"
prod_allowed_users = ["pat"]

[projects.payments]
repo = "acme/payments-infra"
environments = ["dev", "staging", "prod"]"#
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let c = config_from(&[("TFPILOT_CONFIG", path), ("TFPILOT_BIND", "127.0.0.1:5000")]).unwrap();
    assert_eq!(
        c.bind.to_string(),
        "127.0.0.1:5000",
        "env wins over the file"
    );
    assert_eq!(
        c.data_dir.to_str(),
        Some("/srv/tfpilot"),
        "file wins over defaults"
    );
    assert!(c.policy.prod_allowed_users.contains("pat"));
    let p = c.projects.values().next().unwrap();
    assert_eq!(p.key.as_str(), "payments");
    assert_eq!(p.repo.as_deref(), Some("acme/payments-infra"));
    let c = config_from(&[
        ("TFPILOT_CONFIG", path),
        ("TFPILOT_PROD_ALLOWED_USERS", "a, b,,"),
    ])
    .unwrap();
    assert_eq!(
        c.policy.prod_allowed_users,
        ["a".to_owned(), "b".to_owned()].into()
    );
}

#[test]
fn errors_name_the_variable_or_the_file_line() {
    let e = config_from(&[("TFPILOT_BIND", "localhost")])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("TFPILOT_BIND: `localhost` is not a socket address"),
        "{e}"
    );
    let e = config_from(&[("TFPILOT_FOUR_EYES", "maybe")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("TFPILOT_FOUR_EYES:"), "{e}");
    let e = config_from(&[("TFPILOT_CONFIG", "/no/such/tfpilot.toml")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/no/such/tfpilot.toml") && e.contains("TFPILOT_CONFIG"),
        "{e}"
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "bind = \"127.0.0.1:1\"\nlisten = 3").unwrap();
    let e = config_from(&[("TFPILOT_CONFIG", file.path().to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(":2:") && e.contains("unknown field `listen`"),
        "{e}"
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[projects.Bad]\nenvironments = [\"dev\"]").unwrap();
    let e = config_from(&[("TFPILOT_CONFIG", file.path().to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("projects.Bad") && e.contains("project key"),
        "{e}"
    );
}
