//! The rules a password someone chooses must meet (login changes, resets): the account's
//! `password_policy.minimum_length` (at least 8), at most 512 characters, and the project's
//! strength rules: enough different characters, not one of the passwords attackers try
//! first, and not the user's own email name or username.

/// Passwords attackers try first (that meet the minimum length).
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "admin123",
    "administrator",
    "letmein1",
    "trustno1",
    "changeme",
    "abcdefgh",
    "abcd1234",
    "11111111",
    "00000000",
];

/// Why `password` is refused for a user with `email` and `username`, if it is.
pub fn problem(
    password: &str,
    minimum_length: u32,
    email: &str,
    username: Option<&str>,
) -> Option<String> {
    let min = minimum_length.max(8) as usize;
    let length = password.chars().count();
    if length < min {
        return Some(format!("Must be at least {min} characters."));
    }
    if length > 512 {
        return Some("Must be at most 512 characters.".into());
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Some("Too easy to guess: use more different characters.".into());
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Some("Too common: attackers try this password first.".into());
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let names = [
        Some(local.as_str()),
        username.map(str::to_lowercase).as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|name| name.chars().count() >= 4 && lower.contains(name));
    if names {
        return Some("Must not contain your email name or username.".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn length_variety_common_passwords_and_own_names_are_checked() {
        let ok = |p: &str| problem(p, 8, "ann.lee@example.com", Some("annlee"));
        assert_eq!(ok("correct horse battery"), None);
        assert!(ok("short").unwrap().contains("at least 8"));
        assert!(problem("a good long one", 20, "x@example.com", None)
            .unwrap()
            .contains("at least 20"));
        assert!(ok(&"x".repeat(513)).unwrap().contains("at most 512"));
        assert!(ok("abababababab").unwrap().contains("different"));
        assert!(ok("Password123").unwrap().contains("common"));
        assert!(ok("my ANN.LEE secret").unwrap().contains("username"));
        assert!(ok("annlee rules 2024").unwrap().contains("username"));
    }
}
