//! Field rules from the spec (lengths, patterns, ranges), collected so that one response
//! names every bad field at once.

use crate::error::{ApiError, FieldError};

/// `^(?=.{3,254}$).+\@.+`: 3 to 254 characters with an `@` that is neither first nor last.
pub fn is_email(s: &str) -> bool {
    let n = s.chars().count();
    (3..=254).contains(&n)
        && s.char_indices()
            .any(|(i, c)| c == '@' && i > 0 && i + 1 < s.len())
        && !s.chars().any(|c| c.is_control())
}

/// `[\w\-,._@+=]{4,30}`.
pub fn is_username(s: &str) -> bool {
    let n = s.chars().count();
    (4..=30).contains(&n)
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-,.@+=".contains(c))
}

/// `[\w\-._]{8,100}` (account aliases).
pub fn is_alias(s: &str) -> bool {
    let n = s.chars().count();
    (8..=100).contains(&n) && s.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
}

#[derive(Default)]
pub struct Checks {
    fields: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.fields.push(FieldError::new(name, message));
    }

    pub fn check(&mut self, ok: bool, name: &str, message: impl Into<String>) {
        if !ok {
            self.fail(name, message);
        }
    }

    pub fn max_len(&mut self, name: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            if v.chars().count() > max {
                self.fail(name, format!("Must be at most {max} characters."));
            }
        }
    }

    /// A required text field: `missing` when absent, else not blank and at most `max` long.
    pub fn required_text(&mut self, name: &str, value: Option<&str>, max: usize, missing: &str) {
        match value {
            None => self.fail(name, missing),
            Some(v) => {
                self.not_blank(name, v);
                self.max_len(name, Some(v), max);
            }
        }
    }

    pub fn not_blank(&mut self, name: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(name, "Must not be empty.");
        }
    }

    pub fn email(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_email(v) {
                self.fail(name, "Must be a valid email address.");
            }
        }
    }

    pub fn username(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_username(v) {
                self.fail(
                    name,
                    "Must be 4-30 characters of letters, digits and -,._@+=.",
                );
            }
        }
    }

    pub fn range(&mut self, name: &str, value: Option<i64>, min: i64, max: i64) {
        if let Some(v) = value {
            if v < min || v > max {
                self.fail(name, format!("Must be between {min} and {max}."));
            }
        }
    }

    pub fn one_of(&mut self, name: &str, value: Option<&str>, allowed: &[&str]) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.fail(name, format!("Must be one of: {}.", allowed.join(", ")));
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(ApiError::fields(self.fields))
        }
    }
}

/// Parses ids given in a request body (`groups`, `users`, ...): 400 naming the field.
pub fn ids(name: &str, values: &[String]) -> Result<Vec<crate::ids::Id>, ApiError> {
    values
        .iter()
        .map(|v| {
            crate::ids::Id::parse(v).ok_or_else(|| {
                ApiError::field(name, format!("'{}' is not a valid id.", truncate(v)))
            })
        })
        .collect()
}

/// Shortens user input echoed in messages.
pub fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_email("a@b"));
        assert!(!is_email("ab@"));
        assert!(!is_email("@ab"));
        assert!(!is_email("ab"));
        assert!(is_username("user_1.x"));
        assert!(!is_username("abc"));
        assert!(!is_username("has space"));
        assert!(is_alias("alias-one"));
        assert!(!is_alias("short"));
    }
}
