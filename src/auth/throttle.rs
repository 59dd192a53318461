//! Failed logins, counted per username and per client address, with a temporary lockout.
//!
//! Each counter forgets failures older than the lockout length. Reaching the limit locks
//! the username (or address) for `auth.lockout_secs`: logins are then answered 429 with
//! `Retry-After` before any password is checked, right or wrong, which also spares the
//! CPU the hash. A lockout always ends by itself: a stranger can delay a user's login, never
//! lock the user out for good (Keycloak's lesson). A successful login clears its username's
//! counter, not its address's (one good account must not reset an address's guessing).
//!
//! Usernames are counted whether or not they exist, so a lockout tells nothing about them.
//! Memory is bounded: at most `CAPACITY` counters; when full, expired ones go first, then
//! the oldest.

use crate::clock::Clock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const CAPACITY: usize = 10_000;

struct Counter {
    /// The first failure still counted.
    since: i64,
    failures: u32,
    locked_until: i64,
}

pub struct LoginThrottle {
    per_user: u32,
    per_address: u32,
    lockout_ms: i64,
    clock: Clock,
    counters: Mutex<HashMap<String, Counter>>,
}

impl LoginThrottle {
    pub fn new(config: &crate::config::AuthConfig) -> LoginThrottle {
        LoginThrottle {
            per_user: config.login_failures_per_user,
            per_address: config.login_failures_per_address,
            lockout_ms: (config.lockout_secs as i64).saturating_mul(1000),
            clock: config.clock.clone(),
            counters: Mutex::new(HashMap::new()),
        }
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<String, Counter>> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn user_key(account: Option<&str>, username: &str) -> String {
        format!("u:{}:{}", account.unwrap_or("*"), username.to_lowercase())
    }

    fn address_key(ip: Option<IpAddr>) -> Option<String> {
        ip.map(|ip| format!("a:{ip}"))
    }

    /// Seconds until a login for `username` (in `account`, as the client named it) from
    /// `ip` may be tried again; `None` when it may be tried now.
    pub fn locked(&self, account: Option<&str>, username: &str, ip: Option<IpAddr>) -> Option<u64> {
        let now = self.clock.now_millis();
        let counters = self.counters();
        let keys = std::iter::once(Self::user_key(account, username)).chain(Self::address_key(ip));
        let until = keys
            .filter_map(|k| counters.get(&k).map(|c| c.locked_until))
            .max()
            .filter(|until| *until > now)?;
        Some(((until - now) as u64).div_ceil(1000).max(1))
    }

    /// Counts a failed login.
    pub fn failure(&self, account: Option<&str>, username: &str, ip: Option<IpAddr>) {
        let now = self.clock.now_millis();
        let mut counters = self.counters();
        let user = (Self::user_key(account, username), self.per_user);
        let address = Self::address_key(ip).map(|k| (k, self.per_address));
        for (key, limit) in std::iter::once(user).chain(address) {
            if limit == 0 {
                continue;
            }
            if !counters.contains_key(&key) && counters.len() >= CAPACITY {
                self.evict(&mut counters, now);
            }
            let c = counters.entry(key).or_insert(Counter {
                since: now,
                failures: 0,
                locked_until: 0,
            });
            if now - c.since >= self.lockout_ms {
                *c = Counter {
                    since: now,
                    failures: 0,
                    locked_until: 0,
                };
            }
            c.failures += 1;
            if c.failures >= limit {
                c.locked_until = now + self.lockout_ms;
                c.since = now;
                c.failures = 0;
            }
        }
    }

    /// A successful login: its username's failures are forgotten.
    pub fn success(&self, account: Option<&str>, username: &str) {
        self.counters().remove(&Self::user_key(account, username));
    }

    fn evict(&self, counters: &mut HashMap<String, Counter>, now: i64) {
        let lockout = self.lockout_ms;
        counters.retain(|_, c| c.locked_until > now || now - c.since < lockout);
        if counters.len() >= CAPACITY {
            if let Some(oldest) = counters
                .iter()
                .min_by_key(|(_, c)| c.since.max(c.locked_until))
                .map(|(k, _)| k.clone())
            {
                counters.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(clock: &Clock) -> LoginThrottle {
        LoginThrottle::new(&crate::config::AuthConfig {
            login_failures_per_user: 3,
            login_failures_per_address: 5,
            lockout_secs: 60,
            clock: clock.clone(),
            ..Default::default()
        })
    }

    #[test]
    fn a_username_is_locked_for_a_while_then_free_again() {
        let clock = Clock::controlled();
        let t = throttle(&clock);
        let ip: Option<IpAddr> = Some([10, 0, 0, 1].into());
        for _ in 0..2 {
            t.failure(None, "Ann", ip);
            assert_eq!(t.locked(None, "ann", ip), None);
        }
        t.failure(None, "ann", ip);
        assert_eq!(t.locked(None, "ANN", Some([10, 0, 0, 2].into())), Some(60));
        assert_eq!(
            t.locked(None, "bob", ip),
            None,
            "the address is not locked yet"
        );
        clock.advance(59_500);
        assert_eq!(t.locked(None, "ann", ip), Some(1));
        clock.advance(500);
        assert_eq!(t.locked(None, "ann", ip), None, "a lockout ends by itself");
    }

    #[test]
    fn an_address_is_locked_across_usernames_and_a_success_clears_only_the_user() {
        let clock = Clock::controlled();
        let t = throttle(&clock);
        let ip: Option<IpAddr> = Some([10, 0, 0, 1].into());
        for n in 0..4 {
            t.failure(None, &format!("user{n}"), ip);
        }
        t.failure(None, "ann", ip);
        t.failure(None, "ann", ip);
        t.success(None, "ann");
        assert_eq!(
            t.locked(None, "carol", ip),
            Some(60),
            "the address is locked"
        );
        assert_eq!(t.locked(None, "ann", Some([10, 0, 0, 9].into())), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let clock = Clock::controlled();
        let t = throttle(&clock);
        for _ in 0..2 {
            t.failure(None, "ann", None);
        }
        clock.advance(61_000);
        t.failure(None, "ann", None);
        assert_eq!(t.locked(None, "ann", None), None);
    }
}
