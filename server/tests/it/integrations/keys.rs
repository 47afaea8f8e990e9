//! The master key at start, on the real binary: a bad one stops it naming
//! the variable (never the value); with none in the embedded mode a key
//! file is made with mode 0600, said at start, and read back next time.

use crate::support::{root, wait_healthy};
use std::process::{Command, Stdio};

fn serve(data: &std::path::Path, port: u16, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfpilot"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .env("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows"))
        .env("TFPILOT_SITE_ROOT", data.join("site"))
        .envs(envs.iter().copied());
    cmd
}

#[test]
fn a_bad_master_key_stops_the_start_naming_the_variable() {
    let data = tempfile::tempdir().unwrap();
    let short = "c2hvcnQtYnV0LXNlY3JldA==";
    for (var, value) in [
        ("TFPILOT_MASTER_KEY", short),
        ("TFPILOT_MASTER_KEY", "%%% not base64 %%%"),
        ("TFPILOT_MASTER_KEY_OLD", short),
    ] {
        let out = serve(data.path(), 0, &[(var, value)]).output().unwrap();
        assert!(!out.status.success(), "{var}={value} started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{var}: not a master key")), "{err}");
        assert!(!err.contains(value), "the value is echoed: {err}");
    }
    assert!(!data.path().join("master.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_mode_makes_a_0600_key_file_and_says_where() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("master.key");
    let mut first = String::new();
    for start in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data.path().join(format!("start{start}.log"));
        let mut child = serve(data.path(), port, &[("TFPILOT_LOG", "info")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        wait_healthy(&format!("http://127.0.0.1:{port}")).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let said = std::fs::read_to_string(&log).unwrap();
        let key = std::fs::read_to_string(&path).unwrap();
        if start == 0 {
            assert!(
                said.contains(&format!(
                    "generated the master key of integration credentials at {}",
                    path.display()
                )),
                "{said}"
            );
            assert!(said.contains("back it up with the data dir"), "{said}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{mode:o}");
            }
            assert!(!said.contains(key.trim()), "the key is logged");
            first = key;
        } else {
            assert_eq!(key, first, "read back, not made again");
            assert!(!said.contains("generated the master key"), "{said}");
        }
    }
}
