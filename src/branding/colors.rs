//! Color reference names (from the spec) and the built-in default palette.
//!
//! The palette is Material-inspired: one saturated accent per role, each with
//! a font color chosen so that `X_font_color` on `X` meets WCAG 2.x AA for
//! normal text (contrast >= 4.5:1), which the tests enforce. Light theme uses
//! white/near-white surfaces with dark slate text; dark theme uses near-black
//! blue-grey surfaces with lighter, desaturated accents and dark text on them.

use std::fmt::Write as _;

use super::Theme;

/// The exact `BrandingColor.reference` enum from the spec, in spec order
/// (which is also the order used for listings).
pub const COLOR_REFERENCES: [&str; 16] = [
    "error_color",
    "primary",
    "secondary",
    "success_color",
    "warning_color",
    "canvas_background",
    "canvas_background_font_color",
    "workspace_background",
    "workspace_background_font_color",
    "info_color",
    "info_font_color",
    "primary_font_color",
    "secondary_font_color",
    "error_font_color",
    "success_font_color",
    "warning_font_color",
];

/// True if `reference` is one of the 16 spec color names (case-sensitive,
/// as in the spec's path enum).
pub fn is_color_reference(reference: &str) -> bool {
    COLOR_REFERENCES.contains(&reference)
}

/// `(reference, color)` pairs in `COLOR_REFERENCES` order.
type Palette = [(&'static str, &'static str); 16];

static LIGHT: Palette = [
    ("error_color", "#c62828"),
    ("primary", "#1565c0"),
    ("secondary", "#455a64"),
    ("success_color", "#2e7d32"),
    ("warning_color", "#f9a825"),
    ("canvas_background", "#f3f5f8"),
    ("canvas_background_font_color", "#1f2933"),
    ("workspace_background", "#ffffff"),
    ("workspace_background_font_color", "#1f2933"),
    ("info_color", "#0277bd"),
    ("info_font_color", "#ffffff"),
    ("primary_font_color", "#ffffff"),
    ("secondary_font_color", "#ffffff"),
    ("error_font_color", "#ffffff"),
    ("success_font_color", "#ffffff"),
    ("warning_font_color", "#212121"),
];

static DARK: Palette = [
    ("error_color", "#ef5350"),
    ("primary", "#64b5f6"),
    ("secondary", "#90a4ae"),
    ("success_color", "#66bb6a"),
    ("warning_color", "#ffca28"),
    ("canvas_background", "#121418"),
    ("canvas_background_font_color", "#e4e7eb"),
    ("workspace_background", "#1c1f25"),
    ("workspace_background_font_color", "#e4e7eb"),
    ("info_color", "#4fc3f7"),
    ("info_font_color", "#04202e"),
    ("primary_font_color", "#0d1b2a"),
    ("secondary_font_color", "#111a20"),
    ("error_font_color", "#1b0a0a"),
    ("success_font_color", "#0b1f0d"),
    ("warning_font_color", "#1f1a05"),
];

/// The whole default palette of a theme as `(reference, "#rrggbb")` pairs,
/// in `COLOR_REFERENCES` order.
pub fn palette(theme: Theme) -> &'static [(&'static str, &'static str); 16] {
    match theme {
        Theme::Light => &LIGHT,
        Theme::Dark => &DARK,
    }
}

/// Default color for a reference, or `None` if it is not a spec reference.
pub fn try_default_color(theme: Theme, reference: &str) -> Option<&'static str> {
    palette(theme)
        .iter()
        .find(|(name, _)| *name == reference)
        .map(|(_, color)| *color)
}

/// Default color (lowercase `#rrggbb`) for a reference. Callers are expected
/// to have checked `is_color_reference` first (unknown references are a 404);
/// an unknown reference yields `""` rather than a panic so a missed check
/// can't take the server down. Use `try_default_color` to get an `Option`.
pub fn default_color(theme: Theme, reference: &str) -> &'static str {
    try_default_color(theme, reference).unwrap_or("")
}

