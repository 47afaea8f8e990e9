//! `Alertmanager`: the real Prometheus Alertmanager (Debian's
//! `prometheus-alertmanager`, from `$TFPILOT_TEST_ALERTMANAGER`) on a
//! loopback port, with one webhook receiver pointed at tfpilot's alert
//! receiver and the token in `http_config.authorization.credentials`.
//! Alerts are fired through its API (`POST /api/v2/alerts`).

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Alertmanager; killed when dropped.
pub struct Alertmanager {
    child: Child,
    /// Its base URL.
    pub url: String,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The receiver configuration the README documents, with short waits:
/// grouped per alert name and request, sent after `group_wait: 1s` and
/// sent again every `repeat_interval`.
pub fn config(webhook: &str, token: &str, repeat: &str) -> String {
    format!(
        r#"route:
  receiver: tfpilot
  group_by: ['alertname', 'tfpilot_request']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: {repeat}
receivers:
  - name: tfpilot
    webhook_configs:
      - url: '{webhook}'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: '{token}'
"#
    )
}

impl Alertmanager {
    /// Starts Alertmanager sending to `webhook` with `token`, re-sending
    /// unchanged groups every `repeat` (`1h`, `2s`), and waits until it
    /// is ready.
    pub async fn start(webhook: &str, token: &str, repeat: &str) -> Alertmanager {
        let bin = std::env::var("TFPILOT_TEST_ALERTMANAGER").unwrap_or_else(|_| {
            panic!(
                "TFPILOT_TEST_ALERTMANAGER is not set: the alert tests run the real Alertmanager \
                 (apt-get install prometheus-alertmanager, then \
                 export TFPILOT_TEST_ALERTMANAGER=/usr/bin/prometheus-alertmanager); \
                 `cargo xtask test` does both"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("alertmanager.yml");
        std::fs::write(&file, config(webhook, token, repeat)).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", file.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(format!("{}/-/ready", am.url))
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return am;
            }
            assert!(
                Instant::now() < deadline,
                "Alertmanager was not ready within 30 s: {}",
                am.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fires one alert (`POST /api/v2/alerts`).
    pub async fn fire(&self, labels: &[(&str, &str)], annotations: &[(&str, &str)]) {
        let labels: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let annotations: serde_json::Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let res = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&json!([{"labels": labels, "annotations": annotations}]))
            .send()
            .await
            .expect("Alertmanager answers");
        assert!(res.status().is_success(), "firing: {}", res.status());
    }

    /// Its log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
