//! Keyboard use and contrast: every page walked by Tab alone (each action reached, the
//! focus visible), and the text of every page against its background under the default
//! branding, light and dark (WCAG AA), computed here from the browser's computed styles.

use super::{setup, sign_in_admin, Browser};
use serde_json::{json, Value};

/// Shared by the scripts below: colors parsed from computed styles, WCAG luminance and
/// contrast, and the background an element's pixels sit on (its own and its ancestors'
/// backgrounds composited from the root down).
const COLOR_LIB: &str = r##"
const parse = (c) => {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, under) => {
  const a = top[3];
  return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
};
const lum = (c) => {
  const ch = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
};
const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const backdrop = (el) => {
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.unshift(e);
  let bg = [255, 255, 255, 1];
  for (const e of chain) bg = over(parse(getComputedStyle(e).backgroundColor), bg);
  return bg;
};
const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : ""} "${(el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40)}"`;
"##;

/// Marks every action of the page, puts the start of Tab's walk at the top of the page
/// (on a mark focusable by script only, before the skip link), and records each element
/// Tab brings the focus to, with whether its focus shows. The walk takes one Tab per
/// action, so it never leaves the page: a Tab that wraps around through the browser gives
/// the page its focus back only after the element's focus event, and the element then
/// matched no `:focus` style in one CI run.
const TAB_SETUP: &str = r##"
const actions = [...document.querySelectorAll(
  'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter((el) => !el.disabled && shown(el));
actions.forEach((el, i) => { el.dataset.kb = String(i); });
// What is under the ring: the element just outside the left edge of `el`'s outline
// (the parent's backdrop when that point is off screen).
const ringBehind = (el, cs) => {
  const r = el.getBoundingClientRect();
  const d = (parseFloat(cs.outlineOffset) || 0) + (parseFloat(cs.outlineWidth) || 0) / 2;
  const under = document.elementsFromPoint(r.left - d, r.top + r.height / 2).find((e) => e !== el && !el.contains(e));
  return backdrop(under || el.parentElement);
};
// Only what Tab focuses is recorded, not the mark focused here to start from.
window.__kb = null;
const start = document.createElement("span");
start.id = "kb-start";
start.tabIndex = -1;
document.body.prepend(start);
start.focus();
window.__kb = { seen: [], bad: [] };
if (!window.__kbListening) {
  window.__kbListening = true;
  document.addEventListener("focusin", (ev) => {
    const el = ev.target;
    if (!window.__kb) return;
    window.__kb.seen.push(el.dataset.kb);
    const cs = getComputedStyle(el);
    const width = parseFloat(cs.outlineWidth) || 0;
    const behind = ringBehind(el, cs);
    const r = ratio(over(parse(cs.outlineColor), behind), behind);
    if (!el.matches(":focus-visible") || cs.outlineStyle === "none" || width < 2 || r < 3) {
      window.__kb.bad.push(`${describe(el)}: outline ${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}, contrast ${r.toFixed(2)}`);
    }
  });
}
return actions.length;
"##;

const TAB_RESULT: &str = r##"
document.getElementById("kb-start").remove();
const missed = [...document.querySelectorAll("[data-kb]")]
  .filter((el) => !window.__kb.seen.includes(el.dataset.kb))
  .map(describe);
return { missed, bad: window.__kb.bad };
"##;

/// The text (and form controls) of the page whose contrast with what is behind it is
/// under WCAG AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
const CONTRAST: &str = r##"
const out = [];
for (const el of document.querySelectorAll("body *")) {
  if (!shown(el) || el.closest("button:disabled, option, script, style, noscript")) continue;
  const control = ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName) && !["checkbox", "radio", "color", "file"].includes(el.type);
  const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!control && !text) continue;
  const cs = getComputedStyle(el);
  const bg = backdrop(el);
  const fg = parse(cs.color);
  fg[3] *= opacity(el);
  const r = ratio(over(fg, bg), bg);
  const size = parseFloat(cs.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
  if (r < (large ? 3 : 4.5)) out.push(`${describe(el)}: ${cs.color} on rgb(${bg.slice(0, 3).map(Math.round)}) = ${r.toFixed(2)}`);
}
return out;
"##;

fn run(b: &Browser, script: &str) -> Value {
    b.script(&format!("{COLOR_LIB}\n{script}"), json!([]))
}

/// The routes of the menu (the signed-in person's pages).
fn routes(b: &Browser) -> Vec<String> {
    let r = b.script(
        "return [...document.querySelectorAll('#nav a')].map(a => a.getAttribute('href').slice(2));",
        json!([]),
    );
    serde_json::from_value(r).unwrap()
}

/// Opens `route` from the menu and waits for its lists.
fn open(b: &Browser, route: &str) {
    b.click(&format!("nav a[href='#/{route}']"));
    b.on(route);
    b.wait(&format!("the lists of {route}"), |b| {
        let loading = b.script(
            "return [...document.querySelectorAll('#main .list')].some(l => !l.children.length);",
            json!([]),
        );
        (loading == json!(false)).then_some(())
    });
}

/// Walks the page shown by Tab; returns what was missed or showed no visible focus.
fn tab_walk(b: &Browser, page: &str) -> Vec<String> {
    let count = run(b, TAB_SETUP).as_u64().unwrap() as usize;
    b.tab(count);
    let r = run(b, TAB_RESULT);
    let mut problems = Vec::new();
    for m in r["missed"].as_array().unwrap() {
        problems.push(format!(
            "{page}: not reached by Tab: {}",
            m.as_str().unwrap()
        ));
    }
    for m in r["bad"].as_array().unwrap() {
        problems.push(format!(
            "{page}: focus not visible: {}",
            m.as_str().unwrap()
        ));
    }
    problems
}

#[test]
fn every_page_is_usable_by_tab_alone_with_the_focus_visible() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let mut problems = Vec::new();
    for dark in [false, true] {
        b.dark(dark);
        b.goto(&format!("{}/console/#/signin", app.base));
        b.on("signin");
        let theme = if dark { "dark" } else { "light" };
        b.wait("the branding", |b| {
            let t = b.script(
                "return document.documentElement.dataset.branded;",
                json!([]),
            );
            (t.as_str() == Some(theme)).then_some(())
        });
        problems.extend(tab_walk(&b, &format!("signin (dark: {dark})")));
        sign_in_admin(&app, &b);
        let routes = routes(&b);
        assert!(routes.len() >= 13, "{routes:?}");
        for route in routes.iter().skip(1).chain(&routes[..1]) {
            open(&b, route);
            problems.extend(tab_walk(&b, &format!("{route} (dark: {dark})")));
        }
        b.click("#sign-out");
        b.on("signin");
    }
    assert!(problems.is_empty(), "{problems:#?}");
    b.assert_no_console_errors();
}

#[test]
fn the_default_branding_meets_wcag_aa_contrast_in_light_and_dark() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let mut problems = Vec::new();
    for (dark, theme) in [(false, "light"), (true, "dark")] {
        b.dark(dark);
        b.goto(&format!("{}/console/#/signin", app.base));
        b.on("signin");
        let branded = |b: &Browser| {
            let t = b.script(
                "return document.documentElement.dataset.branded;",
                json!([]),
            );
            (t.as_str() == Some(theme)).then_some(())
        };
        b.wait("the branding", branded);
        let check = |b: &Browser, page: &str, problems: &mut Vec<String>| {
            let found = run(b, CONTRAST);
            for f in found.as_array().unwrap() {
                problems.push(format!("{page} ({theme}): {}", f.as_str().unwrap()));
            }
        };
        check(&b, "signin", &mut problems);
        sign_in_admin(&app, &b);
        b.wait("the branding", branded);
        for route in routes(&b) {
            open(&b, &route);
            check(&b, &route, &mut problems);
            b.screenshot(&format!("contrast-{theme}-{route}"));
        }
        b.click("#sign-out");
        b.on("signin");
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The check finds what it must: a gray text color an admin sets through the API.
    app.put(
        "/v3/branding-colors/light/workspace_background_font_color",
        &json!({"color": "#999999"}),
    )
    .expect(200);
    b.dark(false);
    sign_in_admin(&app, &b);
    b.wait("the gray text color", |b| {
        let c = b.script(
            "return getComputedStyle(document.documentElement)\
             .getPropertyValue('--workspace_background_font_color').trim();",
            json!([]),
        );
        (c.as_str() == Some("#999999")).then_some(())
    });
    let found = run(&b, CONTRAST);
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().contains("rgb(153, 153, 153)")),
        "{found:#?}"
    );
    b.assert_no_console_errors();
}
