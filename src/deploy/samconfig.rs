//! `infra/samconfig.toml`, read as SAM CLI reads it: `[ENV.deploy.parameters]` tables with
//! `stack_name`, `region` and `parameter_overrides` (a TOML list of `Key=Value`, or SAM's
//! space-separated string form). The preflight judges exactly the parameters `sam deploy
//! --config-env ENV` would pass.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Deserialize)]
struct File {
    #[serde(flatten)]
    envs: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct DeployParameters {
    stack_name: Option<String>,
    region: Option<String>,
    #[serde(default)]
    parameter_overrides: Option<Overrides>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Overrides {
    List(Vec<String>),
    Line(String),
}

/// One environment's deployment settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    pub stack_name: String,
    pub region: Option<String>,
    pub parameters: BTreeMap<String, String>,
}

/// Splits SAM's `K=V K2="v 2"` string form.
fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `Key=Value` pairs (`--parameter-overrides` and samconfig's) into a map; `what` names their
/// origin in the error.
pub fn parse_overrides(what: &str, pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::config(
                what,
                "parameter_overrides",
                format!("{pair:?} is not Key=Value (e.g. ReservedConcurrency=0)"),
            ));
        };
        let k = k.trim().trim_start_matches("ParameterKey=");
        map.insert(k.to_string(), v.trim_matches('"').to_string());
    }
    Ok(map)
}

/// The environment `env` of the samconfig text read from `file`.
pub fn environment(file: &str, text: &str, env: &str) -> Result<Environment> {
    let parsed: File =
        toml::from_str(text).map_err(|e| Error::config(file, "-", format!("not TOML: {e}")))?;
    let known: Vec<&str> = parsed
        .envs
        .iter()
        .filter(|(_, v)| v.get("deploy").is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    let Some(table) = parsed
        .envs
        .get(env)
        .and_then(|e| e.get("deploy"))
        .and_then(|d| d.get("parameters"))
    else {
        return Err(Error::config(
            file,
            format!("{env}.deploy.parameters"),
            format!(
                "no such environment (environments with deploy parameters: {})",
                known.join(", ")
            ),
        ));
    };
    let path = format!("{env}.deploy.parameters");
    let deploy: DeployParameters = table
        .clone()
        .try_into()
        .map_err(|e| Error::config(file, &path, e.to_string()))?;
    let pairs = match deploy.parameter_overrides {
        Some(Overrides::List(l)) => l,
        Some(Overrides::Line(l)) => split_line(&l),
        None => Vec::new(),
    };
    let parameters = parse_overrides(file, &pairs)?;
    let Some(stack_name) = deploy.stack_name.filter(|s| !s.trim().is_empty()) else {
        return Err(Error::config(
            file,
            format!("{path}.stack_name"),
            "missing: every environment names its stack",
        ));
    };
    if parameters.get("Env").is_some_and(|e| e != env) {
        return Err(Error::config(
            file,
            format!("{path}.parameter_overrides"),
            format!(
                "Env={} in environment {env}: the stack would be deployed with another environment's names",
                parameters["Env"]
            ),
        ));
    }
    Ok(Environment {
        name: env.to_string(),
        stack_name,
        region: deploy.region,
        parameters,
    })
}
