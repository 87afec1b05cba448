//! Which clients a changed configuration file concerns: a client file concerns its client; a
//! scope, a scoring file or the source catalogue concerns every client that refers to it.

use std::collections::BTreeSet;

use crate::config::{self, ClientConfig, yaml};
use crate::error::Result;
use crate::ports::ObjectStore;

/// Client ids concerned by changes to `keys` (relative to the configuration root, e.g.
/// `clients/lai_weekly.yaml`). A client file that no longer parses refers to nothing: it was
/// reported when it was written.
pub async fn concerned_clients(
    config: &dyn ObjectStore,
    keys: &[String],
) -> Result<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let mut shared = Vec::new();
    for key in keys {
        match key
            .strip_prefix("clients/")
            .and_then(|k| k.strip_suffix(".yaml"))
        {
            // An invalid name is kept too: the sync rejects it aloud (topic and metric), as
            // `vectora aws sync-clients` does, rather than ignore an upload the operator expects
            // to schedule.
            Some(id) if !id.contains('/') => {
                ids.insert(id.to_string());
            }
            Some(_) => {}
            None => shared.push(key.as_str()),
        }
    }
    if shared.is_empty() {
        return Ok(ids);
    }
    for id in config::list_clients(config).await? {
        let Some(bytes) = config.get(&config::client_key(&id)).await? else {
            continue;
        };
        let file = config.locate(&config::client_key(&id));
        let Ok(client) = std::str::from_utf8(&bytes)
            .map_err(|_| ())
            .and_then(|text| yaml::parse::<ClientConfig>(&file, text).map_err(|_| ()))
        else {
            continue;
        };
        if shared.iter().any(|key| refers_to(&client, key)) {
            ids.insert(id);
        }
    }
    Ok(ids)
}

fn refers_to(client: &ClientConfig, key: &str) -> bool {
    let w = &client.watch_lists;
    key == config::CATALOG_KEY
        || key == config::scoring_key(&client.scoring)
        || [
            &w.companies,
            &w.molecules,
            &w.trademarks,
            &w.technologies,
            &w.exclusions,
        ]
        .iter()
        .any(|scope| key == config::scope_key(scope))
}
