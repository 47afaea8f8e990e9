//! The `tfpilot` binary: `registry check` and refusing to serve a broken registry.

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
