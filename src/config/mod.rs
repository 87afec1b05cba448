//! Configuration: typed, validated YAML read from the config area of the store.
//!
//! Layout (keys in the config store): `clients/{client_id}.yaml`, `scopes/{scope_id}.yaml`,
//! `sources/catalog.yaml`, `scoring/{rules_id}.yaml`. Unknown keys are errors, and every error
//! names the file, the key path and the value at fault, and what is expected instead.

mod catalog;
mod client;
mod scopes;
mod scoring;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sha2::{Digest, Sha256};

pub use catalog::{Catalog, HtmlOptions, PubmedOptions, SourceDef, SourceKind};
pub use client::{
    AlwaysKeep, BedrockConfig, Caps, ClientConfig, DeliveryConfig, EditorConfig, PubmedQuery,
    ScheduleConfig, SectionConfig, SortBy, TokenPrices, WatchListRefs,
};
pub use scopes::{
    Company, CompanyScope, CompanyTier, ExclusionGroup, ExclusionScope, Molecule, MoleculeScope,
    Strength, Technology, TechnologyScope, Trademark, TrademarkScope,
};
pub use scoring::{
    Bonuses, EventTypeRule, Recency, RouteGuard, ScoringRules, TechnologyBonus, TierBonus,
};

use crate::error::{Error, Result};
use crate::ports::ObjectStore;
use crate::text::fold;

pub const CATALOG_KEY: &str = "sources/catalog.yaml";

pub fn client_key(client_id: &str) -> String {
    format!("clients/{client_id}.yaml")
}

pub fn scope_key(scope_id: &str) -> String {
    format!("scopes/{scope_id}.yaml")
}

pub fn scoring_key(rules_id: &str) -> String {
    format!("scoring/{rules_id}.yaml")
}

/// The client's watch lists, loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchLists {
    pub companies: CompanyScope,
    pub molecules: MoleculeScope,
    pub trademarks: TrademarkScope,
    pub technologies: TechnologyScope,
    pub exclusions: ExclusionScope,
}

/// Everything one client's run needs, loaded and cross-checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientBundle {
    pub client: ClientConfig,
    /// The client's sources, in the client's order.
    pub sources: Vec<SourceDef>,
    pub watch: WatchLists,
    pub scoring: ScoringRules,
    /// sha256 over every file read, in order: changes when any configuration input changes.
    pub digest: String,
}

