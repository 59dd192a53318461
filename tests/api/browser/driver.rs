//! A minimal W3C WebDriver client over ureq (already a dev-dependency): chromedriver from
//! Debian drives headless Chromium. Just the commands the journeys use.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser is installed; in CI (`CI` set) its absence is a failure.
pub fn available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs {CHROMIUM} and {CHROMEDRIVER} (.ci/run installs them)"
        );
        eprintln!(
            "skipped: no {CHROMIUM} or {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
    }
    there
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
    pub downloads: tempfile::TempDir,
}

impl Browser {
    pub fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let r: Value = ureq::post(&format!("{base}/session"))
            .send_json(caps)
            .expect("a browser session")
            .into_json()
            .unwrap();
        let session = r["value"]["sessionId"].as_str().unwrap().to_string();
        let b = Browser {
            driver,
            base,
            session,
            _profile: profile,
            downloads,
        };
        let dir = b.downloads.path().display().to_string();
        b.cdp(
            "Browser.setDownloadBehavior",
            json!({"behavior": "allow", "downloadPath": dir}),
        );
        b
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let req = ureq::request(method, &self.url(path));
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match res {
            Ok(r) => r.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(code, r)) => {
                panic!(
                    "WebDriver {method} {path}: {code} {}",
                    r.into_string().unwrap()
                )
            }
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    pub fn dark(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": value}]}),
        );
    }

    pub fn width(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn reload(&self) {
        self.call("POST", "/refresh", Some(json!({})));
    }

    pub fn script(&self, code: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": code, "args": args})),
        )
    }

    /// Waits (polling, at most 15 s) until `check` returns Some.
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut(&Browser) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            if Instant::now() > deadline {
                let text = self.text("body");
                self.screenshot(&format!(
                    "timeout-{}",
                    std::thread::current()
                        .name()
                        .unwrap_or("test")
                        .replace("::", "-")
                ));
                panic!("timed out waiting for {what}; the page shows: {text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn find(&self, css: &str) -> Option<String> {
        self.find_by("css selector", css)
    }

    fn find_by(&self, using: &str, value: &str) -> Option<String> {
        let r =
            ureq::post(&self.url("/element")).send_json(json!({"using": using, "value": value}));
        let v: Value = r.ok()?.into_json().ok()?;
        v["value"]
            .as_object()?
            .values()
            .next()?
            .as_str()
            .map(String::from)
    }

    /// A WebDriver call that may fail because the page changed under it (an element
    /// re-rendered between finding and using it is "stale"): `None` then, to poll again.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let req = ureq::request(method, &self.url(path));
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        Some(res.ok()?.into_json::<Value>().ok()?["value"].take())
    }

    /// The element matching `css` once it is shown.
    pub fn el(&self, css: &str) -> String {
        self.wait(css, |b| {
            let id = b.find(css)?;
            let shown = b.try_call("GET", &format!("/element/{id}/displayed"), None)?;
            shown.as_bool().unwrap_or(false).then_some(id)
        })
    }

    /// Clicks the element matching `css` once it is shown (found again if the page
    /// re-rendered it in between).
    pub fn click(&self, css: &str) {
        self.wait(css, |b| {
            let id = b.find(css)?;
            let shown = b.try_call("GET", &format!("/element/{id}/displayed"), None)?;
            if !shown.as_bool().unwrap_or(false) {
                return None;
            }
            b.try_call("POST", &format!("/element/{id}/click"), Some(json!({})))
        });
    }

    /// Clicks the button whose text is `text`, once it is shown.
    pub fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()='{text}']");
        let id = self.wait(&xpath, |b| b.find_by("xpath", &xpath));
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Clears the input named `name` inside `form` and types `text`.
    pub fn fill(&self, form: &str, name: &str, text: &str) {
        let id = self.el(&format!("{form} [name=\"{name}\"]"));
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn submit(&self, form: &str) {
        self.click(&format!("{form} button[type=submit]"));
    }

    pub fn text(&self, css: &str) -> String {
        self.script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Chooses the file at `path` in the file input `css` (as a person picking it).
    pub fn choose_file(&self, css: &str, path: &Path) {
        let id = self.el(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": path.display().to_string() })),
        );
    }

    /// Presses Tab `n` times (one WebDriver action sequence).
    pub fn tab(&self, n: usize) {
        let keys: Vec<Value> = (0..n)
            .flat_map(|_| {
                [
                    json!({"type": "keyDown", "value": "\u{E004}"}),
                    json!({"type": "keyUp", "value": "\u{E004}"}),
                ]
            })
            .collect();
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": keys}]})),
        );
    }

    /// Waits until the element `css` shows `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait(&format!("{needle:?} in {css}"), |b| {
            let t = b.text(css);
            t.contains(needle).then_some(t)
        })
    }

    /// Waits until the console shows `route`.
    pub fn on(&self, route: &str) {
        self.wait(&format!("the page {route}"), |b| {
            let r = b.script(
                "const m = document.getElementById('main'); return m && m.dataset.route;",
                json!([]),
            );
            (r.as_str() == Some(route)).then_some(())
        });
    }

    /// Saves a screenshot as target/browser/<name>.png; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.call("GET", "/screenshot", None);
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The browser console's messages at level SEVERE since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        let logs = self.call("POST", "/se/log", Some(json!({"type": "browser"})));
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["level"] == "SEVERE")
            .map(|l| l["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn assert_no_console_errors(&self) {
        let errors = self.console_errors();
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
    }

    /// As `assert_no_console_errors`, but the failed requests a test provokes on purpose
    /// (a 400 the page shows beside a field) are expected: each message containing one of
    /// `expected` is left out.
    pub fn assert_no_console_errors_but(&self, expected: &[&str]) {
        let errors: Vec<String> = self
            .console_errors()
            .into_iter()
            .filter(|e| !expected.iter().any(|x| e.contains(x)))
            .collect();
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
    }

    /// Waits for a finished download named `name`; returns its text.
    pub fn downloaded(&self, name: &str) -> String {
        let path = self.downloads.path().join(name);
        let partial = self.downloads.path().join(format!("{name}.crdownload"));
        // Chromium may create the file before its data is in it (it writes the data to
        // `<name>.crdownload` and renames that when done): an empty file, or one with a
        // partial beside it, is no download yet (a test read such an empty file once in CI).
        self.wait(&format!("the download {name}"), |_| {
            let text = std::fs::read_to_string(&path).ok()?;
            (!text.is_empty() && !partial.exists()).then_some(text)
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url("")).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
