//! The `tfpilot` binary: `registry check`, refusing to serve a broken
//! registry, and users' Slack links.

use crate::identity::users_in;
use crate::support::binary::cli;
use crate::support::root;
use std::process::Command;

fn tfpilot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfpilot"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

fn broken_registry() -> (tempfile::TempDir, std::path::PathBuf, usize) {
    let text = std::fs::read_to_string(root().join("modules-registry.toml")).unwrap();
    let (line_index, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("pattern ="))
        .expect("the registry has a pattern");
    let broken = text.replacen(line, "pattern = \"^[a-z(\"", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("modules-registry.toml");
    std::fs::write(&path, broken).unwrap();
    (dir, path, line_index + 1)
}

#[test]
fn registry_check_accepts_the_shipped_registry() {
    let out = tfpilot()
        .args(["registry", "check"])
        .arg(root().join("modules-registry.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok ("));
}

#[test]
fn registry_check_names_line_module_and_field() {
    let (_dir, path, line) = broken_registry();
    let out = tfpilot()
        .args(["registry", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:{line}: module `", path.display())),
        "{err}"
    );
    assert!(
        err.contains(".pattern`: invalid regular expression"),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_broken_registry() {
    let (dir, path, line) = broken_registry();
    let out = tfpilot()
        .arg("serve")
        .env("TFPILOT_REGISTRY", &path)
        .env("TFPILOT_BIND", "127.0.0.1:0")
        .env("TFPILOT_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!(":{line}: module `")), "{err}");
}

#[test]
fn bad_configuration_names_the_variable() {
    let out = tfpilot()
        .args(["registry", "check"])
        .env("TFPILOT_BIND", "nowhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TFPILOT_BIND"));
}

#[test]
fn the_cli_adds_links_and_unlinks_slack_ids() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = cli(
        data,
        &[],
        &[
            "users",
            "add",
            "carol",
            "--role",
            "requester",
            "--slack",
            "U0CAROL",
            "--email",
            "carol@example.com",
        ],
        None,
    );
    assert_eq!(
        out,
        "added user carol (requester)\nlinked carol to Slack user U0CAROL\ne-mail of carol: carol@example.com\n"
    );
    assert_eq!(
        cli(
            data,
            &[],
            &["users", "add", "dan", "--role", "viewer"],
            None
        ),
        "added user dan (viewer)\n"
    );
    let fails = |args: &[&str]| {
        let out = tfpilot()
            .args(args)
            .env("TFPILOT_DATA_DIR", data)
            .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} fails");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = fails(&["users", "link-slack", "dan", "U0CAROL"]);
    assert!(
        err.contains("Slack user U0CAROL is already linked to `carol`"),
        "{err}"
    );
    let err = fails(&["users", "link-slack", "dan", "dan"]);
    assert!(err.contains("slack_user_id `dan` is invalid"), "{err}");
    let err = fails(&[
        "users", "add", "erin", "--role", "viewer", "--email", "erin",
    ]);
    assert!(err.contains("email is invalid"), "{err}");
    assert_eq!(
        cli(
            data,
            &[],
            &["users", "link-slack", "carol", "--unlink"],
            None
        ),
        "unlinked carol from Slack user U0CAROL\n"
    );
    assert_eq!(
        cli(data, &[], &["users", "link-slack", "dan", "U0CAROL"], None),
        "linked dan to Slack user U0CAROL\n"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let users = users_in(data);
    let found = rt.block_on(users.by_slack_id("U0CAROL")).unwrap().unwrap();
    assert_eq!(found.login, "dan");
    assert_eq!(
        rt.block_on(users.get("carol")).unwrap().email.as_deref(),
        Some("carol@example.com")
    );
}
