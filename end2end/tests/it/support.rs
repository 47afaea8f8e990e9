//! Starts the real server in-process and a headless Chromium next to it.

use anyhow::{Context, Result, bail};
use playwright_rs::Playwright;
use playwright_rs::api::LaunchOptions;
use playwright_rs::protocol::{Browser, Page, ScreenshotOptions, WaitForOptions, WaitForState};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_ARGS: [&str; 7] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The built site (`cargo xtask test` builds it and sets the variable).
fn site_root() -> Result<PathBuf> {
    let site = std::env::var_os("TFPILOT_SITE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/site"));
    let wasm = site.join("pkg/tfpilot_bg.wasm");
    if !wasm.exists() {
        bail!(
            "{} is missing: run the browser tests through `cargo xtask test`, which builds it",
            wasm.display()
        );
    }
    Ok(site)
}

/// The server, a browser and a page, torn down on drop.
pub struct Session {
    pub base: String,
    /// The token of the one-time first-admin link (a fresh data dir has no admin).
    pub setup_token: Option<String>,
    pub page: Page,
    /// Console errors and uncaught exceptions of the pages shown so far.
    console: Arc<Mutex<Vec<String>>>,
    browser: Browser,
    playwright: Playwright,
    _data: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Session {
    pub async fn start() -> Result<Session> {
        Self::start_with(&[]).await
    }

    /// Starts with extra `TFPILOT_*` settings.
    pub async fn start_with(extra: &[(&str, &str)]) -> Result<Session> {
        let site = site_root()?;
        let data = tempfile::tempdir()?;
        let registry = root().join("modules-registry.toml");
        let mut vars = vec![
            ("TFPILOT_DATA_DIR", data.path().to_path_buf()),
            ("TFPILOT_REGISTRY", registry),
            ("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows")),
            ("TFPILOT_SITE_ROOT", site),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, PathBuf::from(v))));
        let config = server::config::Config::load(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        })?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = server::start(config, listener, async move {
            let _ = stopped.await;
        })
        .await?;

        let playwright = Playwright::launch().await.context(
            "start the Playwright driver (PLAYWRIGHT_DRIVER_PATH, set by .cargo/config.toml)",
        )?;
        let options = LaunchOptions::new()
            .executable_path(CHROMIUM.to_owned())
            .headless(true)
            .timeout(60_000.0)
            .args(CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect());
        let browser = playwright
            .chromium()
            .launch_with_options(options)
            .await
            .context("launch Chromium")?;
        let page = browser.new_page().await?;
        page.set_default_timeout(20_000.0).await;
        let console = Arc::new(Mutex::new(Vec::new()));
        let errors = console.clone();
        page.on_console(move |message| {
            if message.type_() == "error" {
                let line = format!("{} (at {})", message.text(), message.location().url);
                errors.lock().expect("the console list").push(line);
            }
            async { Ok(()) }
        })
        .await?;
        let errors = console.clone();
        page.on_pageerror(move |error| {
            errors
                .lock()
                .expect("the console list")
                .push(format!("uncaught: {error}"));
            async { Ok(()) }
        })
        .await?;
        let setup_token = running
            .setup_link
            .as_deref()
            .and_then(|l| l.split("token=").nth(1))
            .map(str::to_owned);
        Ok(Session {
            base: format!("http://{}", running.addr),
            setup_token,
            page,
            console,
            browser,
            playwright,
            _data: data,
            _stop: stop,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `selector` is visible.
    pub async fn visible(&self, selector: &str) -> Result<()> {
        let options = WaitForOptions::builder()
            .state(WaitForState::Visible)
            .timeout(30_000.0)
            .build();
        self.page
            .locator(selector)
            .wait_for(options)
            .await
            .with_context(|| format!("waiting for {selector} on {}", self.page.url()))
    }

    /// Opens `path` and waits for the islands on it to be live.
    pub async fn open(&self, path: &str, island: &str) -> Result<()> {
        self.goto(path).await?;
        self.visible(&format!("{island}[data-ready=true]")).await
    }

    /// Opens `path`. A page that refreshes itself (a request moving on) can
    /// abort a navigation that races it; that is tried again.
    pub async fn goto(&self, path: &str) -> Result<()> {
        let want = self.url(path.split('?').next().unwrap_or(path));
        for _ in 0..3 {
            let went = self.page.goto(&self.url(path), None).await;
            if went.is_ok() && self.page.url().split('?').next() == Some(want.as_str()) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        anyhow::bail!(
            "could not open {path}: the browser is on {}",
            self.page.url()
        )
    }

    /// Sends one chat message from the keyboard (Enter) and waits for the
    /// assistant's answer.
    pub async fn say(&self, text: &str) -> Result<()> {
        let lines = self.page.locator("[data-testid=chat] li").count().await?;
        let input = self.page.locator("#chat-input");
        input.fill(text, None).await?;
        input.press("Enter", None).await?;
        self.visible(&format!("[data-testid=chat] li:nth-child({})", lines + 2))
            .await
    }

    /// A request document through the API, with the browser's session. The
    /// request page reloads itself as the request moves on, which can cut a
    /// call short: that is tried again.
    pub async fn stored(&self, id: &str) -> Result<serde_json::Value> {
        let mut last = None;
        for _ in 0..10 {
            // A reload in the middle can leave the call unanswered: it is
            // given up after a while and asked again.
            let got = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                self.page.evaluate(
                    "async (id) => (await fetch('/api/v1/requests/' + id)).json()",
                    Some(&id),
                ),
            )
            .await;
            match got {
                Ok(Ok(doc)) => return Ok(doc),
                Ok(Err(e)) => last = Some(anyhow::Error::from(e)),
                Err(_) => last = Some(anyhow::anyhow!("no answer within 10 s")),
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        match last {
            Some(e) => Err(e).context("GET /api/v1/requests/{id}"),
            None => bail!("GET /api/v1/requests/{id}: no attempt"),
        }
    }

    /// Clicks the new-request page's Submit and waits for the request's
    /// page to open; the new request's id.
    pub async fn submit_request(&self) -> Result<String> {
        self.page
            .locator("[data-testid=submit]")
            .click(None)
            .await?;
        for _ in 0..100 {
            let url = self.page.url();
            if !url.contains("/requests/new") {
                self.visible(".actions[data-ready=true]")
                    .await
                    .context("submit opens the request")?;
                return Ok(url.rsplit('/').next().unwrap_or_default().to_owned());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let error = self.page.locator(".composer-grid .error").count().await?;
        anyhow::bail!("submit did not open the request ({error} error shown)")
    }

    /// Fails when any page shown so far logged an error to the console
    /// (a failed resource load, an uncaught exception, a hydration panic).
    pub fn no_console_errors(&self) -> Result<()> {
        let errors = std::mem::take(&mut *self.console.lock().expect("the console list"));
        anyhow::ensure!(
            errors.is_empty(),
            "console errors up to {}:\n{}",
            self.page.url(),
            errors.join("\n")
        );
        Ok(())
    }

    /// Fills the login and password of the page's form and submits it
    /// (sign-in and first-admin setup).
    pub async fn submit_credentials(&self, login: &str, password: &str) -> Result<()> {
        self.page
            .locator("input[name=login]")
            .fill(login, None)
            .await?;
        self.page
            .locator("input[name=password]")
            .fill(password, None)
            .await?;
        self.page
            .locator("form.form button[type=submit]")
            .click(None)
            .await
            .context("submitting the sign-in form")
    }

    /// Creates the first admin through the one-time link; signed in after.
    pub async fn first_admin(&self, login: &str, password: &str) -> Result<()> {
        let token = self
            .setup_token
            .clone()
            .context("a fresh data dir prints a setup link")?;
        // The first page of a fresh server: tried again if it does not load.
        self.goto(&format!("/setup?token={token}")).await?;
        self.submit_credentials(login, password).await?;
        self.visible("[data-testid=who]").await
    }

    /// Adds a user on `/admin/users` (as a signed-in admin).
    pub async fn add_user(&self, login: &str, role: &str, password: &str) -> Result<()> {
        self.goto("/admin/users").await?;
        let add = self.page.locator("form[data-testid=add-user]");
        add.locator("input[name=login]").fill(login, None).await?;
        add.locator("select[name=role]")
            .select_option(role, None)
            .await?;
        add.locator("input[name=password]")
            .fill(password, None)
            .await?;
        add.locator("button[type=submit]").click(None).await?;
        self.visible(&format!("tr[data-login={login}]")).await
    }

    /// Signs out (if signed in) and in as `login`.
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<()> {
        self.goto("/login").await?;
        if self.page.locator("[data-testid=who]").count().await? > 0 {
            self.page
                .locator(".account button[type=submit]")
                .click(None)
                .await?;
            self.goto("/login").await?;
        }
        self.submit_credentials(login, password).await?;
        self.visible(&format!("[data-testid=who] strong:text-is('{login}')"))
            .await
    }

    fn artifacts() -> Result<PathBuf> {
        let dir = std::env::var_os("TFPILOT_E2E_ARTIFACTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target/e2e-artifacts"));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Writes a measurement next to the screenshots (`cargo xtask test`
    /// prints it at the end).
    pub fn record(&self, name: &str, line: &str) -> Result<()> {
        std::fs::write(Self::artifacts()?.join(name), format!("{line}\n"))?;
        Ok(())
    }

    /// Saves a full-page screenshot under the artifacts, after checking
    /// that every control on the page has an accessible name and that no
    /// page so far logged a console error (so each page the tests show is
    /// also checked for both).
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        self.controls_are_labelled()
            .await
            .with_context(|| format!("on the page of screenshot {name}"))?;
        self.no_console_errors()
            .with_context(|| format!("on the way to screenshot {name}"))?;
        let path = Self::artifacts()?.join(format!("{name}.png"));
        let options = ScreenshotOptions::builder().full_page(true).build();
        self.page.screenshot_to_file(&path, Some(options)).await?;
        Ok(path)
    }

    /// Every visible input, select, textarea, button and link has a name a
    /// screen reader can announce: a `<label>`, `aria-label`,
    /// `aria-labelledby`, or (buttons and links) its text.
    pub async fn controls_are_labelled(&self) -> Result<()> {
        let unnamed = self.page.evaluate_value(UNLABELLED).await?;
        anyhow::ensure!(
            unnamed.is_empty(),
            "controls without an accessible name on {}:\n{unnamed}",
            self.page.url()
        );
        Ok(())
    }

    /// Closes everything, after checking that no page logged an error.
    pub async fn close(self) -> Result<()> {
        self.no_console_errors()?;
        self.page.close().await?;
        self.browser.close().await?;
        self.playwright.shutdown().await?;
        Ok(())
    }
}

/// The controls of the page without an accessible name, one per line.
const UNLABELLED: &str = r#"(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
    if (el.type === 'hidden' || el.closest('[hidden]')) continue;
    const text = (s) => (s || '').trim();
    const named = text(el.getAttribute('aria-label'))
      || el.getAttribute('aria-labelledby')
      || Array.from(el.labels || []).some((l) => text(l.textContent))
      || ((el.tagName === 'BUTTON' || el.tagName === 'A') && text(el.textContent));
    if (!named) bad.push(el.outerHTML.slice(0, 160));
  }
  return bad.join('\n');
})()"#;
