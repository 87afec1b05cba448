//! `vectora aws promote`: deploys one packaged template (the output of `sam package`, whose
//! code already lives in the artifact bucket) to an environment, after that environment's
//! preflight passed, and records what was deployed where. Promoting from an environment takes
//! the very file recorded for it, checked by its sha256: the code tested in stage is the code
//! that runs in prod.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ports::command::CommandRunner;
use crate::preflight::{Deployment, Report};

/// What an environment runs: the packaged template and its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub env: String,
    pub template_file: PathBuf,
    pub sha256: String,
}

fn record_path(records: &Path, env: &str) -> PathBuf {
    records.join(format!("{env}.json"))
}

fn digest(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).map_err(|e| {
        Error::config(
            file.display().to_string(),
            "-",
            format!("cannot read the packaged template: {e} (build it with `sam build` then `sam package --output-template-file …`, see README)"),
        )
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// The release recorded for `env`.
pub fn recorded(records: &Path, env: &str) -> Result<Release> {
    let path = record_path(records, env);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::config(
            path.display().to_string(),
            "-",
            format!("nothing recorded as deployed to {env} ({e}): deploy it first (vectora aws promote --to {env} --template-file packaged.yaml)"),
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Error::config(path.display().to_string(), "-", e.to_string()))
}

/// Where the artifact comes from.
pub enum Source<'a> {
    /// A freshly packaged template (the first environment).
    File(&'a Path),
    /// What this environment runs.
    Env(&'a str),
}

/// The environments in the order an artifact goes through them.
pub const ORDER: [&str; 3] = ["dev", "stage", "prod"];

/// Refuses a promotion that skips an environment: a freshly packaged template goes to dev
/// only, and an environment's artifact only to the next one (dev → stage → prod), so what prod
/// runs has run in stage, and what stage runs has run in dev.
pub fn check_order(source: &Source<'_>, to: &str) -> Result<()> {
    let position = |env: &str| ORDER.iter().position(|e| *e == env);
    let Some(target) = position(to) else {
        return Err(Error::config(
            "--to",
            "-",
            format!("{to:?} is not an environment: expected dev, stage or prod"),
        ));
    };
    match source {
        Source::File(file) if target != 0 => Err(Error::config(
            "--template-file",
            "-",
            format!(
                "a freshly packaged template ({}) goes to dev first, not straight to {to}: promote it with --to dev, check it, then --from dev --to stage",
                file.display()
            ),
        )),
        Source::Env(from) if position(from).map(|p| p + 1) != Some(target) => {
            let expected = match target {
                0 => "nothing is promoted to dev: deploy a packaged template with --template-file"
                    .to_string(),
                t => format!(
                    "{to} takes what {} runs: --from {}",
                    ORDER[t - 1],
                    ORDER[t - 1]
                ),
            };
            Err(Error::config(
                "--from",
                "-",
                format!("{from} → {to} skips or reverses the path dev → stage → prod; {expected}"),
            ))
        }
        _ => Ok(()),
    }
}

/// Resolves the artifact: the file and its digest, refusing a file that changed since `from`
/// recorded it.
pub fn artifact(source: Source<'_>, records: &Path) -> Result<(PathBuf, String)> {
    match source {
        Source::File(f) => Ok((f.to_path_buf(), digest(f)?)),
        Source::Env(from) => {
            let release = recorded(records, from)?;
            let now = digest(&release.template_file)?;
            if now != release.sha256 {
                return Err(Error::config(
                    release.template_file.display().to_string(),
                    "-",
                    format!(
                        "changed since it was deployed to {from} (sha256 {} then, {now} now): it is not the artifact {from} runs; package again and deploy it to {from} first",
                        release.sha256
                    ),
                ));
            }
            Ok((release.template_file, now))
        }
    }
}

/// The `sam deploy` command line for `env`. `parameters` is the whole set the preflight judged
/// (samconfig's, then the command line's): `--parameter-overrides` on the command line replaces
/// samconfig's list rather than adding to it, so all of them are passed.
pub fn deploy_command(
    template: &Path,
    samconfig: &Path,
    env: &str,
    parameters: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "deploy".into(),
        "--template-file".into(),
        template.display().to_string(),
        "--config-file".into(),
        samconfig.display().to_string(),
        "--config-env".into(),
        env.into(),
    ];
    let overrides: Vec<String> = parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !overrides.is_empty() {
        args.push("--parameter-overrides".into());
        args.extend(overrides);
    }
    args
}

/// Deploys `template` to `deployment` when `preflight` passed, then records it. Returns the
/// release.
pub async fn promote(
    template: &Path,
    sha256: &str,
    samconfig: &Path,
    deployment: &Deployment,
    preflight: &Report,
    runner: &dyn CommandRunner,
    records: &Path,
) -> Result<Release> {
    let to = deployment.env.as_str();
    if !preflight.passed() {
        return Err(Error::config(
            samconfig.display().to_string(),
            format!("{to}.deploy.parameters"),
            format!(
                "the preflight of {to} found {} blocking problem(s): nothing was deployed; fix them (vectora aws preflight --env {to} lists them) and promote again",
                preflight.blocking
            ),
        ));
    }
    let args = deploy_command(template, samconfig, to, &deployment.parameters);
    let code = runner.run("sam", &args).await?;
    if code != 0 {
        return Err(Error::Internal(format!(
            "sam {} exited with {code}: {to} was not updated (its CloudFormation events say why)",
            args.join(" ")
        )));
    }
    let release = Release {
        env: to.to_string(),
        template_file: template.to_path_buf(),
        sha256: sha256.to_string(),
    };
    std::fs::create_dir_all(records)
        .and_then(|_| {
            std::fs::write(
                record_path(records, to),
                serde_json::to_string_pretty(&release).unwrap_or_default(),
            )
        })
        .map_err(|e| Error::Store {
            op: "write",
            key: record_path(records, to).display().to_string(),
            message: e.to_string(),
        })?;
    Ok(release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_dev_stage_prod_and_refuses_skips() {
        let file = Path::new("infra/packaged.yaml");
        assert!(check_order(&Source::File(file), "dev").is_ok());
        assert!(check_order(&Source::Env("dev"), "stage").is_ok());
        assert!(check_order(&Source::Env("stage"), "prod").is_ok());

        let err = check_order(&Source::File(file), "prod")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("goes to dev first, not straight to prod"),
            "{err}"
        );
        let err = check_order(&Source::Env("dev"), "prod")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dev → prod skips or reverses") && err.contains("--from stage"),
            "{err}"
        );
        let err = check_order(&Source::Env("prod"), "stage")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--from dev"), "{err}");
        let err = check_order(&Source::Env("stage"), "dev")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing is promoted to dev"), "{err}");
        let err = check_order(&Source::Env("stage"), "qa")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an environment"), "{err}");
    }
}
