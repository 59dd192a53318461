//! What the machine gave a run: the VM's steal time, and how long the disk took to sync.
//!
//! On a virtual machine whose host is shared, both move from one minute to the next, and a
//! durable create's p99 moves with them: a create is answered only after its data sync, and
//! every create in flight waits for the sync in progress. A `Probe` beside the durable
//! creates records both, so that a report tells a slow build from a slow disk.

use crate::http::percentile_ms;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The machine's CPU time so far, from the `cpu` line of /proc/stat: (steal, all), in ticks.
/// Steal is time a virtual machine's host gave the VM's cores to others: a run whose steal
/// share is high measured a slower machine than one without.
pub fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal (guest time is within user).
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    (fields.len() == 8).then(|| (fields[7], fields.iter().sum()))
}

/// "steal time X% of the CPU time" since `start`, or nothing where /proc/stat is not read.
fn steal_since(start: Option<(u64, u64)>) -> Option<String> {
    match (start, cpu_ticks()) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => Some(format!(
            "steal time {:.1}% of the CPU time",
            100.0 * s1.saturating_sub(s0) as f64 / (t1 - t0) as f64
        )),
        _ => None,
    }
}

/// The report's machine line: cores, CPU model, load average at the end, and the steal time
/// since `start`. The model matters: the VM has moved between hosts (AMD EPYC, later Intel
/// Xeon), and the same build's CPU per request moved with it, more than the bare handler's.
pub fn summary(start: Option<(u64, u64)>) -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(format!(" ({})", line.split_once(':')?.1.trim()))
        })
        .unwrap_or_default();
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let steal = steal_since(start).map_or(String::new(), |s| format!("; {s} over the run"));
    format!(
        "{} cores{model}; load average at the end {}{steal}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg.split(' ').take(3).collect::<Vec<_>>().join(" ")
    )
}

/// How often the probe syncs. Ten 4 KiB syncs a second are nothing beside thousands of
/// creates a second, and still catch a stall of the disk that lasts a tenth of a second.
const EVERY: Duration = Duration::from_millis(100);

/// Steal time and the latency of a small `fdatasync`, sampled while something else runs.
pub struct Probe {
    ticks: Option<(u64, u64)>,
    stop: Arc<AtomicBool>,
    /// The syncs' latencies, in microseconds.
    syncs: JoinHandle<Vec<u32>>,
}

impl Probe {
    /// Starts syncing a file of its own in `dir` (on the disk under test) every 100 ms.
    pub fn start(dir: &Path) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let path = dir.join("disk-probe");
        let mut file = std::fs::File::create(&path).expect("the disk probe's file");
        file.write_all(&[0; 4096]).unwrap();
        file.sync_all().unwrap();
        let flag = stop.clone();
        let syncs = std::thread::spawn(move || {
            let mut us = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                // Overwrites the same block: a sync of new data, not of a growing file.
                file.write_all_at(&[us.len() as u8; 4096], 0).unwrap();
                let at = Instant::now();
                file.sync_data().unwrap();
                us.push(at.elapsed().as_micros().try_into().unwrap_or(u32::MAX));
                std::thread::sleep(EVERY);
            }
            let _ = std::fs::remove_file(&path);
            us
        });
        Probe {
            ticks: cpu_ticks(),
            stop,
            syncs,
        }
    }

    /// A line for the report: what the machine gave `what` while the probe ran.
    pub fn finish(self, what: &str) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let steal = steal_since(self.ticks);
        let mut us = self.syncs.join().expect("the disk probe");
        us.sort_unstable();
        let syncs = (!us.is_empty()).then(|| {
            format!(
                "a 4 KiB write and `fdatasync` beside them every 100 ms took p50 {:.2}, p99 {:.2}, max {:.2} ms ({} syncs)",
                percentile_ms(&us, 0.5),
                percentile_ms(&us, 0.99),
                percentile_ms(&us, 1.0),
                us.len()
            )
        });
        let parts: Vec<String> = steal.into_iter().chain(syncs).collect();
        format!("- the machine during {what}: {}", parts.join("; "))
    }
}
