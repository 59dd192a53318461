//! Validation and normalisation of client-supplied `BrandingColor.color`.
//!
//! Accepted (case-insensitive, surrounding ASCII whitespace ignored, result
//! lowercased):
//! - hex: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`. `#rgba` is not in the brief
//!   but is CSS Color 4 and it would be odd to take `#rrggbbaa` and not it.
//!   Short forms are kept short (not expanded) so clients read back what
//!   they wrote, modulo case.
//! - the 148 named colors of CSS Color Module Level 4 (the 147 SVG/CSS3
//!   names plus `rebeccapurple`), and the keyword `transparent`, which CSS
//!   treats as a color and is useful for backgrounds.
//!
//! Rejected: `currentcolor` and system colors (meaningless outside a
//! stylesheet), functional notations (`rgb()`, `hsl()`, ...), a hex code
//! without `#`, anything else.

/// Upper bound on the raw input, checked before any other work. The longest
/// valid value is `lightgoldenrodyellow` (20 bytes); 64 leaves room for
/// whitespace while keeping error messages (which echo the input) short.
pub const MAX_COLOR_INPUT_LEN: usize = 64;

/// Why a color string was rejected. Messages are meant for API clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColorError {
    #[error("color must not be empty")]
    Empty,
    #[error("color is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error(
        "invalid hex color {0:?}: expected #rgb, #rgba, #rrggbb or #rrggbbaa \
         using hex digits 0-9 and a-f"
    )]
    InvalidHex(String),
    #[error(
        "unrecognised color {0:?}: expected a hex code (#rgb, #rgba, #rrggbb, \
         #rrggbbaa) or a CSS color name such as \"purple\""
    )]
    Unknown(String),
}

/// Checks a color and returns its normalised (trimmed, lowercase) form.
pub fn validate_color(input: &str) -> Result<String, ColorError> {
    if input.len() > MAX_COLOR_INPUT_LEN {
        return Err(ColorError::TooLong {
            len: input.len(),
            max: MAX_COLOR_INPUT_LEN,
        });
    }
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(ColorError::Empty);
    }
    if let Some(digits) = trimmed.strip_prefix('#') {
        let well_formed =
            matches!(digits.len(), 3 | 4 | 6 | 8) && digits.bytes().all(|b| b.is_ascii_hexdigit());
        return if well_formed {
            Ok(trimmed.to_ascii_lowercase())
        } else {
            Err(ColorError::InvalidHex(trimmed.to_owned()))
        };
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower == "transparent" || NAMED_COLORS.binary_search(&lower.as_str()).is_ok() {
        Ok(lower)
    } else {
        Err(ColorError::Unknown(trimmed.to_owned()))
    }
}

