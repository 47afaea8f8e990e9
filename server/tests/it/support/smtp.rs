//! `SmtpServer`: a real SMTP server (Python `aiosmtpd` from `$TFPILOT_TEST_PYTHON`) on a loopback port, storing mails in a Maildir.

use base64::Engine as _;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `aiosmtpd`; killed when dropped.
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits until it accepts connections.
    pub fn start() -> SmtpServer {
        let python = std::env::var("TFPILOT_TEST_PYTHON").unwrap_or_else(|_| {
            panic!(
                "TFPILOT_TEST_PYTHON is not set: the SMTP tests need a Python with aiosmtpd \
                 (python3 -m venv ~/.cache/tfpilot/testpy-venv && \
                 ~/.cache/tfpilot/testpy-venv/bin/pip install aiosmtpd==1.4.6, then \
                 export TFPILOT_TEST_PYTHON=~/.cache/tfpilot/testpy-venv/bin/python)"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("aiosmtpd.log")).unwrap();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} -m aiosmtpd: {e}"));
        let mut server = SmtpServer { child, port, dir };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("aiosmtpd exited with {status}:\n{}", self.log());
            }
            if Instant::now() > deadline {
                panic!(
                    "aiosmtpd did not listen on port {} within 20 s:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("aiosmtpd.log")).unwrap_or_default()
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let new = self.dir.path().join("maildir").join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| Mail::parse(&std::fs::read_to_string(p).unwrap()))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on (the listener is dropped at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A stored mail: its headers (unfolded) and its body as sent.
#[derive(Debug, Clone)]
pub struct Mail {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        Mail {
            headers: headers(head),
            body: body.to_owned(),
        }
    }

    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded part of type `mime` (`text/plain`, `text/html`), or the
    /// whole body of a single-part mail of that type.
    pub fn part(&self, mime: &str) -> Option<String> {
        let content_type = self.header("Content-Type").unwrap_or("text/plain");
        let Some(boundary) = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned())
        else {
            return content_type
                .starts_with(mime)
                .then(|| decode(self.header("Content-Transfer-Encoding"), &self.body));
        };
        self.body
            .split(&format!("--{boundary}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .map(|p| Mail::parse(p.trim_start_matches('\n')))
            .find_map(|part| part.part(mime))
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        self.part("text/plain")
            .unwrap_or_else(|| panic!("no text/plain part in {self:#?}"))
    }
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn decode(encoding: Option<&str>, body: &str) -> String {
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        Some("quoted-printable") => {
            let joined = body.replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
                match (bytes[i], hex) {
                    (b'=', Some(b)) => {
                        out.push(b);
                        i += 3;
                    }
                    (c, _) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            String::from_utf8(out).unwrap()
        }
        Some("base64") => {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        }
        _ => body.to_owned(),
    }
}
