//! A real S3-compatible server for the tests: moto 5.2.5 in a venv, started
//! on a free loopback port for the duration of `cargo xtask test`.

use crate::run_step;
use anyhow::{Context, Result, bail};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MOTO: &str = "moto[server]==5.2.5";

/// A running moto server; killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn venv() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp".into());
    home.join(".cache/tfpilot/moto-5.2.5-venv")
}

/// Creates the venv and installs moto if needed; returns `moto_server`.
fn install() -> Result<PathBuf> {
    let venv = venv();
    let server = venv.join("bin/moto_server");
    let ready = venv.join(".installed");
    if server.exists() && ready.exists() {
        return Ok(server);
    }
    run_step(
        "python3 -m venv (moto)",
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
    )?;
    run_step(
        &format!("pip install '{MOTO}'"),
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO,
        ]),
    )?;
    std::fs::write(&ready, MOTO)?;
    Ok(server)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Installs (once) and starts moto; waits until it answers.
pub fn start() -> Result<Moto> {
    let server = install()?;
    let port = free_port()?;
    println!("==> moto_server -H 127.0.0.1 -p {port}");
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("moto did not start listening on port {port} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(moto)
}
