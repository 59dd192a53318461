//! Failed-authentication limit per client address.
//!
//! Each address has a one-minute window counting requests whose credentials were refused.
//! Past the configured number, further refusals in that window are answered 429 with
//! `Retry-After` instead of 401. Valid credentials are always checked and accepted, so a
//! legitimate client sharing an address with a noisy one keeps working and successful
//! requests cost one map lookup. (API keys carry 256 random bits: the limit is about making
//! misbehaving clients back off, not about making guessing harder.)
//!
//! Memory is bounded: at most `capacity` addresses are tracked; when full, expired windows
//! are dropped first, then the oldest window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Window {
    started: Instant,
    failures: u32,
}

pub struct AuthLimiter {
    /// Failures allowed per window; 0 turns the limiter off.
    limit: u32,
    capacity: usize,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl AuthLimiter {
    pub fn new(limit: u32, capacity: usize) -> AuthLimiter {
        AuthLimiter::with_window(limit, capacity, Duration::from_secs(60))
    }

    pub fn with_window(limit: u32, capacity: usize, window: Duration) -> AuthLimiter {
        AuthLimiter {
            limit,
            capacity: capacity.max(1),
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a refused authentication from `ip`. Returns the seconds to wait when `ip` is
    /// over the limit (answer 429), `None` while it is within it (answer 401).
    pub fn failure(&self, ip: IpAddr) -> Option<u64> {
        self.failure_at(ip, Instant::now())
    }

    fn failure_at(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if !clients.contains_key(&ip) && clients.len() >= self.capacity {
            self.evict(&mut clients, now);
        }
        let entry = clients.entry(ip).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(entry.started) >= self.window {
            *entry = Window {
                started: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures <= self.limit {
            return None;
        }
        let left = self
            .window
            .saturating_sub(now.duration_since(entry.started));
        Some(left.as_secs_f64().ceil().max(1.0) as u64)
    }

    fn evict(&self, clients: &mut HashMap<IpAddr, Window>, now: Instant) {
        clients.retain(|_, w| now.duration_since(w.started) < self.window);
        if clients.len() >= self.capacity {
            if let Some(oldest) = clients
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(ip, _)| *ip)
            {
                clients.remove(&oldest);
            }
        }
    }

    /// Addresses currently tracked.
    pub fn tracked(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    #[test]
    fn over_the_limit_waits_for_the_window() {
        let limiter = AuthLimiter::with_window(3, 10, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.failure_at(ip(1), t0), None);
        }
        assert_eq!(limiter.failure_at(ip(1), t0), Some(60));
        assert_eq!(
            limiter.failure_at(ip(1), t0 + Duration::from_millis(59_500)),
            Some(1)
        );
        // Another address is not affected.
        assert_eq!(limiter.failure_at(ip(2), t0), None);
        // A new window starts fresh.
        assert_eq!(
            limiter.failure_at(ip(1), t0 + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = AuthLimiter::with_window(1, 100, Duration::from_secs(60));
        let t0 = Instant::now();
        for n in 0..10_000 {
            limiter.failure_at(ip(n), t0 + Duration::from_millis(n as u64));
        }
        assert_eq!(limiter.tracked(), 100);
        // The newest addresses are the ones kept.
        assert!(limiter
            .failure_at(ip(9_999), t0 + Duration::from_secs(1))
            .is_some());
        // Expired windows go first.
        let later = t0 + Duration::from_secs(120);
        limiter.failure_at(ip(20_000), later);
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn zero_turns_it_off() {
        let limiter = AuthLimiter::new(0, 10);
        for _ in 0..100 {
            assert_eq!(limiter.failure(ip(1)), None);
        }
        assert_eq!(limiter.tracked(), 0);
    }
}
