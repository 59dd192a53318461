//! A client of one server's public API, for `export`, `import` and `mirror`: bearer-key
//! calls, every page of a list, and refusals as one plain line.

use super::str_of;
use serde_json::Value;

/// A client of one server's public API.
pub(super) struct Api {
    pub(super) base: String,
    pub(super) key: String,
}

impl Api {
    pub(super) fn new(url: &str, key: &str) -> Api {
        Api {
            base: url.trim_end_matches('/').to_string(),
            key: key.to_string(),
        }
    }

    pub(super) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let req = ureq::request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.key));
        let answer = match body {
            Some(b) => req
                .set("Content-Type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        match answer {
            Ok(res) => {
                let text = res.into_string().map_err(|e| e.to_string())?;
                Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(ureq::Error::Status(code, res)) => Err(refusal(method, path, code, res)),
            Err(e) => Err(format!(
                "{method} {path}: cannot reach {} ({e}); is the server running there?",
                self.base
            )),
        }
    }

    pub(super) fn get(&self, path: &str) -> Result<Value, String> {
        self.call("GET", path, None)
    }

    /// Every item of a list, page after page.
    pub(super) fn list(&self, path: &str) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = self.get(&format!("{path}{sep}limit=1000{after}"))?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let last = data.last().and_then(|d| d["id"].as_str()).map(String::from);
            out.extend(data);
            match (page["has_more"].as_bool(), last) {
                (Some(true), Some(id)) => after = format!("&after={id}"),
                _ => return Ok(out),
            }
        }
    }
}

/// A refusal as one line: the ErrorResponse's type and message (and fields), not its JSON.
fn refusal(method: &str, path: &str, code: u16, res: ureq::Response) -> String {
    let text = res.into_string().unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut out = match body["message"].as_str() {
        Some(message) => format!(
            "{method} {path}: {code} {}: {message}",
            str_of(&body["type"])
        ),
        None => format!("{method} {path}: {code} {text}"),
    };
    for f in body["fields"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            " ({}: {})",
            str_of(&f["name"]),
            str_of(&f["message"])
        ));
    }
    if code == 401 || code == 403 {
        out.push_str(" (the API key must be an administrator's key of that server's account)");
    }
    out
}
