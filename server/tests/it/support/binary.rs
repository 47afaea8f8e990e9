//! The real `tfpilot` binary on a data dir, for the tests that need the
//! process itself (crash points, probes of the running binary).

use super::{WAIT, root, status_reached, wait_until};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `tfpilot serve`; killed on drop.
pub struct Binary {
    pub child: Child,
    pub url: String,
    pub client: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tfpilot <args>` on `data` (the CLI), with `envs`; its stdout.
pub fn cli(data: &Path, envs: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tfpilot"))
        .args(args)
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tfpilot runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tfpilot {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Binary {
    /// Starts `tfpilot serve` on `data` with `envs`; returns once it
    /// answers `/healthz` (or has exited: a crash point met at start).
    pub async fn start(data: &Path, envs: &[(&str, &str)]) -> Binary {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfpilot"));
        cmd.arg("serve")
            .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
            .env("TFPILOT_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("TFPILOT_DATA_DIR", data)
            .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
            .env("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows"))
            .env("TFPILOT_SITE_ROOT", data.join("site"))
            .env("TFPILOT_RECONCILE_SECS", "1")
            .env("TFPILOT_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("tfpilot starts");
        let mut server = Binary {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(90))
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = server
                .client
                .get(format!("{}/healthz", server.url))
                .send()
                .await
                && r.status().is_success()
            {
                return server;
            }
            if server.child.try_wait().unwrap().is_some() {
                return server;
            }
            assert!(Instant::now() < deadline, "tfpilot did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn view(&self, token: &str, id: &str) -> Value {
        self.client
            .get(format!("{}/api/v1/requests/{id}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn wait_for(&self, token: &str, id: &str, want: &str) -> Value {
        let what = format!("request {id} to reach status {want}");
        wait_until(WAIT, &what, || async {
            status_reached(self.view(token, id).await, id, want)
        })
        .await
    }

    /// Posts an action; the process may die while answering.
    pub async fn act(&self, token: &str, id: &str, action: &str) -> Option<u16> {
        self.client
            .post(format!("{}/api/v1/requests/{id}/{action}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
