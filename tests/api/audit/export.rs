//! The log as JSON Lines (the whole of it, streamed page by page) and time ranges read as
//! key ranges (inclusive bounds, paging inside a range).

use crate::auth::app_with_clock;
use crate::common::{id_of, spawn_app, unique, Client};
use serde_json::{json, Value};

fn group(c: &Client, prefix: &str) -> String {
    id_of(
        c.post(
            &format!("{prefix}/policy-groups"),
            &json!({"name": unique("eg")}),
        )
        .expect(201),
    )
}

/// The ids of the log's entries, in order, read as one JSON page.
fn listed(c: &Client, log: &str) -> Vec<Value> {
    c.get(&format!("{log}?limit=1000")).expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect()
}

/// The ids of the JSON Lines export read with `limit` entries a page.
fn exported(c: &Client, log: &str, limit: usize) -> Vec<Value> {
    let r = c.get(&format!("{log}?format=jsonl&limit={limit}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    r.text
        .lines()
        .map(|l| {
            let entry: Value = serde_json::from_str(l).unwrap();
            assert_eq!(entry["object"], "audit-log-entry");
            entry["id"].clone()
        })
        .collect()
}

#[test]
fn the_jsonl_export_is_the_whole_log_in_order_across_many_pages() {
    let app = spawn_app();
    for _ in 0..7 {
        group(&app, "/v3");
    }
    let all = listed(&app, "/v3/audit-logs");
    assert!(all.len() >= 8, "{all:?}");
    assert_eq!(exported(&app, "/v3/audit-logs", 2), all);
    assert_eq!(exported(&app, "/v3/audit-logs", 1000), all);
    // The tenant route: the tenant's whole log, never its parent's.
    let tenant = id_of(
        app.post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
            .expect(201),
    );
    let prefix = format!("/v3/accounts/{tenant}");
    for _ in 0..3 {
        group(&app, &prefix);
    }
    let log = format!("{prefix}/audit-logs");
    let tenant_all = listed(&app, &log);
    assert_eq!(tenant_all.len(), 5);
    assert_eq!(exported(&app, &log, 2), tenant_all);
    // Filters apply to the export as to a page.
    let r = app.get("/v3/audit-logs?format=jsonl&limit=2&target_type__eq=policy-group");
    assert_eq!(r.text.lines().count(), 7, "{}", r.text);
}

#[test]
fn a_time_range_is_inclusive_and_pages_inside_it() {
    let (app, clock) = app_with_clock();
    let hour = 3_600_000;
    let before = group(&app, "/v3");
    clock.advance(hour);
    let inside: Vec<String> = (0..3).map(|_| group(&app, "/v3")).collect();
    clock.advance(hour);
    let after = group(&app, "/v3");
    let entry = |id: &str| {
        app.get(&format!("/v3/audit-logs?target_id__eq={id}"))
            .expect(200)["data"][0]
            .clone()
    };
    let (first, last) = (entry(&inside[0]), entry(&inside[2]));
    let (from, to) = (
        first["created_at"].as_str().unwrap(),
        last["created_at"].as_str().unwrap(),
    );
    // The clock moved the entries: an hour apart.
    let t = |e: &Value| iamd::clock::parse_rfc3339(e["created_at"].as_str().unwrap()).unwrap();
    assert!(t(&first) - t(&entry(&before)) >= hour);
    assert!(t(&entry(&after)) - t(&last) >= hour);
    let range = format!("/v3/audit-logs?created_at__gte={from}&created_at__lte={to}");
    let targets = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["target_id"].as_str().unwrap().to_string())
            .collect()
    };
    // Inclusive at both ends: exactly the three, in order.
    let whole = app
        .get(&format!("{range}&include=total_count"))
        .expect(200)
        .clone();
    assert_eq!(targets(&whole), inside, "{whole}");
    assert_eq!(whole["total_count"], 3);
    // Paging inside the range with `after`, both ways.
    let one = app.get(&format!("{range}&limit=2")).expect(200).clone();
    assert_eq!(targets(&one), inside[..2]);
    assert_eq!(one["has_more"], true);
    let cursor = one["data"][1]["id"].as_str().unwrap();
    let two = app
        .get(&format!(
            "{range}&limit=2&after={cursor}&include=total_count"
        ))
        .expect(200)
        .clone();
    assert_eq!(targets(&two), inside[2..]);
    assert_eq!(
        (two["has_more"].clone(), two["total_count"].clone()),
        (json!(false), json!(3))
    );
    let desc = app
        .get(&format!("{range}&order=DESC&limit=2"))
        .expect(200)
        .clone();
    let cursor = desc["data"][1]["id"].as_str().unwrap();
    let rest = app
        .get(&format!("{range}&order=DESC&limit=2&after={cursor}"))
        .expect(200)
        .clone();
    assert_eq!(targets(&rest), [inside[0].clone()]);
    // One bound only; and a range with nothing in it.
    let since = app
        .get(&format!("/v3/audit-logs?created_at__gte={from}"))
        .expect(200)
        .clone();
    assert_eq!(targets(&since).len(), 4);
    let until = app
        .get(&format!("/v3/audit-logs?created_at__lte={to}&limit=1000"))
        .expect(200)
        .clone();
    assert!(!targets(&until).contains(&after));
    assert!(targets(&until).contains(&before));
    let gap = app
        .get(&format!(
            "/v3/audit-logs?created_at__gte={to}&created_at__lte={from}"
        ))
        .expect(200)
        .clone();
    assert!(gap["data"].as_array().unwrap().is_empty() || from == to);
    // The export keeps to the range.
    let r = app.get(&format!("{range}&format=jsonl&limit=2"));
    assert_eq!(r.text.lines().count(), 3, "{}", r.text);
}