impl ClientBundle {
    pub fn source(&self, id: &str) -> Option<&SourceDef> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// Is `id` usable in an object key (`[a-z0-9_]+`, at most 64 characters)?
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Client ids present in the config store.
pub async fn list_clients(store: &dyn ObjectStore) -> Result<Vec<String>> {
    Ok(store
        .list("clients/")
        .await?
        .iter()
        .filter_map(|k| k.strip_prefix("clients/")?.strip_suffix(".yaml"))
        .filter(|id| !id.contains('/'))
        .map(str::to_string)
        .collect())
}

/// Loads and validates one client's configuration and everything it refers to.
pub async fn load_client(store: &dyn ObjectStore, client_id: &str) -> Result<ClientBundle> {
    // Every file read on the way, so that an error found after parsing (a validator knows the
    // key path, not the line) can still say which line to look at.
    let mut texts: Vec<(String, String)> = Vec::new();
    load_client_from(store, client_id, &mut texts)
        .await
        .map_err(|err| {
            texts
                .iter()
                .fold(err, |err, (file, text)| err.with_line_in(file, text))
        })
}

async fn load_client_from(
    store: &dyn ObjectStore,
    client_id: &str,
    texts: &mut Vec<(String, String)>,
) -> Result<ClientBundle> {
    if !is_valid_id(client_id) {
        return Err(Error::InvalidEvent {
            step: "plan".into(),
            message: format!(
                "client_id {client_id:?} is not a valid id: expected lower-case letters, digits and _"
            ),
        });
    }
    let mut digest = Sha256::new();
    let key = client_key(client_id);
    let Some(bytes) = store.get(&key).await? else {
        let known = list_clients(store).await.unwrap_or_default();
        return Err(Error::config(
            store.locate(&key),
            "-",
            format!(
                "unknown client {client_id:?}: no such file (known clients: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let client_file = store.locate(&key);
    let client_text = utf8(&client_file, &bytes)?;
    let client: ClientConfig = yaml::parse(&client_file, &client_text)?;
    texts.push((client_file.clone(), client_text));
    digest.update(&bytes);
    validate_client(&client_file, client_id, &client)?;

    let catalog_file = store.locate(CATALOG_KEY);
    let catalog_bytes = read_required(store, CATALOG_KEY, "the source catalogue").await?;
    let catalog_text = utf8(&catalog_file, &catalog_bytes)?;
    let catalog: Catalog = yaml::parse(&catalog_file, &catalog_text)?;
    texts.push((catalog_file.clone(), catalog_text));
    digest.update(&catalog_bytes);
    validate_catalog(&catalog_file, &catalog)?;

    let mut sources = Vec::new();
    for (i, id) in client.sources.iter().enumerate() {
        match catalog.sources.iter().find(|s| &s.id == id) {
            Some(s) => sources.push(s.clone()),
            None => {
                return Err(Error::config(
                    &client_file,
                    format!("sources[{i}]"),
                    format!("{id:?} is not in {catalog_file}: add it there or fix the id"),
                ));
            }
        }
    }

    if client.replay_captures
        && let Some(s) = sources.iter().find(|s| s.capture.is_none())
    {
        return Err(Error::config(
            &client_file,
            "replay_captures",
            format!(
                "is true but source {:?} has no `capture:` in {catalog_file}: record one, or remove the source or the key",
                s.id
            ),
        ));
    }
    let follows_pubmed = sources.iter().any(|s| s.kind == SourceKind::Pubmed);
    match &client.pubmed {
        None if follows_pubmed => {
            return Err(Error::config(
                &client_file,
                "pubmed",
                "the client follows a pubmed source: add `pubmed: {term: \"...\"}` with the search term",
            ));
        }
        Some(_) if !follows_pubmed => {
            return Err(Error::config(
                &client_file,
                "pubmed",
                "is set but the client follows no pubmed source: remove it or add the source",
            ));
        }
        Some(q) if q.term.trim().is_empty() => {
            return Err(Error::config(
                &client_file,
                "pubmed.term",
                "must not be empty",
            ));
        }
        _ => {}
    }
    let refs = &client.watch_lists;
    let mut refs_loader = RefLoader {
        store,
        referrer: &client_file,
        digest: &mut digest,
        texts,
    };
    let companies: CompanyScope = refs_loader
        .load("watch_lists.companies", &scope_key(&refs.companies))
        .await?;
    let molecules: MoleculeScope = refs_loader
        .load("watch_lists.molecules", &scope_key(&refs.molecules))
        .await?;
    let trademarks: TrademarkScope = refs_loader
        .load("watch_lists.trademarks", &scope_key(&refs.trademarks))
        .await?;
    let technologies: TechnologyScope = refs_loader
        .load("watch_lists.technologies", &scope_key(&refs.technologies))
        .await?;
    let exclusions: ExclusionScope = refs_loader
        .load("watch_lists.exclusions", &scope_key(&refs.exclusions))
        .await?;
    let scoring: ScoringRules = refs_loader
        .load("scoring", &scoring_key(&client.scoring))
        .await?;

    let watch = WatchLists {
        companies,
        molecules,
        trademarks,
        technologies,
        exclusions,
    };
    validate_watch(store, refs, &watch)?;
    let scoring_file = store.locate(&scoring_key(&client.scoring));
    validate_scoring(
        &scoring_file,
        &scoring,
        &watch.exclusions,
        &store.locate(&scope_key(&refs.exclusions)),
    )?;
    validate_sections(&client_file, &client, &scoring)?;

    Ok(ClientBundle {
        client,
        sources,
        watch,
        scoring,
        digest: hex::encode(digest.finalize()),
    })
}

async fn read_required(store: &dyn ObjectStore, key: &str, what: &str) -> Result<Vec<u8>> {
    store.get(key).await?.ok_or_else(|| {
        Error::config(
            store.locate(key),
            "-",
            format!("{what} is missing: create this file"),
        )
    })
}

/// Loads the files a client config refers to, naming the referring key when one is missing.
struct RefLoader<'a> {
    store: &'a dyn ObjectStore,
    referrer: &'a str,
    digest: &'a mut Sha256,
    texts: &'a mut Vec<(String, String)>,
}

impl RefLoader<'_> {
    async fn load<T: serde::de::DeserializeOwned>(
        &mut self,
        ref_path: &str,
        key: &str,
    ) -> Result<T> {
        let file = self.store.locate(key);
        let id = key
            .rsplit('/')
            .next()
            .unwrap_or(key)
            .trim_end_matches(".yaml");
        if !is_valid_id(id) {
            return Err(Error::config(
                self.referrer,
                ref_path,
                format!("{id:?} is not a valid id: expected lower-case letters, digits and _"),
            ));
        }
        let Some(bytes) = self.store.get(key).await? else {
            return Err(Error::config(
                self.referrer,
                ref_path,
                format!("{id:?} refers to {file}, which does not exist"),
            ));
        };
        self.digest.update(&bytes);
        let text = utf8(&file, &bytes)?;
        let value = yaml::parse(&file, &text);
        self.texts.push((file, text));
        value
    }
}

fn utf8(file: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|e| Error::config(file, "-", format!("not UTF-8 text ({e}): save it as UTF-8")))
}

fn ensure(
    ok: bool,
    file: &str,
    path: impl Into<String>,
    message: impl FnOnce() -> String,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(file, path, message()))
    }
}

