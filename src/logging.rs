//! Log output, written by a thread of its own.
//!
//! Every request is logged (see `api::request_id`). Writing each line to stderr from the
//! worker that served the request cost a system call per request, and the workers queued on
//! the stderr lock while another one was in that call: about a tenth of the CPU time of an
//! authenticated GET. Lines are appended to a buffer instead, and one thread writes the
//! buffer out at most every `BATCH_WINDOW`: a line appears within that time, and under load
//! the lines of thousands of requests share one write (waking the writer per line would
//! cost a context switch per request, more than the write it saves).
//! The buffer is bounded: past `MAX_PENDING` bytes, loggers wait for the writer (a stuck
//! stderr slows the server down rather than growing its memory).
//!
//! Lines keep env_logger's default layout (`[2024-05-01T12:00:00Z INFO  target] message`,
//! later lines of a message indented by four spaces) but are put together by [`format`]:
//! env_logger's own formatter rendered the timestamp, padded the level and scanned the
//! message through `fmt` adapters for every line, half the cost of logging a request.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

const MAX_PENDING: usize = 1 << 20;
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer holds bytes taken from `bytes` that are not yet written.
    writing: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when bytes are added.
    added: Condvar,
    /// Signalled when the writer has written what it took.
    written: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

/// Whether lines are JSON objects (`[log] format = "json"`); set once, before `init`.
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The target of request lines, whose message is already the JSON object in JSON mode.
pub const REQUEST_TARGET: &str = "iamd::request";

