//! Test helpers: `spawn_app()` starts the app in-process on port 0 with a fresh data dir;
//! `Binary` runs the real `iamd` executable. Both are called through `Client`.

#![allow(dead_code)]

use iamd::config::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A response: status, parsed JSON body (Null when empty or not JSON) and headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        &self.body
    }

    /// Asserts an `ErrorResponse` with `status`; returns it.
    #[track_caller]
    pub fn expect_error(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_error_body(&self.body, status);
        assert_eq!(
            self.header("x-request-id"),
            self.body["request_id"].as_str(),
            "header and body request ids differ"
        );
        &self.body
    }

    /// Asserts a `validation_error` with `status` whose `fields` name exactly `field`.
    #[track_caller]
    pub fn expect_field_error(&self, status: u16, field: &str) -> &Value {
        self.expect_fields_error(status, &[field])
    }

    /// Asserts a `validation_error` with `status` whose `fields` name exactly `fields`, in
    /// any order, each once.
    #[track_caller]
    pub fn expect_fields_error(&self, status: u16, fields: &[&str]) -> &Value {
        let body = self.expect_error(status);
        assert_eq!(body["type"], "validation_error", "{body}");
        let mut named = field_names(body);
        named.sort();
        let mut expected: Vec<&str> = fields.to_vec();
        expected.sort();
        assert_eq!(named, expected, "the fields named: {body}");
        body
    }

    /// Asserts a 400 that is about no one field (the input cannot be read, or the request
    /// is refused as a whole): type `bad_request`, no `fields`, a message holding `message`.
    #[track_caller]
    pub fn expect_bad_request(&self, message: &str) -> &Value {
        let body = self.expect_error(400);
        assert_eq!(body["type"], "bad_request", "{body}");
        assert!(body.get("fields").is_none(), "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "the message does not say {message:?}: {body}"
        );
        body
    }
}

/// Checks the spec's `ErrorResponse` shape.
#[track_caller]
pub fn assert_error_body(body: &Value, status: u16) {
    assert_eq!(body["object"], "error", "not an ErrorResponse: {body}");
    assert_eq!(body["code"], status, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["type"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["request_id"].as_str().is_some_and(|m| m.len() == 32),
        "{body}"
    );
}

/// An HTTP client bound to one server and one API key.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub key: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str, key: Option<&str>) -> Client {
        Client {
            base: base.to_string(),
            key: key.map(str::to_string),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    pub fn with_key(&self, key: &str) -> Client {
        Client {
            key: Some(key.to_string()),
            ..self.clone()
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            key: None,
            ..self.clone()
        }
    }

    /// Sends `method path` with an optional raw body and content type.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        if let Some(key) = &self.key {
            req = req.set("Authorization", &format!("Bearer {key}"));
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some((content_type, bytes)) => req.set("Content-Type", content_type).send_bytes(bytes),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|n| response.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.raw("GET", path, None, &[])
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.raw("DELETE", path, None, &[])
    }

    pub fn post(&self, path: &str, json: &Value) -> Resp {
        self.raw(
            "POST",
            path,
            Some(("application/json", json.to_string().as_bytes())),
            &[],
        )
    }

    pub fn put(&self, path: &str, json: &Value) -> Resp {
        self.raw(
            "PUT",
            path,
            Some(("application/json", json.to_string().as_bytes())),
            &[],
        )
    }
}

/// The app running in-process on its own actix system and thread.
pub struct TestApp {
    pub client: Client,
    pub admin_key: String,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    /// The app's PostgreSQL schema (`IAMD_TEST_STORE=postgres`), dropped after the app.
    pub pg: Option<crate::pg::Schema>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::load(None, |_| None).expect("defaults load");
    config.bind = "127.0.0.1:0".into();
    config.data_dir = data_dir.to_path_buf();
    config.workers = 2;
    // Tests send refused keys on purpose, many per app; operations.rs tests the limit itself.
    config.limits.auth_failures_per_minute = 0;
    // The free space of the test machine's disk is not what these tests are about
    // (operations/full_disk.rs tests the reserve on a file system of its own).
    config.limits.min_free_disk_bytes = 0;
    // A data directory whose app ran on PostgreSQL (`IAMD_TEST_STORE`) restarts there.
    if let Some(url) = crate::pg::url_for(data_dir) {
        config.store.url = url;
    }
    config
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// Starts the app with its database in memory (`[store] url = "memory:"`).
pub fn spawn_app_in_memory() -> TestApp {
    spawn_app_with(|c| c.store.url = "memory:".into())
}

/// Starts the app on sled whatever `IAMD_TEST_STORE` says (tests of sled's own files).
pub fn spawn_app_on_sled() -> TestApp {
    start_on_temp_dir(|_| {}, false)
}

/// `spawn_app_with` on sled whatever `IAMD_TEST_STORE` says: for tests that read the
/// database's files in the data directory.
pub fn spawn_app_on_sled_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    start_on_temp_dir(tweak, false)
}