fn validate_client(file: &str, expected_id: &str, c: &ClientConfig) -> Result<()> {
    ensure(c.client_id == expected_id, file, "client_id", || {
        format!(
            "{:?} must equal the file name ({expected_id:?})",
            c.client_id
        )
    })?;
    ensure(!c.name.trim().is_empty(), file, "name", || {
        "must not be empty".into()
    })?;
    ensure(
        c.language.len() == 2 && c.language.bytes().all(|b| b.is_ascii_lowercase()),
        file,
        "language",
        || {
            format!(
                "{:?} is not an ISO 639-1 code: expected two lower-case letters (en, fr)",
                c.language
            )
        },
    )?;
    ensure(
        (1..=92).contains(&c.period_days),
        file,
        "period_days",
        || format!("{} is out of range: expected 1 to 92 days", c.period_days),
    )?;
    ensure(!c.sources.is_empty(), file, "sources", || {
        "must list at least one source id".into()
    })?;
    let mut seen = HashSet::new();
    for (i, s) in c.sources.iter().enumerate() {
        ensure(seen.insert(s), file, format!("sources[{i}]"), || {
            format!("{s:?} is listed twice")
        })?;
    }
    ensure(
        c.caps.max_items_total >= 1,
        file,
        "caps.max_items_total",
        || {
            format!(
                "{} is too small: expected at least 1",
                c.caps.max_items_total
            )
        },
    )?;
    ensure(
        c.caps.max_source_share > 0.0 && c.caps.max_source_share <= 1.0,
        file,
        "caps.max_source_share",
        || {
            format!(
                "{} is out of range: expected a share in (0, 1]",
                c.caps.max_source_share
            )
        },
    )?;
    ensure(
        (80..=4000).contains(&c.editor.summary_max_chars),
        file,
        "editor.summary_max_chars",
        || {
            format!(
                "{} is out of range: expected 80 to 4000",
                c.editor.summary_max_chars
            )
        },
    )?;
    ensure(
        (1..=20).contains(&c.editor.tldr_max_items),
        file,
        "editor.tldr_max_items",
        || {
            format!(
                "{} is out of range: expected 1 to 20",
                c.editor.tldr_max_items
            )
        },
    )?;
    if let Some(b) = &c.editor.bedrock {
        ensure(
            !b.model_id.trim().is_empty(),
            file,
            "editor.bedrock.model_id",
            || "must not be empty".into(),
        )?;
        ensure(
            !b.region.trim().is_empty(),
            file,
            "editor.bedrock.region",
            || "must not be empty".into(),
        )?;
        ensure(
            (256..=8192).contains(&b.max_tokens),
            file,
            "editor.bedrock.max_tokens",
            || format!("{} is out of range: expected 256 to 8192", b.max_tokens),
        )?;
        ensure(
            (0.0..=1.0).contains(&b.temperature),
            file,
            "editor.bedrock.temperature",
            || format!("{} is out of range: expected 0 to 1", b.temperature),
        )?;
        for (key, v) in [
            (
                "editor.bedrock.price_usd_per_million_tokens.input",
                b.price_usd_per_million_tokens.input,
            ),
            (
                "editor.bedrock.price_usd_per_million_tokens.output",
                b.price_usd_per_million_tokens.output,
            ),
        ] {
            ensure(v.is_finite() && v >= 0.0, file, key, || {
                format!("{v} is not a price: expected a number >= 0")
            })?;
        }
        ensure(
            b.budget_usd_per_run.is_finite() && b.budget_usd_per_run > 0.0,
            file,
            "editor.bedrock.budget_usd_per_run",
            || {
                format!(
                    "{} is out of range: expected a positive amount of USD",
                    b.budget_usd_per_run
                )
            },
        )?;
        ensure(
            (2_000..=200_000).contains(&b.max_input_tokens),
            file,
            "editor.bedrock.max_input_tokens",
            || {
                format!(
                    "{} is out of range: expected 2000 to 200000 (the system prompt and the tool alone take about 1000)",
                    b.max_input_tokens
                )
            },
        )?;
        ensure(
            !b.summary_length.trim().is_empty() && b.summary_length.chars().count() <= 80,
            file,
            "editor.bedrock.summary_length",
            || "must be a short phrase such as \"3 to 6 lines\" (1 to 80 characters)".into(),
        )?;
    }
    if let Some(d) = &c.delivery {
        validate_delivery(file, d)?;
    }
    validate_cron(file, &c.schedule.cron)?;
    let tz = &c.schedule.timezone;
    // EventBridge Scheduler refuses a zone it does not know, and only when the schedule is
    // written: check against the IANA database now so the file is rejected where it is edited.
    let tz_ok = tz.parse::<chrono_tz::Tz>().is_ok();
    ensure(tz_ok, file, "schedule.timezone", || {
        format!("{tz:?} is not an IANA time zone name: expected e.g. UTC or Europe/Paris")
    })?;
    if let Some(minutes) = c.schedule.flexible_window_minutes {
        ensure(
            (1..=MAX_FLEXIBLE_WINDOW_MINUTES).contains(&minutes),
            file,
            "schedule.flexible_window_minutes",
            || {
                format!(
                    "{minutes} is out of range: expected 1 to {MAX_FLEXIBLE_WINDOW_MINUTES} (EventBridge Scheduler's limit), or leave the key out to start on time"
                )
            },
        )?;
    }
    Ok(())
}

