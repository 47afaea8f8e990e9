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
    assert_eq!(sandbox.default_branch, "main");
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
    let c = config_from(&[
        ("TFPILOT_CONFIG", path),
        ("TFPILOT_BIND", "127.0.0.1:5000"),
        ("TFPILOT_GITHUB_TOKEN", "ghp_x"),
    ])
    .unwrap();
    let github = c.github.as_ref().expect("GitHub mode");
    assert_eq!(github.api_url, "https://api.github.com");
    assert!(
        !format!("{c:?}").contains("ghp_x"),
        "the token never shows in Debug"
    );
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
        ("TFPILOT_GITHUB_TOKEN", "ghp_x"),
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

#[test]
fn github_settings_are_checked_at_start() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[projects.payments]\nrepo = \"acme/payments-infra\"\nenvironments = [\"dev\"]"
    )
    .unwrap();
    let with_repo = file.path().to_str().unwrap();
    let e = config_from(&[("TFPILOT_CONFIG", with_repo)])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("TFPILOT_GITHUB_TOKEN") && e.contains("acme/payments-infra"),
        "a repo without credentials: {e}"
    );
    let e = config_from(&[("TFPILOT_GITHUB_TOKEN", "ghp_x")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("project `sandbox` needs `repo"),
        "credentials without repos: {e}"
    );
    let e = config_from(&[
        ("TFPILOT_CONFIG", with_repo),
        ("TFPILOT_GITHUB_APP_ID", "12"),
        ("TFPILOT_GITHUB_APP_KEY", "pem"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("TFPILOT_GITHUB_INSTALLATION_ID:"), "{e}");
    let e = config_from(&[
        ("TFPILOT_CONFIG", with_repo),
        ("TFPILOT_GITHUB_TOKEN", "ghp_x"),
        ("TFPILOT_GITHUB_API_URL", "ghe.example.com"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("TFPILOT_GITHUB_API_URL:"), "{e}");
    let c = config_from(&[
        ("TFPILOT_CONFIG", with_repo),
        ("TFPILOT_GITHUB_APP_ID", "12"),
        ("TFPILOT_GITHUB_APP_KEY", "-----BEGIN RSA PRIVATE KEY-----"),
        ("TFPILOT_GITHUB_INSTALLATION_ID", "34"),
        ("TFPILOT_GITHUB_API_URL", "https://ghe.example.com/api/v3"),
    ])
    .unwrap();
    let github = c.github.unwrap();
    assert_eq!(github.api_url, "https://ghe.example.com/api/v3");
    assert!(matches!(
        github.auth,
        server::github::GitHubAuth::App {
            app_id: 12,
            installation_id: 34,
            ..
        }
    ));
    let e = server::github::GitHubClient::new(&github)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("TFPILOT_GITHUB_APP_KEY"),
        "a bad key is named: {e}"
    );
}

#[test]
fn the_api_url_alone_means_stored_github_credentials_with_a_master_key_only() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[projects.sandbox]\ntitle = \"Sandbox\"\nrepo = \"acme/infra\"\nenvironments = [\"dev\"]"
    )
    .unwrap();
    let with_repo = file.path().to_str().unwrap();
    let api = ("TFPILOT_GITHUB_API_URL", "https://ghe.example.com/api/v3");
    let s3 = [
        ("TFPILOT_REQUESTS_BUCKET", "requests"),
        ("TFPILOT_CHAT_LOGS_BUCKET", "chats"),
    ];
    let mut vars = vec![("TFPILOT_CONFIG", with_repo), api];
    vars.extend(s3);
    let e = config_from(&vars).unwrap_err().to_string();
    assert!(e.starts_with("TFPILOT_GITHUB_API_URL:"), "{e}");
    assert!(
        e.contains("TFPILOT_GITHUB_TOKEN") && e.contains("TFPILOT_MASTER_KEY"),
        "says what to set: {e}"
    );
    let key = [(
        "TFPILOT_MASTER_KEY",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    )];
    vars.extend(key);
    let c = config_from(&vars).unwrap();
    let github = c.github.unwrap();
    assert!(matches!(github.auth, server::github::GitHubAuth::Stored));
    assert_eq!(github.api_url, "https://ghe.example.com/api/v3");
    // The environment still wins.
    vars.push(("TFPILOT_GITHUB_TOKEN", "ghp_x"));
    let c = config_from(&vars).unwrap();
    assert!(matches!(
        c.github.unwrap().auth,
        server::github::GitHubAuth::Token(_)
    ));
}

#[test]
fn a_project_may_name_its_default_branch() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[projects.a]\nenvironments = [\"dev\"]\ndefault_branch = \"trunk\"\n\n\
         [projects.b]\nenvironments = [\"dev\"]"
    )
    .unwrap();
    let c = config_from(&[("TFPILOT_CONFIG", file.path().to_str().unwrap())]).unwrap();
    let branches: Vec<_> = c
        .projects
        .values()
        .map(|p| p.default_branch.as_str())
        .collect();
    assert_eq!(branches, ["trunk", "main"]);

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[projects.a]\nenvironments = [\"dev\"]\ndefault_branch = \"../x\""
    )
    .unwrap();
    let e = config_from(&[("TFPILOT_CONFIG", file.path().to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("projects.a: default_branch"), "{e}");
}

#[test]
fn a_tfc_project_needs_a_workspace_per_environment_and_a_token() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "[projects.payments]\nenvironments = [\"dev\", \"prod\"]\nexecutor = \"tfc\"\n\n\
         [projects.payments.tfc]\norganization = \"acme\"\nworkspaces = {{ dev = \"payments-dev\" }}\n"
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let e = config_from(&[("TFPILOT_CONFIG", path), ("TFPILOT_TFC_TOKEN", "t")])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{path}:5: projects.payments.tfc.workspaces.prod: "
        )),
        "the file, the line and the key: {e}"
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        "[projects.payments]\nenvironments = [\"dev\"]\nexecutor = \"tfc\"\n\
         tfc = {{ organization = \"acme\", workspaces = {{ dev = \"payments-dev\" }} }}\n"
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    // Embedded, a master key is at hand: the token may be the stored
    // integration `tfc/default`.
    let c = config_from(&[("TFPILOT_CONFIG", path)]).unwrap();
    assert!(c.tfc.is_none());
    // Production without a master key: nowhere to store it.
    let e = config_from(&[
        ("TFPILOT_CONFIG", path),
        ("TFPILOT_REQUESTS_BUCKET", "requests"),
        ("TFPILOT_CHAT_LOGS_BUCKET", "chat-logs"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("TFPILOT_TFC_TOKEN: must be set"), "{e}");
    let c = config_from(&[("TFPILOT_CONFIG", path), ("TFPILOT_TFC_TOKEN", "t0k")]).unwrap();
    let tfc = c.tfc.expect("settings");
    assert_eq!(tfc.url, "https://app.terraform.io");
    assert!(
        !format!("{tfc:?}").contains("t0k"),
        "the token is never printed"
    );
}
