//! `TestAppBuilder`: settings and injected ports for a `TestApp`, started through `server::start_with`.

use super::{TestApp, config_from, root};
use server::clock::ManualClock;
use server::exec::fake::FakeExecutor;
use server::notify::Notifier;
use server::ports::{Ports, runs_channel};
use std::sync::Arc;

/// What a [`TestApp`] starts with; ports not given come from
/// `Ports::from_config` (directories under the data dir, local git and
/// terraform, the system clock, the log notifier).
#[derive(Default)]
pub struct TestAppBuilder {
    data: Option<tempfile::TempDir>,
    env: Vec<(String, String)>,
    executor: Option<Arc<FakeExecutor>>,
    clock: Option<Arc<ManualClock>>,
    notifier: Option<Arc<dyn Notifier>>,
    no_master_key: bool,
}

impl TestAppBuilder {
    /// Serves from an existing data dir (default: a fresh one).
    pub fn data(mut self, data: tempfile::TempDir) -> Self {
        self.data = Some(data);
        self
    }

    /// Extra `TFPILOT_*` settings (they win over the defaults).
    pub fn env(mut self, vars: &[(&str, &str)]) -> Self {
        self.env
            .extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Runs on `exec` instead of local terraform; its completed runs
    /// drive the flow like the local executor's.
    pub fn executor(mut self, exec: Arc<FakeExecutor>) -> Self {
        self.executor = Some(exec);
        self
    }

    /// Reads the time from `clock` (exposed as `TestApp::clock`); the local
    /// executor built by `Ports::from_config` keeps the system clock for
    /// its environment leases.
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Sends request notices to `notifier`.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Starts without a master key, as production (S3) does when
    /// `TFPILOT_MASTER_KEY` is not set: integrations are unavailable.
    pub fn no_master_key(mut self) -> Self {
        self.no_master_key = true;
        self
    }

    /// Starts the server on 127.0.0.1, port 0.
    pub async fn spawn(self) -> TestApp {
        let data = match self.data {
            Some(data) => data,
            None => tempfile::tempdir().expect("temp dir"),
        };
        let registry = root().join("modules-registry.toml");
        let workflows = root().join("infra-workflows");
        let site = data.path().join("site");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let public = format!("http://{}", listener.local_addr().expect("address"));
        let mut vars = vec![
            ("TFPILOT_PUBLIC_URL", public.as_str()),
            ("TFPILOT_BIND", "127.0.0.1:0"),
            ("TFPILOT_DATA_DIR", data.path().to_str().unwrap()),
            ("TFPILOT_REGISTRY", registry.to_str().unwrap()),
            ("TFPILOT_WORKFLOWS_DIR", workflows.to_str().unwrap()),
            ("TFPILOT_RECONCILE_SECS", "1"),
            ("TFPILOT_SITE_ROOT", site.to_str().unwrap()),
        ];
        vars.extend(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let config = config_from(&vars).expect("config");
        let mut ports = Ports::from_config(&config).await.expect("ports");
        if let Some(exec) = self.executor {
            let (sink, done) = runs_channel();
            let exec = Arc::new(FakeExecutor::clone(&exec).with_completions(sink));
            ports.exec = exec;
            ports.runs_done = Some(done);
        }
        if let Some(clock) = &self.clock {
            ports.clock = clock.clone();
        }
        if let Some(notifier) = self.notifier {
            ports.notifiers.push(notifier);
        }
        if self.no_master_key {
            ports.keys = None;
            // Nothing stored can be read either: the environment's values only.
            ports.credentials = Arc::new(
                server::integrations::credentials::Credentials::from_config(&config),
            );
        }
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let running = server::start_with(config, ports, listener, async move {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        TestApp {
            addr: running.addr,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // A request that hangs fails the test instead of the whole suite.
                .timeout(std::time::Duration::from_secs(90))
                .build()
                .expect("client"),
            data,
            setup_link: running.setup_link,
            clock: self.clock,
            _stop: stop,
        }
    }
}