/// Chooses the line format (call before `init`).
pub fn set_format(format: crate::config::LogFormat) {
    JSON.store(
        format == crate::config::LogFormat::Json,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Whether lines are JSON objects.
pub fn json() -> bool {
    JSON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets up `env_logger` (filter from `RUST_LOG`, `default_filter` otherwise) writing through
/// the background thread.
pub fn init(default_filter: &str) {
    let shared = SHARED.get_or_init(|| {
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("iamd-log".into())
            .spawn(move || write_loop(&writer))
            .expect("cannot start the log writer thread");
        shared
    });
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
        .format(format)
        .target(env_logger::Target::Pipe(Box::new(Sink(shared.clone()))))
        .init();
}

thread_local! {
    /// The second last rendered and its text (`2024-05-01T12:00:00Z`).
    static STAMP: RefCell<(i64, String)> = RefCell::default();
    /// A message being formatted.
    static SCRATCH: RefCell<String> = RefCell::default();
}

/// `[2024-05-01T12:00:00Z INFO  target] `: what starts every line of the text format.
fn prefix(out: &mut impl Write, level: log::Level, target: &str) -> std::io::Result<()> {
    STAMP.with(|stamp| {
        let (second, stamp) = &mut *stamp.borrow_mut();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if *second != now || stamp.is_empty() {
            // `2024-05-01T12:00:00.000Z` without the milliseconds.
            let full = crate::clock::rfc3339(now * 1000);
            *stamp = format!("{}Z", &full[..full.len() - 5]);
            *second = now;
        }
        let level = level.as_str();
        out.write_all(b"[")?;
        out.write_all(stamp.as_bytes())?;
        out.write_all(b" ")?;
        out.write_all(level.as_bytes())?;
        out.write_all(&b"     "[level.len()..])?;
        if !target.is_empty() {
            out.write_all(b" ")?;
            out.write_all(target.as_bytes())?;
        }
        out.write_all(b"] ")
    })
}

/// One line in env_logger's default layout (see the module comment), or a JSON object.
fn format(out: &mut impl Write, record: &log::Record<'_>) -> std::io::Result<()> {
    if json() {
        return format_json(out, record);
    }
    prefix(out, record.level(), record.target())?;
    SCRATCH.with(|message| {
        let mut message = message.borrow_mut();
        let text = match record.args().as_str() {
            Some(text) => text,
            None => {
                message.clear();
                let _ = message.write_fmt(*record.args());
                message.as_str()
            }
        };
        let mut lines = text.split('\n');
        out.write_all(lines.next().unwrap_or_default().as_bytes())?;
        for line in lines {
            out.write_all(b"\n    ")?;
            out.write_all(line.as_bytes())?;
        }
        out.write_all(b"\n")
    })
}

/// Logs a request line (`api::request_id`) at INFO under `target`, in the text format:
/// `message` writes its text, which must be one line. The line goes straight into the
/// writer's buffer, past env_logger: its formatter, its buffer and the mutex it keeps
/// around the pipe cost a request more than putting the line together. `RUST_LOG` still
/// decides whether it is written. Without [`init`] (another logger, or none) the line goes
/// through `log` like any other.
pub fn request_line(target: &str, message: impl FnOnce(&mut Vec<u8>)) {
    thread_local! {
        static LINE: RefCell<Vec<u8>> = RefCell::default();
    }
    if !log::log_enabled!(target: target, log::Level::Info) {
        return;
    }
    let Some(shared) = SHARED.get() else {
        let mut text = Vec::new();
        message(&mut text);
        log::info!(target: target, "{}", String::from_utf8_lossy(&text));
        return;
    };
    LINE.with(|line| {
        let mut line = line.borrow_mut();
        line.clear();
        let _ = prefix(&mut *line, log::Level::Info, target);
        message(&mut line);
        line.push(b'\n');
        append(shared, &line);
    });
}

/// `{"time", "level", "target", "message"}` on one line; a request line is its own object.
fn format_json(out: &mut impl Write, record: &log::Record<'_>) -> std::io::Result<()> {
    if record.target() == REQUEST_TARGET {
        out.write_fmt(*record.args())?;
    } else {
        let line = serde_json::json!({
            "time": crate::clock::rfc3339(crate::clock::now_millis()),
            "level": record.level().as_str(),
            "target": record.target(),
            "message": record.args().to_string(),
        });
        out.write_all(line.to_string().as_bytes())?;
    }
    out.write_all(b"\n")
}

/// Waits until every line logged so far is written to stderr. Call before exiting.
pub fn flush() {
    if let Some(shared) = SHARED.get() {
        let mut pending = shared.lock();
        while !pending.bytes.is_empty() || pending.writing {
            pending = shared
                .written
                .wait(pending)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

struct Sink(Arc<Shared>);

/// Adds `buf` to what the writer thread writes next (waiting while that is full).
fn append(shared: &Shared, buf: &[u8]) {
    let mut pending = shared.lock();
    while pending.bytes.len() >= MAX_PENDING {
        pending = shared
            .written
            .wait(pending)
            .unwrap_or_else(|p| p.into_inner());
    }
    let was_empty = pending.bytes.is_empty();
    pending.bytes.extend_from_slice(buf);
    if was_empty {
        shared.added.notify_one();
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        append(&self.0, buf);
        Ok(buf.len())
    }

    /// Lines are complete when written here; `flush()` (the function) waits for stderr.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_loop(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        {
            let mut pending = shared.lock();
            pending.writing = false;
            shared.written.notify_all();
            while pending.bytes.is_empty() {
                pending = shared
                    .added
                    .wait(pending)
                    .unwrap_or_else(|p| p.into_inner());
            }
            pending.writing = true;
        }
        std::thread::sleep(BATCH_WINDOW);
        std::mem::swap(&mut shared.lock().bytes, &mut out);
        // Nothing sensible is left to do with a log line stderr refuses.
        let _ = std::io::stderr().lock().write_all(&out);
        out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `format` writes what env_logger's default format writes (the timestamps aside).
    #[test]
    fn lines_keep_env_loggers_default_layout() {
        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let logger = |custom: bool| {
            let captured = Captured::default();
            let mut builder = env_logger::Builder::new();
            builder
                .filter_level(log::LevelFilter::Trace)
                .target(env_logger::Target::Pipe(Box::new(captured.clone())));
            if custom {
                builder.format(format);
            }
            (builder.build(), captured)
        };
        let (ours, our_lines) = logger(true);
        let (theirs, their_lines) = logger(false);
        let n = 7;
        for (level, target, args) in [
            (
                log::Level::Info,
                "iamd::api::request_id",
                format_args!("GET /x 200 {n}.1ms"),
            ),
            (log::Level::Warn, "a", format_args!("two\nlines\n")),
            (log::Level::Error, "", format_args!("static")),
            (log::Level::Trace, "b", format_args!("{}", "é\u{1F600}")),
        ] {
            let record = log::Record::builder()
                .level(level)
                .target(target)
                .args(args)
                .build();
            log::Log::log(&ours, &record);
            log::Log::log(&theirs, &record);
        }
        let text = |c: &Captured| String::from_utf8(c.0.lock().unwrap().clone()).unwrap();
        let (ours, theirs) = (text(&our_lines), text(&their_lines));
        // `[2024-05-01T12:00:00Z `: the same length and shape; the second may differ.
        let shape = |t: &str| {
            t.split('\n')
                .map(|l| match l.strip_prefix('[') {
                    Some(rest) if rest.len() > 21 && rest.as_bytes()[19] == b'Z' => {
                        format!("[<time>{}", &rest[20..])
                    }
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shape(&ours),
            shape(&theirs),
            "ours:\n{ours}\ntheirs:\n{theirs}"
        );
        assert!(
            ours.starts_with('[') && ours.as_bytes()[20] == b'Z',
            "{ours}"
        );
    }

    #[test]
    fn sink_hands_lines_to_the_writer_in_order() {
        let shared = Arc::new(Shared::default());
        let mut sink = Sink(shared.clone());
        sink.write_all(b"one\n").unwrap();
        sink.write_all(b"two\n").unwrap();
        assert_eq!(shared.lock().bytes, b"one\ntwo\n");
    }
}