/// The default palette as a Markdown table (one row per reference, one column
/// per theme), generated from the data above so docs can't drift from code.
/// `PALETTE.md` at the crate root holds a copy; a test keeps them equal.
pub fn palette_markdown() -> String {
    let mut out = String::from("| reference | light | dark |\n| --- | --- | --- |\n");
    for (i, reference) in COLOR_REFERENCES.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "| `{reference}` | `{}` | `{}` |",
            LIGHT[i].1, DARK[i].1
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::validate_color;
    use super::*;

    /// WCAG 2.x relative luminance of a `#rrggbb` color.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn references_match_spec_and_are_unique() {
        let mut sorted = COLOR_REFERENCES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 16);
        assert!(is_color_reference("primary"));
        assert!(is_color_reference("warning_font_color"));
        for bad in ["", "Primary", "primary ", "tertiary", "brand_logo_square"] {
            assert!(!is_color_reference(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_reference_has_a_valid_default_in_each_theme() {
        for theme in Theme::ALL {
            let pal = palette(theme);
            for (i, reference) in COLOR_REFERENCES.iter().enumerate() {
                // Palette rows must line up with COLOR_REFERENCES.
                assert_eq!(pal[i].0, *reference);
                let color = default_color(theme, reference);
                assert_eq!(color.len(), 7, "{theme} {reference}");
                assert_eq!(validate_color(color).as_deref(), Ok(color));
                assert_eq!(try_default_color(theme, reference), Some(color));
            }
        }
        assert_eq!(default_color(Theme::Light, "nope"), "");
        assert_eq!(try_default_color(Theme::Dark, "nope"), None);
        assert_ne!(palette(Theme::Light), palette(Theme::Dark));
    }

    #[test]
    fn font_colors_meet_wcag_aa_on_their_backgrounds() {
        let pairs = [
            ("primary", "primary_font_color"),
            ("secondary", "secondary_font_color"),
            ("error_color", "error_font_color"),
            ("success_color", "success_font_color"),
            ("warning_color", "warning_font_color"),
            ("info_color", "info_font_color"),
            ("canvas_background", "canvas_background_font_color"),
            ("workspace_background", "workspace_background_font_color"),
        ];
        for theme in Theme::ALL {
            for (bg, fg) in pairs {
                let ratio = contrast(default_color(theme, bg), default_color(theme, fg));
                assert!(ratio >= 4.5, "{theme}: {fg} on {bg} is {ratio:.2}:1");
            }
        }
    }

    #[test]
    fn accents_stand_out_from_the_workspace() {
        // WCAG 1.4.11 non-text contrast (3:1): buttons and badges must be
        // distinguishable from the surface they sit on.
        for theme in Theme::ALL {
            let surface = default_color(theme, "workspace_background");
            for accent in ["primary", "error_color", "success_color", "info_color"] {
                let ratio = contrast(default_color(theme, accent), surface);
                assert!(ratio >= 3.0, "{theme}: {accent} is {ratio:.2}:1");
            }
        }
    }

    #[test]
    fn markdown_table_lists_everything_and_matches_palette_md() {
        let md = palette_markdown();
        assert_eq!(md.lines().count(), 2 + 16);
        for theme in Theme::ALL {
            for (reference, color) in palette(theme) {
                assert!(md.contains(&format!("`{reference}`")));
                assert!(md.contains(color));
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/PALETTE.md");
        let expected = format!("# Default branding palette\n\n{md}");
        if std::env::var_os("BRANDING_REGENERATE").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        // Skipped where the file isn't shipped (e.g. once copied into iamd,
        // whose README carries the table instead).
        let Ok(on_disk) = std::fs::read_to_string(path) else {
            return;
        };
        assert_eq!(
            on_disk, expected,
            "PALETTE.md is stale: rerun tests with BRANDING_REGENERATE=1"
        );
    }
}
