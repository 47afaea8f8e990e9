//! A real S3-compatible server for the tests: moto 5.2.5 in a venv, started
//! on a free loopback port for the duration of `cargo xtask test`.

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

/// Installs (once) moto in its venv; returns the venv's `python`.
fn install() -> Result<PathBuf> {
    crate::tools::pip_tool("moto-5.2.5-venv", MOTO, "python")
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Installs (once) and starts moto with atomic writes
/// (`xtask/scripts/moto_atomic.py`); waits until it answers.
pub fn start(ws: &crate::Workspace) -> Result<Moto> {
    let server = install()?;
    let port = free_port()?;
    println!("==> moto (atomic writes) on 127.0.0.1:{port}");
    let child = Command::new(&server)
        .arg(ws.root.join("xtask/scripts/moto_atomic.py"))
        .args(["127.0.0.1", &port.to_string()])
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