/// CSS Color Module Level 4 named colors, sorted (looked up by binary search).
/// `transparent` is deliberately not in this list: it is a separate keyword
/// in CSS, handled on its own in `validate_color`.
// Kept compact; rustfmt would put all 148 names on their own lines.
#[rustfmt::skip]
pub const NAMED_COLORS: [&str; 148] = [
    "aliceblue", "antiquewhite", "aqua", "aquamarine", "azure", "beige", "bisque", "black",
    "blanchedalmond", "blue", "blueviolet", "brown", "burlywood", "cadetblue", "chartreuse",
    "chocolate", "coral", "cornflowerblue", "cornsilk", "crimson", "cyan", "darkblue",
    "darkcyan", "darkgoldenrod", "darkgray", "darkgreen", "darkgrey", "darkkhaki",
    "darkmagenta", "darkolivegreen", "darkorange", "darkorchid", "darkred", "darksalmon",
    "darkseagreen", "darkslateblue", "darkslategray", "darkslategrey", "darkturquoise",
    "darkviolet", "deeppink", "deepskyblue", "dimgray", "dimgrey", "dodgerblue", "firebrick",
    "floralwhite", "forestgreen", "fuchsia", "gainsboro", "ghostwhite", "gold", "goldenrod",
    "gray", "green", "greenyellow", "grey", "honeydew", "hotpink", "indianred", "indigo",
    "ivory", "khaki", "lavender", "lavenderblush", "lawngreen", "lemonchiffon", "lightblue",
    "lightcoral", "lightcyan", "lightgoldenrodyellow", "lightgray", "lightgreen", "lightgrey",
    "lightpink", "lightsalmon", "lightseagreen", "lightskyblue", "lightslategray",
    "lightslategrey", "lightsteelblue", "lightyellow", "lime", "limegreen", "linen", "magenta",
    "maroon", "mediumaquamarine", "mediumblue", "mediumorchid", "mediumpurple",
    "mediumseagreen", "mediumslateblue", "mediumspringgreen", "mediumturquoise",
    "mediumvioletred", "midnightblue", "mintcream", "mistyrose", "moccasin", "navajowhite",
    "navy", "oldlace", "olive", "olivedrab", "orange", "orangered", "orchid", "palegoldenrod",
    "palegreen", "paleturquoise", "palevioletred", "papayawhip", "peachpuff", "peru", "pink",
    "plum", "powderblue", "purple", "rebeccapurple", "red", "rosybrown", "royalblue",
    "saddlebrown", "salmon", "sandybrown", "seagreen", "seashell", "sienna", "silver",
    "skyblue", "slateblue", "slategray", "slategrey", "snow", "springgreen", "steelblue", "tan",
    "teal", "thistle", "tomato", "turquoise", "violet", "wheat", "white", "whitesmoke",
    "yellow", "yellowgreen",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_colors_are_sorted_unique_lowercase() {
        // Sorted order is what makes binary_search correct.
        assert!(NAMED_COLORS.windows(2).all(|w| w[0] < w[1]));
        assert!(NAMED_COLORS
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_lowercase())));
        assert!(NAMED_COLORS.iter().all(|n| n.len() <= MAX_COLOR_INPUT_LEN));
    }

    #[test]
    fn every_named_color_is_accepted_in_any_case() {
        for name in NAMED_COLORS {
            assert_eq!(validate_color(name).as_deref(), Ok(name));
            assert_eq!(
                validate_color(&name.to_ascii_uppercase()).as_deref(),
                Ok(name)
            );
        }
        assert_eq!(
            validate_color("RebeccaPurple").as_deref(),
            Ok("rebeccapurple")
        );
        assert_eq!(validate_color("Transparent").as_deref(), Ok("transparent"));
        assert_eq!(validate_color(" purple\n").as_deref(), Ok("purple"));
    }

    #[test]
    fn hex_forms_are_accepted_and_lowercased() {
        let cases = [
            ("#fff", "#fff"),
            ("#ABC", "#abc"),
            ("#AbCd", "#abcd"),
            ("#f3f93e", "#f3f93e"),
            ("#F3F93E", "#f3f93e"),
            ("#0011AAff", "#0011aaff"),
            ("\t#123456 ", "#123456"),
        ];
        for (input, want) in cases {
            assert_eq!(validate_color(input).as_deref(), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn malformed_hex_is_rejected() {
        for bad in [
            "#",
            "#f",
            "#ff",
            "#fffff",
            "#fffffff",
            "#fffffffff",
            "#ggg",
            "#12345z",
            "##fff",
            "# fff",
            "#ff f",
            "#+12",
            "#١٢٣",
        ] {
            assert!(
                matches!(validate_color(bad), Err(ColorError::InvalidHex(_))),
                "{bad:?} -> {:?}",
                validate_color(bad)
            );
        }
    }

    #[test]
    fn other_strings_are_rejected_with_clear_errors() {
        assert_eq!(validate_color(""), Err(ColorError::Empty));
        assert_eq!(validate_color("  \t"), Err(ColorError::Empty));
        for bad in [
            "f3f93e",
            "rgb(1,2,3)",
            "hsl(0 0% 0%)",
            "currentcolor",
            "ButtonFace",
            "purple ish",
            "light blue",
            "purplé",
            "inherit",
            "\0",
        ] {
            let err = validate_color(bad).unwrap_err();
            assert!(matches!(err, ColorError::Unknown(_)), "{bad:?}");
            assert!(err.to_string().contains("CSS color name"));
        }
    }

    #[test]
    fn input_length_is_bounded() {
        let long = "a".repeat(MAX_COLOR_INPUT_LEN + 1);
        assert_eq!(
            validate_color(&long),
            Err(ColorError::TooLong {
                len: MAX_COLOR_INPUT_LEN + 1,
                max: MAX_COLOR_INPUT_LEN
            })
        );
        // The bound counts raw bytes, whitespace included.
        let padded = format!("{}red", " ".repeat(MAX_COLOR_INPUT_LEN - 3));
        assert_eq!(validate_color(&padded).as_deref(), Ok("red"));
        let over = format!(" {padded}");
        assert!(matches!(
            validate_color(&over),
            Err(ColorError::TooLong { .. })
        ));
        let huge = "#".repeat(1 << 20);
        assert!(validate_color(&huge).unwrap_err().to_string().len() < 100);
    }
}