/// EventBridge Scheduler's largest flexible time window (24 hours).
pub const MAX_FLEXIBLE_WINDOW_MINUTES: u32 = 1440;

/// Every mailbox parses, the subject names only known placeholders, the unsubscribe link is a
/// mailto: a mistake here would otherwise surface as an SES rejection on Monday morning.
fn validate_delivery(file: &str, d: &DeliveryConfig) -> Result<()> {
    crate::delivery::Addresses::of(file, d)?;
    ensure(!d.to.is_empty(), file, "delivery.to", || {
        "must list at least one recipient (Name <address> or address)".into()
    })?;
    crate::delivery::subject_placeholders(&d.subject)
        .map_err(|why| Error::config(file, "delivery.subject", why))?;
    if let Some(u) = &d.list_unsubscribe {
        let ok = u.strip_prefix("mailto:").is_some_and(|a| {
            crate::delivery::Mailbox::parse(a.split('?').next().unwrap_or(a)).is_ok()
        });
        ensure(ok, file, "delivery.list_unsubscribe", || {
            format!(
                "{u:?} is not a mailto link: expected e.g. mailto:unsubscribe@example.com?subject=unsubscribe"
            )
        })?;
    }
    Ok(())
}

/// EventBridge cron: six fields, and one of day-of-month / day-of-week must be `?`.
fn validate_cron(file: &str, cron: &str) -> Result<()> {
    let fields: Vec<&str> = cron
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        .map(|s| s.split_whitespace().collect())
        .unwrap_or_default();
    ensure(fields.len() == 6, file, "schedule.cron", || {
        format!(
            "{cron:?} is not an EventBridge cron expression: expected cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 8 ? * MON *)"
        )
    })?;
    ensure(
        fields[2] == "?" || fields[4] == "?",
        file,
        "schedule.cron",
        || format!("{cron:?}: one of day-of-month and day-of-week must be '?'"),
    )
}

fn validate_catalog(file: &str, catalog: &Catalog) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, s) in catalog.sources.iter().enumerate() {
        let at = |k: &str| format!("sources[{i}].{k}");
        ensure(is_valid_id(&s.id), file, at("id"), || {
            format!(
                "{:?} is not a valid id: expected lower-case letters, digits and _",
                s.id
            )
        })?;
        ensure(seen.insert(&s.id), file, at("id"), || {
            format!("{:?} is defined twice", s.id)
        })?;
        ensure(!s.name.trim().is_empty(), file, at("name"), || {
            "must not be empty".into()
        })?;
        let scheme = url::Url::parse(&s.url).map(|u| u.scheme().to_string());
        ensure(
            matches!(scheme.as_deref(), Ok("http" | "https" | "file")),
            file,
            at("url"),
            || format!("{:?} is not an http(s) or file URL", s.url),
        )?;
        ensure((1..=3).contains(&s.tier), file, at("tier"), || {
            format!(
                "{} is out of range: expected 1 (own channel), 2 (trade press) or 3 (aggregator)",
                s.tier
            )
        })?;
        match (s.kind, &s.html, &s.pubmed) {
            (SourceKind::Html, None, _) => {
                return Err(Error::config(
                    file,
                    at("html"),
                    "a source of kind html needs `html: {selectors: {item, title, ...}}`"
                        .to_string(),
                ));
            }
            (SourceKind::Html, Some(h), _) => {
                h.selectors
                    .validate()
                    .map_err(|e| Error::config(file, at("html.selectors"), e))?;
                ensure(
                    (1..=20).contains(&h.max_pages),
                    file,
                    at("html.max_pages"),
                    || format!("{} is out of range: expected 1 to 20 pages", h.max_pages),
                )?;
                ensure(h.max_articles <= 200, file, at("html.max_articles"), || {
                    format!(
                        "{} is out of range: expected 0 to 200 articles",
                        h.max_articles
                    )
                })?;
            }
            (_, Some(_), _) => {
                return Err(Error::config(
                    file,
                    at("html"),
                    format!(
                        "only sources of kind html take html options (this one is {:?})",
                        s.kind
                    ),
                ));
            }
            _ => {}
        }
        match (s.kind, &s.pubmed) {
            (SourceKind::Pubmed, Some(p)) => {
                ensure(
                    (1..=10_000).contains(&p.max_results),
                    file,
                    at("pubmed.max_results"),
                    || format!("{} is out of range: expected 1 to 10000", p.max_results),
                )?;
                ensure(
                    (1..=500).contains(&p.batch_size),
                    file,
                    at("pubmed.batch_size"),
                    || format!("{} is out of range: expected 1 to 500", p.batch_size),
                )?;
            }
            (SourceKind::Pubmed, None) | (_, None) => {}
            (_, Some(_)) => {
                return Err(Error::config(
                    file,
                    at("pubmed"),
                    format!(
                        "only sources of kind pubmed take pubmed options (this one is {:?})",
                        s.kind
                    ),
                ));
            }
        }
        if let Some(capture) = &s.capture {
            ensure(is_relative_path(capture), file, at("capture"), || {
                format!("{capture:?} must be a relative path under sources/ without '..'")
            })?;
        }
    }
    Ok(())
}

