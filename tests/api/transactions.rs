//! One transaction per request: a request that answers 4xx changed nothing, one that
//! answers 2xx applied everything, even while another request deletes what it names.

use crate::common::{id_of, spawn_app, unique, Client};
use serde_json::json;

/// Many `PUT /v3/users/{id}` with `{"full_name", "groups": [G]}` race the deletion of G.
/// Each PUT targets a user of its own, so its outcome is readable afterwards: a refused PUT
/// left the user's `full_name` as it was, an accepted one changed it.
#[test]
fn a_refused_user_update_racing_a_group_delete_changes_nothing() {
    let app = spawn_app();
    let mut refused_seen = 0;
    for round in 0..12 {
        let group = id_of(
            app.post("/v3/policy-groups", &json!({"name": unique("race")}))
                .expect(201),
        );
        let users: Vec<String> = (0..16)
            .map(|_| {
                let body = json!({
                    "email": format!("{}@example.com", unique("race")),
                    "password": "a long enough password",
                    "full_name": "Before",
                });
                id_of(app.post("/v3/users", &body).expect(201))
            })
            .collect();
        let outcomes: Vec<(String, String, u16)> = std::thread::scope(|s| {
            let puts: Vec<_> = users
                .iter()
                .enumerate()
                .map(|(i, user)| {
                    let client: Client = app.client.clone();
                    let group = group.clone();
                    s.spawn(move || {
                        let name = format!("After {round}.{i}");
                        let body = json!({"full_name": name, "groups": [group]});
                        let status = client.put(&format!("/v3/users/{user}"), &body).status;
                        (user.clone(), name, status)
                    })
                })
                .collect();
            let deleter = {
                let client = app.client.clone();
                let group = group.clone();
                s.spawn(move || client.delete(&format!("/v3/policy-groups/{group}")).status)
            };
            assert_eq!(deleter.join().unwrap(), 204, "the group delete succeeds");
            puts.into_iter().map(|p| p.join().unwrap()).collect()
        });
        for (user, name, status) in outcomes {
            let now = app.get(&format!("/v3/users/{user}")).expect(200).clone();
            match status {
                200..=299 => assert_eq!(now["full_name"], json!(name), "accepted PUT applied"),
                400..=499 => {
                    refused_seen += 1;
                    assert_eq!(
                        now["full_name"],
                        json!("Before"),
                        "a PUT answered {status} yet changed full_name"
                    );
                    assert_eq!(now["groups"], json!([]), "a refused PUT added a group");
                }
                other => panic!("PUT answered {other}"),
            }
        }
        if refused_seen >= 5 && round >= 3 {
            break;
        }
    }
    assert!(
        refused_seen > 0,
        "no PUT lost the race: the test proved nothing"
    );
}
