//! The layering of `api/` and `service/` (issue 15), checked on the source text: no module
//! of `service/` names `api/`, no handler module names another handler module, and the
//! modules of both folders import one another without a cycle; and `api/` reaches storage
//! only through services (it never names the store's handle, `state.store`).
//!
//! An edge is a path a module's non-test code writes, `crate::api::users::...` or
//! `super::views::...` (grouped `{...}` imports included), resolved to the longest known
//! module it names. Edges between a module and its own ancestors or descendants (a parent
//! declaring `mod request;`, a child using its parent's constants) are one unit and are
//! left out of the cycle check. The handler modules are those the route table in
//! `api/mod.rs` points at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`api::views::users`) of a file below `src/` (`api/views/users.rs`).
fn module_of(relative: &str) -> String {
    let stem = relative.trim_end_matches(".rs");
    let stem = stem.strip_suffix("/mod").unwrap_or(stem);
    stem.replace('/', "::")
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_string())
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The non-test part of a file: everything before its first `#[cfg(test)]`.
fn code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The `::`-separated identifiers starting at `text`, and where they end.
fn segments(text: &str) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut rest = text;
    let mut used = 0;
    loop {
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        out.push(rest[..len].to_string());
        used += len;
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(after) if after.starts_with(is_ident) => {
                used += 2;
                rest = after;
            }
            _ => break,
        }
    }
    (out, used)
}

/// Every path `text` writes from `crate::` or `super::`, as full segment lists from the
/// crate root (`super` resolved against `module`); grouped imports give one path each.
fn paths(module: &str, text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start).map(|i| i + from) {
            from = i + start.len();
            if text[..i].ends_with(is_ident) || text[..i].ends_with("::") {
                continue;
            }
            let mut base: Vec<String> = if start == "crate::" {
                Vec::new()
            } else {
                let p = parent(module);
                p.split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            };
            let mut rest = &text[from..];
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
            let (segs, used) = segments(rest);
            base.extend(segs);
            let after = &rest[used..];
            let group = match used {
                0 => after.strip_prefix('{'),
                _ => after.strip_prefix("::{"),
            };
            match group {
                Some(group) => {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let (item, _) = segments(item.trim());
                        let mut full = base.clone();
                        full.extend(item.into_iter().filter(|s| s != "self"));
                        found.push(full);
                    }
                }
                None => found.push(base),
            }
        }
    }
    found
}

/// The module graph of `files` (module path, source text): who names whom.
fn edges(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        let targets = graph.entry(module.clone()).or_default();
        for path in paths(module, code(text)) {
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| modules.contains(m.as_str()));
            if let Some(target) = target.filter(|t| t != module) {
                targets.insert(target);
            }
        }
    }
    graph
}

/// Whether one module is the other's ancestor.
fn related(a: &str, b: &str) -> bool {
    a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

/// What breaks the layering: `service -> api` edges, handler-to-handler edges, cycles.
fn problems(
    graph: &BTreeMap<String, BTreeSet<String>>,
    handlers: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (from, targets) in graph {
        for to in targets {
            if from.starts_with("service") && to.starts_with("api") {
                out.push(format!("{from} -> {to}: a service names api/"));
            }
            // The handler module a module belongs to (itself or an ancestor).
            let handler = |m: &str| {
                handlers
                    .iter()
                    .find(|h| m == h.as_str() || m.starts_with(&format!("{h}::")))
            };
            if let (Some(a), Some(b)) = (handler(from), handler(to)) {
                if a != b {
                    out.push(format!("{from} -> {to}: a handler names another handler"));
                }
            }
        }
    }
    // Depth-first search; a back edge closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = stack.iter().position(|m| m == node) {
            out.push(format!("cycle: {} -> {node}", stack[at..].join(" -> ")));
            return;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if !related(node, next) {
                visit(next, graph, stack, done, out);
            }
        }
        stack.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

/// The `api/` modules that reach the store's handle (`state.store`) instead of going
/// through a service.
fn store_users(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(module, _)| module.starts_with("api"))
        .filter(|(_, text)| {
            let code = code(text);
            code.match_indices(".store")
                .any(|(i, m)| !code[i + m.len()..].starts_with(is_ident))
        })
        .map(|(module, _)| format!("{module} reaches the store, not a service"))
        .collect()
}

/// The handler modules: what the route table's `=> module::handler` entries name.
fn handlers(route_table: &str) -> BTreeSet<String> {
    route_table
        .split("=> ")
        .skip(1)
        .chain(route_table.split(".to(").skip(1))
        .filter_map(|rest| {
            let (segs, _) = segments(rest);
            (segs.len() == 2).then(|| format!("api::{}", segs[0]))
        })
        .collect()
}

fn read_tree(src: &Path, dir: &str, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(src.join(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let relative = format!("{dir}/{name}");
        if entry.path().is_dir() {
            read_tree(src, &relative, out);
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(entry.path()).expect("readable source");
            out.push((module_of(&relative), text));
        }
    }
}

#[test]
fn api_and_service_import_without_cycles_and_services_never_name_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&src, "api", &mut files);
    read_tree(&src, "service", &mut files);
    let route_table = std::fs::read_to_string(src.join("api/mod.rs")).expect("api/mod.rs");
    let handlers = handlers(code(&route_table));
    // The parsers found what is there (a parser that finds nothing passes everything).
    assert!(handlers.len() >= 15, "{handlers:?}");
    assert!(handlers.contains("api::users"), "{handlers:?}");
    let graph = edges(&files);
    assert!(graph["api::users"].contains("service::users"), "{graph:?}");
    assert!(
        graph["service::users"].contains("service::validate"),
        "{graph:?}"
    );
    let count: usize = graph.values().map(BTreeSet::len).sum();
    assert!(count > 100, "only {count} edges");
    let mut problems = problems(&graph, &handlers);
    problems.extend(store_users(&files));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_finds_each_kind_of_problem() {
    let file = |m: &str, text: &str| (m.to_string(), text.to_string());
    let files = vec![
        file(
            "api",
            "route!(Own GET \"/a\" => a::get), route!(Own GET \"/b\" => b::get)",
        ),
        file("api::a", "use super::b::view;"),
        file("api::b", "pub fn get() {}"),
        file(
            "service::x",
            "use crate::{api::list::ListQuery, service::y};",
        ),
        file("service::y", "fn f() { super::x::g() }"),
        file(
            "api::list",
            "use super::super::service::x;\n#[cfg(test)]\nuse crate::api::a;",
        ),
    ];
    let graph = edges(&files);
    assert_eq!(
        graph["api::list"],
        BTreeSet::from(["service::x".to_string()])
    );
    let found = problems(&graph, &handlers(&files[0].1));
    let has = |s: &str| found.iter().any(|p| p.contains(s));
    assert!(
        has("api::a -> api::b: a handler names another handler"),
        "{found:?}"
    );
    assert!(
        has("service::x -> api::list: a service names api/"),
        "{found:?}"
    );
    assert!(
        has("cycle: service::x -> service::y -> service::x"),
        "{found:?}"
    );
    assert!(
        has("cycle: api::list -> service::x -> api::list"),
        "{found:?}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
    let reaching = vec![
        file("api::c", "fn f(s: &S) { s\n    .store\n    .users.get(); }"),
        file(
            "api::d",
            "use crate::store::Page; fn g() -> CacheControl { no_store() }",
        ),
        file("service::z", "fn h(s: &S) { s.store.users.get(); }"),
    ];
    assert_eq!(
        store_users(&reaching),
        ["api::c reaches the store, not a service"]
    );
}