pub(crate) fn is_relative_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Terms must be unique within a watch list once folded, or two entries would fight over them.
/// An alias that folds to its own entry's name ("long acting" beside "long-acting") is harmless.
fn unique_terms<'a>(file: &str, entries: impl Iterator<Item = (String, &'a str)>) -> Result<()> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, term) in entries {
        let folded = fold(term);
        ensure(!folded.is_empty(), file, &path, || {
            format!("{term:?} is empty once folded: expected a word or phrase")
        })?;
        if let Some(first) = seen.get(&folded) {
            if entry_of(first) == entry_of(&path) {
                continue;
            }
            return Err(Error::config(
                file,
                path,
                format!(
                    "{term:?} duplicates {first} (terms are compared without case and accents)"
                ),
            ));
        }
        seen.insert(folded, path);
    }
    Ok(())
}

/// `companies[3].aliases[1]` → `companies[3]`: the entry a term path belongs to.
fn entry_of(path: &str) -> &str {
    path.find("].").map_or(path, |i| &path[..=i])
}

/// `(path, term)` for every name and alias of a list: `companies[3].name`,
/// `companies[3].aliases[1]`, ...
fn names_and_aliases<'a>(
    list: &'a str,
    name_key: &'a str,
    entries: impl Iterator<Item = (&'a str, &'a [String])> + 'a,
) -> impl Iterator<Item = (String, &'a str)> + 'a {
    entries.enumerate().flat_map(move |(i, (name, aliases))| {
        std::iter::once((format!("{list}[{i}].{name_key}"), name)).chain(
            aliases
                .iter()
                .enumerate()
                .map(move |(j, a)| (format!("{list}[{i}].aliases[{j}]"), a.as_str())),
        )
    })
}

fn validate_watch(store: &dyn ObjectStore, refs: &WatchListRefs, w: &WatchLists) -> Result<()> {
    let companies = w
        .companies
        .companies
        .iter()
        .map(|c| (c.name.as_str(), c.aliases.as_slice()));
    unique_terms(
        &store.locate(&scope_key(&refs.companies)),
        names_and_aliases("companies", "name", companies),
    )?;
    let molecules = w
        .molecules
        .molecules
        .iter()
        .map(|m| (m.name.as_str(), m.aliases.as_slice()));
    unique_terms(
        &store.locate(&scope_key(&refs.molecules)),
        names_and_aliases("molecules", "name", molecules),
    )?;
    let technologies = w
        .technologies
        .technologies
        .iter()
        .map(|t| (t.term.as_str(), t.aliases.as_slice()));
    unique_terms(
        &store.locate(&scope_key(&refs.technologies)),
        names_and_aliases("technologies", "term", technologies),
    )?;
    let trademarks = w
        .trademarks
        .trademarks
        .iter()
        .map(|t| (t.name.as_str(), &[][..]));
    let f = store.locate(&scope_key(&refs.trademarks));
    unique_terms(&f, names_and_aliases("trademarks", "name", trademarks))?;
    let molecule_names: HashSet<&str> = w
        .molecules
        .molecules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let company_names: HashSet<&str> = w
        .companies
        .companies
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for (i, t) in w.trademarks.trademarks.iter().enumerate() {
        if let Some(m) = &t.molecule {
            ensure(
                molecule_names.contains(m.as_str()),
                &f,
                format!("trademarks[{i}].molecule"),
                || {
                    format!(
                        "{m:?} is not a molecule name in {}",
                        store.locate(&scope_key(&refs.molecules))
                    )
                },
            )?;
        }
        if let Some(o) = &t.owner {
            ensure(
                company_names.contains(o.as_str()),
                &f,
                format!("trademarks[{i}].owner"),
                || {
                    format!(
                        "{o:?} is not a company name in {}",
                        store.locate(&scope_key(&refs.companies))
                    )
                },
            )?;
        }
    }
    let f = store.locate(&scope_key(&refs.exclusions));
    let mut categories = HashSet::new();
    for (i, g) in w.exclusions.exclusions.iter().enumerate() {
        ensure(
            is_valid_id(&g.category),
            &f,
            format!("exclusions[{i}].category"),
            || {
                format!(
                    "{:?} is not a valid id: expected lower-case letters, digits and _",
                    g.category
                )
            },
        )?;
        ensure(
            categories.insert(&g.category),
            &f,
            format!("exclusions[{i}].category"),
            || format!("{:?} is defined twice", g.category),
        )?;
        ensure(
            !g.terms.is_empty(),
            &f,
            format!("exclusions[{i}].terms"),
            || "must list at least one term".into(),
        )?;
    }
    unique_terms(
        &f,
        w.exclusions
            .exclusions
            .iter()
            .enumerate()
            .flat_map(|(i, g)| {
                g.terms
                    .iter()
                    .enumerate()
                    .map(move |(j, t)| (format!("exclusions[{i}].terms[{j}]"), t.as_str()))
            }),
    )
}

fn finite(file: &str, path: &str, v: f64) -> Result<()> {
    ensure(v.is_finite(), file, path, || {
        format!("{v} is not a finite number")
    })
}

fn validate_scoring(
    file: &str,
    s: &ScoringRules,
    exclusions: &ExclusionScope,
    exclusions_file: &str,
) -> Result<()> {
    finite(file, "threshold", s.threshold)?;
    finite(file, "other_weight", s.other_weight)?;
    ensure(!s.event_types.is_empty(), file, "event_types", || {
        "must list at least one event type".into()
    })?;
    let mut ids = HashSet::new();
    for (i, e) in s.event_types.iter().enumerate() {
        let at = |k: &str| format!("event_types[{i}].{k}");
        ensure(
            is_valid_id(&e.id) && e.id != "other",
            file,
            at("id"),
            || {
                format!(
                    "{:?} is not a valid event type id: lower-case letters, digits and _, not \"other\" (reserved)",
                    e.id
                )
            },
        )?;
        ensure(ids.insert(&e.id), file, at("id"), || {
            format!("{:?} is defined twice", e.id)
        })?;
        finite(file, &at("weight"), e.weight)?;
        ensure(!e.patterns.is_empty(), file, at("patterns"), || {
            "must list at least one pattern".into()
        })?;
    }
    unique_terms(
        file,
        s.event_types.iter().enumerate().flat_map(|(i, e)| {
            e.patterns
                .iter()
                .enumerate()
                .map(move |(j, p)| (format!("event_types[{i}].patterns[{j}]"), p.as_str()))
        }),
    )?;
    let b = &s.bonuses;
    for (path, v) in [
        ("bonuses.company.core", b.company.core),
        ("bonuses.company.pure_player", b.company.pure_player),
        ("bonuses.company.hybrid", b.company.hybrid),
        ("bonuses.company.other", b.company.other),
        ("bonuses.trademark", b.trademark),
        ("bonuses.molecule", b.molecule),
        ("bonuses.technology.strong", b.technology.strong),
        ("bonuses.technology.medium", b.technology.medium),
        ("bonuses.technology.weak", b.technology.weak),
        ("bonuses.technology.max", b.technology.max),
        ("bonuses.recency.max", b.recency.max),
    ] {
        finite(file, path, v)?;
    }
    ensure(
        b.title_multiplier.is_finite() && b.title_multiplier >= 1.0,
        file,
        "bonuses.title_multiplier",
        || {
            format!(
                "{} is out of range: expected a number >= 1",
                b.title_multiplier
            )
        },
    )?;
    ensure(
        b.recency.days.is_finite() && b.recency.days > 0.0,
        file,
        "bonuses.recency.days",
        || {
            format!(
                "{} is out of range: expected a positive number of days",
                b.recency.days
            )
        },
    )?;
    let tiers: BTreeSet<&str> = b.source_tier.keys().map(String::as_str).collect();
    ensure(
        tiers == BTreeSet::from(["1", "2", "3"]),
        file,
        "bonuses.source_tier",
        || format!("has keys {tiers:?}: expected exactly \"1\", \"2\" and \"3\""),
    )?;
    for (k, v) in &b.source_tier {
        finite(file, &format!("bonuses.source_tier.{k}"), *v)?;
    }
    let categories: BTreeSet<&str> = exclusions
        .exclusions
        .iter()
        .map(|g| g.category.as_str())
        .collect();
    for (k, v) in &s.penalties {
        ensure(
            categories.contains(k.as_str()),
            file,
            format!("penalties.{k}"),
            || {
                format!(
                    "{k:?} is not an exclusion category of {exclusions_file} (categories: {categories:?})"
                )
            },
        )?;
        finite(file, &format!("penalties.{k}"), *v)?;
    }
    ensure(
        categories.contains(s.route_guard.category.as_str()),
        file,
        "route_guard.category",
        || {
            format!(
                "{:?} is not an exclusion category of {exclusions_file} (categories: {categories:?})",
                s.route_guard.category
            )
        },
    )?;
    ensure(
        s.route_guard.window_words <= 50,
        file,
        "route_guard.window_words",
        || {
            format!(
                "{} is out of range: expected 0 to 50 words",
                s.route_guard.window_words
            )
        },
    )?;
    for c in &categories {
        ensure(s.penalties.contains_key(*c), file, "penalties", || {
            format!("has no penalty for exclusion category {c:?} of {exclusions_file}: add one")
        })?;
    }
    Ok(())
}

fn validate_sections(file: &str, c: &ClientConfig, s: &ScoringRules) -> Result<()> {
    ensure(!c.sections.is_empty(), file, "sections", || {
        "must define at least one section".into()
    })?;
    let known: BTreeSet<&str> = s
        .event_types
        .iter()
        .map(|e| e.id.as_str())
        .chain(["other", "*"])
        .collect();
    for (key, types) in [
        (
            "always_keep.core_company_events",
            &c.always_keep.core_company_events,
        ),
        (
            "always_keep.trademark_events",
            &c.always_keep.trademark_events,
        ),
    ] {
        for (j, t) in types.iter().enumerate() {
            ensure(
                known.contains(t.as_str()) && t != "*",
                file,
                format!("{key}[{j}]"),
                || {
                    format!(
                        "{t:?} is not an event type of the scoring rules (known: {known:?}; \"*\" is not allowed here)"
                    )
                },
            )?;
        }
    }
    let mut ids = HashSet::new();
    let last = c.sections.len() - 1;
    for (i, sec) in c.sections.iter().enumerate() {
        let at = |k: &str| format!("sections[{i}].{k}");
        ensure(is_valid_id(&sec.id), file, at("id"), || {
            format!(
                "{:?} is not a valid id: expected lower-case letters, digits and _",
                sec.id
            )
        })?;
        ensure(ids.insert(&sec.id), file, at("id"), || {
            format!("{:?} is defined twice", sec.id)
        })?;
        ensure(!sec.title.trim().is_empty(), file, at("title"), || {
            "must not be empty".into()
        })?;
        ensure(sec.max_items >= 1, file, at("max_items"), || {
            format!("{} is too small: expected at least 1", sec.max_items)
        })?;
        ensure(!sec.event_types.is_empty(), file, at("event_types"), || {
            "must list at least one event type or \"*\"".into()
        })?;
        for (j, t) in sec.event_types.iter().enumerate() {
            ensure(
                known.contains(t.as_str()),
                file,
                format!("sections[{i}].event_types[{j}]"),
                || format!("{t:?} is not an event type of the scoring rules (known: {known:?})"),
            )?;
            ensure(
                t != "*" || i == last,
                file,
                format!("sections[{i}].event_types[{j}]"),
                || {
                    "\"*\" (catch-all) is only allowed in the last section: sections after it would stay empty".into()
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LocalDirStore, MemoryStore};

    /// The fixture configuration, copied into memory with one file edited.
    async fn fixtures_with(key: &str, edit: impl Fn(String) -> String) -> MemoryStore {
        let src = LocalDirStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"));
        let store = MemoryStore::new();
        for k in src.list("").await.unwrap() {
            let mut bytes = src.get(&k).await.unwrap().unwrap();
            if k == key {
                bytes = edit(String::from_utf8(bytes).unwrap()).into_bytes();
            }
            store.put(&k, bytes, "x").await.unwrap();
        }
        store
    }

    async fn error_of(key: &str, edit: impl Fn(String) -> String) -> String {
        let store = fixtures_with(key, edit).await;
        load_client(&store, "lai_weekly")
            .await
            .unwrap_err()
            .to_string()
    }

    #[tokio::test]
    async fn replaying_captures_needs_a_capture_for_every_source() {
        let store =
            fixtures_with("clients/lai_weekly.yaml", |s| s + "replay_captures: true\n").await;
        let bundle = load_client(&store, "lai_weekly").await.unwrap();
        assert!(bundle.client.replay_captures);
        let catalog = String::from_utf8(store.get(CATALOG_KEY).await.unwrap().unwrap()).unwrap();
        let catalog = catalog.replace("    capture: captures/medincell_news.atom\n", "");
        store
            .put(CATALOG_KEY, catalog.into_bytes(), "x")
            .await
            .unwrap();
        let err = load_client(&store, "lai_weekly")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("lai_weekly.yaml: replay_captures: is true but source \"medincell_news\" has no `capture:`"),
            "{err}"
        );
        assert!(err.ends_with(")"), "the line of the key: {err}");
    }

    #[tokio::test]
    async fn the_fixture_configuration_loads() {
        let store = fixtures_with("", |s| s).await;
        let bundle = load_client(&store, "lai_weekly").await.unwrap();
        assert_eq!(bundle.sources.len(), bundle.client.sources.len());
        assert_eq!(bundle.digest.len(), 64);
    }

    #[tokio::test]
    async fn delivery_mistakes_name_the_file_the_key_and_the_value() {
        let key = "clients/lai_weekly.yaml";
        let err = error_of(key, |s| {
            s.replace("- archive@example.com", "- archive.example.com")
        })
        .await;
        assert!(
            err.contains("lai_weekly.yaml: delivery.bcc[0]: \"archive.example.com\": is not an e-mail address"),
            "{err}"
        );
        let err = error_of(key, |s| {
            s.replace("subject: \"{name} — {period}\"", "subject: \"{title}\"")
        })
        .await;
        assert!(
            err.contains("delivery.subject") && err.contains("{title}"),
            "{err}"
        );
        let err = error_of(key, |s| {
            s.replace(
                "list_unsubscribe: \"mailto:",
                "list_unsubscribe: \"https://",
            )
        })
        .await;
        assert!(
            err.contains("delivery.list_unsubscribe") && err.contains("not a mailto link"),
            "{err}"
        );
        let err = error_of(key, |s| {
            s.replace(
                "  to:\n    - \"BD Team <bd-team@example.com>\"\n",
                "  to: []\n",
            )
        })
        .await;
        assert!(
            err.contains("lai_weekly.yaml: delivery.to: must list at least one recipient"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn cross_file_references_are_checked_and_named() {
        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("  - endpoints\n", "  - endpoint\n")
        })
        .await;
        assert!(
            err.contains("lai_weekly.yaml: sources[") && err.contains("\"endpoint\" is not in"),
            "{err}"
        );

        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("scoring: lai_scoring", "scoring: nope")
        })
        .await;
        assert!(
            err.contains("lai_weekly.yaml: scoring: \"nope\" refers to memory:scoring/nope.yaml"),
            "{err}"
        );

        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("event_types: [clinical]", "event_types: [clinicl]")
        })
        .await;
        assert!(
            err.contains("sections[2].event_types[0]: \"clinicl\" is not an event type"),
            "{err}"
        );

        let err = error_of("scoring/lai_scoring.yaml", |s| {
            s.replacen("  hr:", "  hrr:", 1)
        })
        .await;
        assert!(err.contains("penalties"), "{err}");
    }

    #[tokio::test]
    async fn values_out_of_range_say_what_is_expected() {
        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("period_days: 7", "period_days: 400")
        })
        .await;
        assert!(
            err.ends_with("period_days: 400 is out of range: expected 1 to 92 days (line 6)"),
            "{err}"
        );
        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("cron(0 8 ? * MON *)", "0 8 * * 1")
        })
        .await;
        assert!(
            err.contains("schedule.cron") && err.contains("EventBridge cron"),
            "{err}"
        );
        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace(
                "timezone: Europe/Paris",
                "timezone: Europe/Paris\n  flexible_window_minutes: 1441",
            )
        })
        .await;
        assert!(
            err.contains(
                "schedule.flexible_window_minutes: 1441 is out of range: expected 1 to 1440"
            ),
            "{err}"
        );
        let err = error_of("clients/lai_weekly.yaml", |s| {
            s.replace("client_id: lai_weekly", "client_id: lai")
        })
        .await;
        assert!(
            err.contains("client_id: \"lai\" must equal the file name"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_alias_shared_by_two_entries_is_refused() {
        let err = error_of("scopes/lai_molecules.yaml", |s| {
            s.replacen(
                "molecules:\n",
                "molecules:\n  - name: Risperidone-X\n    aliases: [\"risperidone\"]\n",
                1,
            )
        })
        .await;
        assert!(err.contains("duplicates"), "{err}");
    }
}