/// Starts the app on a fresh temp dir after `tweak` adjusts the config.
pub fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    start_on_temp_dir(tweak, crate::pg::suite_on_postgres())
}

fn start_on_temp_dir(tweak: impl FnOnce(&mut Config), postgres: bool) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path());
    tweak(&mut config);
    // One switch runs the suite on PostgreSQL: each app on a schema of its own.
    let pg = (config.store.url.is_empty() && postgres)
        .then(|| crate::pg::Schema::create().expect("IAMD_TEST_PG_URL"));
    if let Some(schema) = &pg {
        config.store.url = schema.url();
    }
    let mut app = start_in_process(config);
    app._dir = Some(dir);
    app.pg = pg;
    app
}

/// Starts the app on `config` (its data dir is kept by the caller).
pub fn start_in_process(config: Config) -> TestApp {
    let data_dir = config.data_dir.clone();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let started = iamd::server::start(config)
                .await
                .unwrap_or_else(|e| panic!("server starts: {e}"));
            let server = started.server;
            tx.send((started.addr, started.handle, started.admin_key))
                .unwrap();
            let _ = server.await;
            let _ = started.store.flush();
        });
    });
    let (addr, handle, admin_key) = rx.recv().expect("server reported its address");
    let admin_key = admin_key
        .or_else(|| {
            std::fs::read_to_string(data_dir.join("admin-api-key"))
                .ok()
                .map(|s| s.trim().to_string())
        })
        .expect("an admin key");
    TestApp {
        client: Client::new(&format!("http://{addr}"), Some(&admin_key)),
        admin_key,
        data_dir,
        _dir: None,
        pg: None,
        handle,
        thread: Some(thread),
    }
}

impl TestApp {
    /// Stops the server gracefully and waits for it (the data dir stays). Once it returns,
    /// the database is closed: a test may open it, or start a server on it, at once.
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        assert!(
            self.shutdown(),
            "the database of the stopped server stays open"
        );
        if let Some(schema) = self.pg.take() {
            crate::pg::keep_for(&self.data_dir, schema);
        }
        self._dir.take()
    }

    /// Stops the server, joins its thread (the actix system, its tasks and the test's store
    /// handle end with it) and waits until the database is closed; false if it stays open.
    fn shutdown(&mut self) -> bool {
        drop(self.handle.stop(true));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        database_closed_within(&self.data_dir, Duration::from_secs(10))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // No assertion here: a panic while a failed test unwinds would abort the run.
        self.shutdown();
    }
}

/// Waits until no handle of the database under `data_dir` is open, at most `wait`; whether
/// it closed (true when there is no database).
///
/// Joining the server's thread is not enough: actix drops each worker's copy of the app
/// state (and so of the store) on the worker's own thread after reporting it stopped, and
/// joins no worker thread; sled's IO threads may also hold the file a moment after the last
/// handle goes. What they all share is sled's lock, an exclusive `flock` on `db/db` held
/// while the database is open: taking it (blocking, no polling) proves the database closed.
pub fn database_closed_within(data_dir: &Path, wait: Duration) -> bool {
    let file = match std::fs::File::open(data_dir.join("db").join("db")) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
        Err(e) => panic!("cannot open the database file: {e}"),
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let locked = file.lock().is_ok();
        // Closing the file lets the lock go before the caller hears of it.
        drop(file);
        let _ = tx.send(locked);
    });
    matches!(rx.recv_timeout(wait), Ok(true))
}

