//! What the binary says about itself: completions and manual pages generated from its
//! command-line definition, `help <command>`, and the example configuration it carries.

use super::run;

/// Every command of `iamd --help`.
fn commands() -> Vec<String> {
    let (code, out, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    out.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

#[test]
fn completions_cover_every_command_and_flag() {
    let commands = commands();
    assert!(commands.len() >= 10, "{commands:?}");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = run(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {err}");
        for command in &commands {
            assert!(out.contains(command.as_str()), "{shell}: {command} missing");
        }
        assert!(out.contains("force") && out.contains("data-dir"), "{shell}");
    }
    let (code, out, err) = run(&["completions", "bash"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("complete -F _iamd") && err.is_empty(), "{out}");
    let (code, out, err) = run(&["completions", "tcsh"], &[]);
    assert_eq!(code, 2);
    assert!(
        out.is_empty() && err.contains("tcsh") && err.contains("bash"),
        "{err}"
    );
}

#[test]
fn man_pages_for_iamd_and_each_command() {
    let (code, page, err) = run(&["man"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        page.starts_with(".ie") && page.contains(".TH iamd 1"),
        "{page}"
    );
    for command in commands() {
        let reference = format!("iamd\\-{}(1)", command.replace('-', "\\-"));
        assert!(page.contains(&reference), "{reference} in the main page");
        let (code, sub, err) = run(&["man", &command], &[]);
        assert_eq!(code, 0, "{command}: {err}");
        assert!(sub.contains(&format!(".TH iamd-{command} 1")), "{sub}");
    }
    let (code, sub, _) = run(&["man", "backup"], &[]);
    assert_eq!(code, 0);
    assert!(
        sub.contains("\\-\\-force") && sub.contains("\\fBiamd backup\\fR"),
        "{sub}"
    );
    let (code, out, err) = run(&["man", "bakup"], &[]);
    assert_eq!(code, 2);
    assert!(
        out.is_empty() && err.contains("no command bakup") && err.contains("backup"),
        "{err}"
    );
}

#[test]
fn help_for_a_command_names_its_flags() {
    for (command, flags) in [
        ("admin-key", &["--data-dir", "--new"][..]),
        ("completions", &["bash", "zsh", "fish"]),
        ("man", &["COMMAND"]),
        ("backup", &["--force", "--out"]),
    ] {
        let (code, out, err) = run(&["help", command], &[]);
        assert_eq!(code, 0, "{err}");
        for flag in flags {
            assert!(out.contains(flag), "help {command}: {flag} in {out}");
        }
    }
}

/// The binary carries the example configuration: it is the repository's file, and loading
/// it gives the defaults.
#[test]
fn config_example_prints_the_documented_example() {
    let (code, out, err) = run(&["config-example"], &[]);
    assert_eq!(code, 0, "{err}");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    assert_eq!(out, std::fs::read_to_string(&file).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("iamd.toml");
    std::fs::write(&copy, &out).unwrap();
    let (code, shown, err) = run(&["check-config", "--config", copy.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let (_, defaults, _) = run(&["check-config"], &[]);
    assert_eq!(shown, defaults);
}
