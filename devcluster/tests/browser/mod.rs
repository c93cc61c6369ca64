//! Headless Chromium driven over the DevTools protocol (a websocket; tungstenite), for
//! the live page's browser tests. Shared by `devcluster/tests/ui_browser.rs` and the e2e
//! crate's `tests/tests/ui_minimal.rs` (included there with `#[path]`).
//!
//! Needs Debian's `chromium` (`.ci/install-chromium.sh`). [`chromium_or_skip`] returns
//! `None` with a printed reason when it is missing, except under `CI=true`, where a
//! missing browser fails the test. `DEVCLUSTER_CHROMIUM=/path` picks another binary.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// The Chromium binary, or `None` after printing why the browser test is skipped.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = chromium_binary();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium is missing: run .ci/install-chromium.sh"
        );
        // Straight to the stderr handle, not eprintln!: the test harness hides what the
        // print macros write in passing tests, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no chromium (apt-get install chromium, or \
             .ci/install-chromium.sh; DEVCLUSTER_CHROMIUM=/path picks another binary)"
        );
    }
    found
}

fn chromium_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DEVCLUSTER_CHROMIUM") {
        // A path that does not exist means "no browser" (how the skip is tested).
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A headless Chromium we started; stopped (its whole process group) on drop.
pub struct Browser {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn start(bin: &Path) -> Browser {
        use std::os::unix::process::CommandExt as _;
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1500,1100",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            // Chromium's own scratch folders (org.chromium.Chromium.*) go into the
            // profile too, so that nothing is left in /tmp when the test ends.
            .env("TMPDIR", profile.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that stopping it also stops its renderers.
            .process_group(0)
            .spawn()
            .expect("chromium starts");
        let mut b = Browser {
            child,
            port: 0,
            _profile: profile,
        };
        // Chromium writes the port it chose (first line) into the profile directory.
        let file = b._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(20);
        while b.port == 0 {
            assert!(
                Instant::now() < deadline,
                "chromium wrote no DevToolsActivePort"
            );
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            b.port = text
                .lines()
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            std::thread::sleep(Duration::from_millis(50));
        }
        b
    }

    /// A new tab on `url`, with a DevTools connection to it.
    pub fn open(&self, url: &str) -> Page {
        let endpoint = format!("http://127.0.0.1:{}/json/new?{url}", self.port);
        let mut resp = ureq::put(&endpoint).send_empty().expect("/json/new");
        let body = resp.body_mut().read_to_string().expect("/json/new body");
        let target: Value = serde_json::from_str(&body).expect("/json/new JSON");
        let ws_url = target["webSocketDebuggerUrl"].as_str().expect("ws url");
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect devtools");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let (ws, _) = tungstenite::client(ws_url, stream).expect("websocket handshake");
        Page { ws, next_id: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group id is the pid of the browser we started.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab, driven by DevTools protocol commands.
pub struct Page {
    ws: WebSocket<TcpStream>,
    next_id: u64,
}

impl Page {
    /// Sends a command and returns its result (events in between are skipped).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send command");
        loop {
            let m = self.ws.read().expect("devtools message");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).expect("devtools JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript (promises awaited) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is true; on timeout fails with the page's text.
    pub fn wait_true(&mut self, secs: u64, what: &str, expr: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.eval(expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = self.eval("document.body.innerText");
        panic!(
            "page never showed {what}; page text:\n{}",
            text.as_str().unwrap_or("")
        );
    }

    /// A real mouse click in the middle of the element `selector`.
    pub fn click(&mut self, selector: &str) {
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector('{selector}'); e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
        let hit = self.eval(&format!(
            "(document.elementFromPoint({x}, {y}) || {{}}).outerHTML"
        ));
        eprintln!("click {selector} at {x},{y}: {hit}");
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    pub fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("png data"))
            .expect("base64");
        std::fs::write(path, png).expect("write screenshot");
    }
}