/// Runs `f` on the store under `data_dir` while no server runs on it, then closes the store
/// and waits until the database is closed, so a server may start on it at once.
pub fn with_store<T>(data_dir: &Path, f: impl FnOnce(&iamd::store::Store) -> T) -> T {
    let url = crate::pg::url_for(data_dir).unwrap_or_default();
    let store = iamd::store::Store::open_url(data_dir, &url)
        .unwrap_or_else(|e| panic!("the store of a stopped server opens at once: {e}"));
    let out = f(&store);
    store.flush().expect("the store flushes");
    drop(store);
    assert!(
        database_closed_within(data_dir, Duration::from_secs(10)),
        "the database stays open after the store is dropped"
    );
    out
}

/// A caller without admin rights: a new user (member of `Developers` when `developer`) and
/// an API key it owns. Returns the client and the user's id.
pub fn non_admin(app: &TestApp, developer: bool) -> (Client, String) {
    let email = format!("{}@example.com", unique("dev"));
    let mut body = serde_json::json!({"email": email, "password": "a long enough password"});
    if developer {
        let groups = app.get("/v3/policy-groups?name__eq=Developers");
        let id = groups.body["data"][0]["id"].clone();
        assert!(
            id.is_string(),
            "Developers group not found: {}",
            groups.text
        );
        body["groups"] = serde_json::json!([id]);
    }
    let user = app.post("/v3/users", &body).expect(201).clone();
    let user_id = user["id"].as_str().unwrap().to_string();
    let key = app
        .post(
            "/v3/api-keys",
            &serde_json::json!({"name": unique("k"), "owner": user_id}),
        )
        .expect(201)
        .clone();
    (app.with_key(key["key"].as_str().unwrap()), user_id)
}

/// A minimal SAML2 identity provider of the caller's account; returns its id.
pub fn new_identity_provider(app: &Client) -> String {
    let body = serde_json::json!({"name": unique("idp"), "type": "SAML2"});
    app.post("/v3/identity-providers", &body).expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `id` of a JSON object.
pub fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// The ids of a list response's `data`, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(id_of)
        .collect()
}

/// Names of the fields an ErrorResponse lists.
pub fn field_names(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every file below `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The API contract the spec-based tests read: `IAMD_SPEC`, or by default
/// `../shared/spec/iam-openapi.yaml` beside the repository. Panics when it is missing.
#[track_caller]
pub fn spec_path() -> PathBuf {
    required_spec(std::env::var_os("IAMD_SPEC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/iam-openapi.yaml"),
        PathBuf::from,
    ))
}

/// `path`, or a panic saying what is missing: a spec-based test that passes without the
/// spec would read as proof of what it never checked.
#[track_caller]
pub fn required_spec(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "the spec-based tests need the API contract, and {} is missing: put the reference \
         material (`shared/`, with spec/iam-openapi.yaml) beside the repository, or set \
         IAMD_SPEC to the spec's path",
        path.display()
    );
    path
}

/// Checks `done` every 10 ms until it holds; panics saying what never happened after
/// `within`. For events the test cannot be told of directly.
#[track_caller]
pub fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited {within:?} in vain until {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A unique suffix for names and emails within one test run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The real `iamd` executable, on `data_dir`, on a port it chooses and reports in its log.
pub struct Binary {
    pub child: std::process::Child,
    pub client: Client,
    stdout: Captured,
    log: Captured,
}

impl Binary {
    pub fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Binary {
        Binary::launch(
            std::process::Command::new(env!("CARGO_BIN_EXE_iamd")),
            data_dir,
            extra_env,
        )
    }

    /// `start`, from a shell that first sets `umask`.
    pub fn start_with_umask(data_dir: &Path, extra_env: &[(&str, &str)], umask: &str) -> Binary {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("umask {umask} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_iamd"));
        Binary::launch(cmd, data_dir, extra_env)
    }

    fn launch(
        mut cmd: std::process::Command,
        data_dir: &Path,
        extra_env: &[(&str, &str)],
    ) -> Binary {
        use std::process::Stdio;
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("IAMD_DATA_DIR", data_dir)
            .env("IAMD_BIND", "127.0.0.1:0")
            .env("IAMD_WORKERS", "2")
            .env("RUST_LOG", "info")
            // As in `test_config`; a test's `extra_env` may set it.
            .env("IAMD_LIMITS_MIN_FREE_DISK_BYTES", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("iamd starts");
        // Both pipes are drained for the child's whole life, so it never blocks on one.
        let stdout = Captured::drain(child.stdout.take().unwrap());
        let log = Captured::drain(child.stderr.take().unwrap());
        const LISTENING: &str = "listening on http://";
        assert!(
            log.wait_for(LISTENING, Duration::from_secs(60)),
            "iamd did not start listening; its log:\n{}",
            log.text()
        );
        let text = log.text();
        let addr = text
            .lines()
            .find_map(|l| l.split(LISTENING).nth(1))
            .unwrap()
            // The address ends the line, or its JSON string (`[log] format = "json"`).
            .split(['"', ' '])
            .next()
            .unwrap()
            .trim()
            .to_string();
        // A key given to the first start is not written to the key file.
        let given = |var: &str| extra_env.iter().find(|(name, _)| *name == var).map(|e| e.1);
        let key = match (
            given("IAMD_ADMIN_API_KEY"),
            given("IAMD_ADMIN_API_KEY_FILE"),
        ) {
            (Some(key), _) => key.to_string(),
            (None, Some(file)) => std::fs::read_to_string(file).expect("the key's file"),
            (None, None) => match std::fs::read_to_string(data_dir.join("admin-api-key")) {
                Ok(key) => key,
                // A node that joined a database another node bootstrapped has no key file.
                Err(_) if given("IAMD_STORE_URL").is_some() => String::new(),
                Err(e) => panic!("admin key file: {e}"),
            },
        };
        let key = Some(key.trim()).filter(|k| !k.is_empty());
        Binary {
            child,
            client: Client::new(&format!("http://{addr}"), key),
            stdout,
            log,
        }
    }

    /// What the process printed to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.text()
    }

    /// What the process logged (stderr) so far.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// Waits until stdout holds `needle`, at most `within`; whether it did.
    pub fn wait_stdout(&self, needle: &str, within: Duration) -> bool {
        self.stdout.wait_for(needle, within)
    }

    /// Waits until the log (stderr) holds `needle`, at most `within`; whether it did.
    pub fn wait_log(&self, needle: &str, within: Duration) -> bool {
        self.log.wait_for(needle, within)
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("iamd exits")
    }

    /// `terminate`, then everything the process printed to stdout in its life: for what it
    /// must never print, which only the whole output can show.
    pub fn terminate_with_stdout(self) -> (std::process::ExitStatus, String) {
        let stdout = self.stdout.clone();
        let status = self.terminate();
        assert!(
            stdout.wait_closed(Duration::from_secs(10)),
            "stdout stays open after the exit"
        );
        (status, stdout.text())
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text a child process writes to one pipe, read by a thread as it comes; waiting for
/// a piece of it sleeps on a condition variable until a line arrives or the pipe closes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<(std::sync::Mutex<(String, bool)>, std::sync::Condvar)>);

impl Captured {
    fn drain(pipe: impl std::io::Read + Send + 'static) -> Captured {
        use std::io::{BufRead, BufReader};
        let captured = Captured::default();
        let sink = captured.clone();
        std::thread::spawn(move || {
            let (text, arrived) = &*sink.0;
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut t = text.lock().unwrap();
                t.0.push_str(&line);
                t.0.push('\n');
                arrived.notify_all();
            }
            text.lock().unwrap().1 = true;
            arrived.notify_all();
        });
        captured
    }

    fn text(&self) -> String {
        self.0 .0.lock().unwrap().0.clone()
    }

    /// Waits at most `within` until `done` holds of (text, closed); its last value.
    fn wait(&self, within: Duration, done: impl Fn(&(String, bool)) -> bool) -> bool {
        let (text, arrived) = &*self.0;
        let guard = text.lock().unwrap();
        let (guard, _) = arrived
            .wait_timeout_while(guard, within, |t| !done(t))
            .unwrap();
        done(&guard)
    }

    fn wait_for(&self, needle: &str, within: Duration) -> bool {
        self.wait(within, |(text, closed)| *closed || text.contains(needle));
        self.text().contains(needle)
    }

    fn wait_closed(&self, within: Duration) -> bool {
        self.wait(within, |(_, closed)| *closed)
    }
}

/// Runs the repository's script `tests/<script>` with bash and `args`, `env` set; returns its
/// stdout, or panics with both outputs, saying what `failed` means, when it exits non-zero.
pub fn run_script(script: &str, args: &[&str], env: &[(&str, &str)], failed: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/tests/{script}"))
        .args(args)
        .current_dir(root)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{failed}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}
