//! `vectora`: the command line (run, parse, classify, step, deliver, validate, aws). Wiring only: every
//! behaviour lives in the library.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use vectora_inbox::asl::{ExecutionEvent, ExecutionObserver};
use vectora_inbox::aws::ses::SesMailer;
use vectora_inbox::classify::{Classifier, ClassifyInput};
use vectora_inbox::config::{self, SourceKind, load_client};
use vectora_inbox::delivery::eml::EmlFile;
use vectora_inbox::editorial::{BedrockEditor, TemplateEditor};
use vectora_inbox::normalize::html_page::{self, PageSelectors};
use vectora_inbox::normalize::{self, Format, Origin, pubmed};
use vectora_inbox::ports::metrics::MemoryMetrics;
use vectora_inbox::ports::secrets::EnvSecrets;
use vectora_inbox::ports::{Fetcher, Mailer, Ports, SystemClock};
use vectora_inbox::runner;
use vectora_inbox::sources::{CaptureFetcher, HttpFetcher, HttpLimits};
use vectora_inbox::steps;
use vectora_inbox::store;

#[derive(Parser)]
#[command(
    name = "vectora",
    version,
    about = "Vectora Inbox: unattended industry newsletters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the newsletter state machine for one client (locally, in-process).
    Run(RunArgs),
    /// Normalize one captured source file and print its items as JSON lines.
    Parse {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = KindChoice::Auto)]
        kind: KindChoice,
        /// The URL the file was fetched from: relative links resolve against it.
        #[arg(long)]
        source_url: Option<String>,
        /// The HTTP Content-Type it came with, e.g. 'text/xml; charset=iso-8859-1'.
        #[arg(long)]
        content_type: Option<String>,
        /// For --kind html: a YAML file of CSS selectors (the catalogue's `html.selectors`).
        #[arg(long)]
        selectors: Option<PathBuf>,
    },
    /// Match, score and assign a section to items given as JSON lines; one JSON line out per item.
    Classify {
        #[arg(long)]
        client: String,
        #[arg(long, default_value = "fixtures")]
        config: PathBuf,
        /// Judge as the run of this date would: its run window applies and recency is measured
        /// from the window's end. Without it, relevance only: no window, recency from each
        /// item's own date.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Print, per item, the decision and every rule that fired, in words, one per line,
        /// instead of JSON.
        #[arg(long)]
        explain: bool,
        /// JSON lines (`vectora parse`'s output works as it is); `-` reads standard input.
        items: PathBuf,
    },
    /// Run one step as its Lambda would, on an event file; prints the step's JSON result.
    Step {
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(steps::STEP_NAMES))]
        name: String,
        #[arg(long)]
        input: PathBuf,
        #[arg(long, default_value = "fixtures")]
        config: PathBuf,
        #[arg(long, default_value = "vectora-out")]
        store: String,
        #[arg(long)]
        offline: bool,
        /// For generate-section: the editor the Lambda would use (its VECTORA_EDITOR).
        #[arg(long, value_enum, default_value_t = EditorChoice::Template)]
        editor: EditorChoice,
        /// With --editor bedrock: ask the model again instead of reusing recorded answers.
        #[arg(long)]
        fresh_editorial: bool,
        /// For deliver: how the message is carried (as `run --deliver`).
        #[arg(long, value_enum, default_value_t = DeliverChoice::None)]
        deliver: DeliverChoice,
    },
    /// Deliver an assembled newsletter by e-mail now (the deliver step, outside a run); an
    /// issue already sent is not sent again unless --resend.
    Deliver {
        #[arg(long)]
        client: String,
        /// The run date of the issue (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        #[arg(long, default_value = "fixtures")]
        config: PathBuf,
        /// Where the run wrote: a directory or s3://BUCKET[/PREFIX] (as for `run`).
        #[arg(long, default_value = "vectora-out")]
        store: String,
        /// Send again even though delivery.json says the issue already left (a reader lost
        /// it, or an uncertain send that you checked did not arrive).
        #[arg(long)]
        resend: bool,
        #[arg(long = "via", value_enum, default_value_t = DeliverChoice::Ses)]
        via: DeliverChoice,
    },
    /// See what the editor would send the model, without paying for it.
    #[command(subcommand)]
    Editorial(EditorialCommand),
    /// A client's last runs: the diagnostic of the latest, trends and recommended adjustments.
    Report {
        #[arg(long)]
        client: String,
        /// Where the runs wrote: a directory or s3://BUCKET[/PREFIX] (as for `run`).
        #[arg(long, default_value = "vectora-out")]
        store: String,
        /// How many of the latest runs to read.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
        last: u32,
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
    /// Check every configuration file and the state machine definition.
    Validate {
        #[arg(long, default_value = "fixtures")]
        config: PathBuf,
    },
    /// Operate the deployed state machine (AWS credentials from the standard chain).
    #[command(subcommand)]
    Aws(AwsCommand),
}

#[derive(Subcommand)]
enum EditorialCommand {
    /// Print, as a JSON array, the Converse request each section's first call would send
    /// (system prompt, messages, tool schema, inference settings), its estimated size and
    /// maximum cost, and the items left out to fit `max_input_tokens`. Calls no model.
    Preview {
        #[arg(long)]
        client: String,
        #[arg(long, default_value = "fixtures")]
        config: PathBuf,
        /// Run date (YYYY-MM-DD). Default: today (UTC).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Only this section (its id in the client file).
        #[arg(long)]
        section: Option<String>,
        /// Read the selection of a run already in this store (what a resume or redrive would
        /// send) instead of selecting afresh in a scratch store.
        #[arg(long)]
        store: Option<String>,
        /// Select afresh from the recorded captures instead of the network.
        #[arg(long)]
        offline: bool,
    },
}

#[derive(Subcommand)]
enum AwsCommand {
    /// Start a client's run now, with the input its schedule sends. The execution is named
    /// CLIENT-DATE, so starting the same run twice starts it once.
    Start {
        #[arg(long)]
        client: String,
        /// Run date (YYYY-MM-DD). Default: today (UTC).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Overrides the client's period_days (1 to 92, as the plan step accepts).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=92))]
        period_days: Option<u32>,
        #[command(flatten)]
        target: StateMachineArg,
    },
    /// List the latest executions, or describe one (status, error and cause, output).
    Status {
        /// An execution ARN to describe instead of listing.
        execution_arn: Option<String>,
        /// How many executions to list.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=1000))]
        limit: i32,
        #[command(flatten)]
        target: StateMachineArg,
    },
    /// Re-run a failed execution from the states that failed (what the console's Redrive does).
    Redrive { execution_arn: String },
    /// Read the account an environment is about to be deployed to and refuse what would fail
    /// there (Lambda concurrency, Bedrock access and quotas, SES, SSM, bucket names, alarms).
    /// Exits 1 on any blocking finding.
    Preflight {
        #[command(flatten)]
        deployment: DeploymentArgs,
        #[arg(long, value_enum, default_value_t = FindingsFormat::Text)]
        format: FindingsFormat,
    },
    /// Deploy one packaged template (from `sam package`) to an environment, after its
    /// preflight passed: the file given, or exactly what `--from` runs.
    Promote {
        #[command(flatten)]
        deployment: DeploymentArgs,
        /// The environment whose recorded artifact is deployed.
        #[arg(
            long,
            conflicts_with = "template_file",
            required_unless_present = "template_file"
        )]
        from: Option<String>,
        /// A packaged template (`sam package --output-template-file`), for the first environment.
        #[arg(long)]
        template_file: Option<PathBuf>,
        /// Where each environment's deployed artifact is recorded.
        #[arg(long, default_value = "infra/.releases")]
        records: PathBuf,
    },
    /// Run the canary client (`fixtures/canary/`, uploaded to the config bucket) on a deployed
    /// stack and check it: execution status, newsletter object, published metrics, and that a
    /// second start of the same run starts nothing. One line per check; exits 1 on any failure.
    Smoke {
        /// The environment (a table of --samconfig): its region and MetricsNamespace.
        #[arg(long)]
        env: String,
        #[command(flatten)]
        target: StateMachineArg,
        /// The stack's newsletters area: s3://BUCKET (the stack output NewsletterBucketName).
        #[arg(long)]
        newsletters: String,
        /// The canary's client id.
        #[arg(long, default_value = vectora_inbox::deploy::smoke::CANARY_CLIENT)]
        client: String,
        /// Run date (YYYY-MM-DD): a date already smoked is checked, not started again.
        /// Default: today (UTC).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Seconds to wait for the run to end.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        /// Seconds between two status reads.
        #[arg(long, default_value_t = 10)]
        poll: u64,
        /// Seconds to wait for the run's metrics to be listed (CloudWatch lists a new metric up
        /// to 15 minutes after its first data point).
        #[arg(long, default_value_t = 900)]
        metrics_wait: u64,
        #[arg(long, default_value = "infra/samconfig.toml")]
        samconfig: PathBuf,
    },
    /// Make the schedule group follow the client files: create, update or delete each client's
    /// schedule (and its "no newsletter" alarm); prints one JSON line per client.
    SyncClients(SyncClientsArgs),
}

#[derive(clap::Args)]
struct DeploymentArgs {
    /// The environment (a table of --samconfig): dev, stage or prod. For promote, the target.
    #[arg(long, visible_alias = "to")]
    env: String,
    /// Template parameters over the environment's samconfig ones (Key=Value …).
    #[arg(long, num_args = 1..)]
    parameter_overrides: Vec<String>,
    /// The client bundle the stack will read (a directory or s3://bucket[/prefix]).
    #[arg(long, default_value = "fixtures")]
    config: PathBuf,
    #[arg(long, default_value = "infra/samconfig.toml")]
    samconfig: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum FindingsFormat {
    /// One line per finding, then the verdict.
    Text,
    /// The whole report as one JSON object.
    Json,
}

#[derive(clap::Args)]
struct SyncClientsArgs {
    /// Configuration: a directory or s3://BUCKET[/PREFIX] (the config bucket).
    #[arg(long, default_value = "fixtures")]
    config: PathBuf,
    /// Print the plan, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// The stack's schedule group (stack output ScheduleGroupName).
    #[arg(long, env = "VECTORA_SCHEDULE_GROUP")]
    schedule_group: Option<String>,
    #[command(flatten)]
    target: StateMachineArg,
    /// The role schedules start executions with (stack output SchedulerRoleArn).
    #[arg(long, env = "VECTORA_SCHEDULER_ROLE_ARN")]
    scheduler_role_arn: Option<String>,
    /// Whether this environment runs its schedules (stack output ScheduleState): ENABLED in
    /// prod, DISABLED elsewhere.
    #[arg(long, env = "VECTORA_SCHEDULE_STATE", value_enum, ignore_case = true)]
    schedule_state: Option<ScheduleStateArg>,
    /// The alarm topic (stack output AlarmTopicArn): when set, running schedules get a
    /// "no newsletter" alarm and rejected files are notified there.
    #[arg(long, env = "VECTORA_ALARM_TOPIC_ARN")]
    alarm_topic_arn: Option<String>,
    /// Namespace of the run metrics (as the assemble function's VECTORA_METRICS_NAMESPACE).
    #[arg(long, env = "VECTORA_METRICS_NAMESPACE", default_value = vectora_inbox::aws::cloudwatch::DEFAULT_METRICS_NAMESPACE)]
    metrics_namespace: String,
}

#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum ScheduleStateArg {
    Enabled,
    Disabled,
}

fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| format!("no {what}"))
}

#[derive(clap::Args)]
struct StateMachineArg {
    /// The state machine (the stack output StateMachineArn).
    #[arg(long, env = "VECTORA_STATE_MACHINE_ARN")]
    state_machine_arn: Option<String>,
}

impl StateMachineArg {
    fn arn(&self) -> Result<&str> {
        self.state_machine_arn.as_deref().filter(|a| !a.trim().is_empty()).context(
            "no state machine: pass --state-machine-arn or set VECTORA_STATE_MACHINE_ARN (the stack output StateMachineArn)",
        )
    }
}

#[derive(clap::Args)]
struct RunArgs {
    #[arg(long)]
    client: String,
    /// Configuration directory (clients/, scopes/, sources/, scoring/).
    #[arg(long, default_value = "fixtures")]
    config: PathBuf,
    /// Run date (YYYY-MM-DD); the window is the `period` days before it. Default: today (UTC).
    #[arg(long)]
    date: Option<NaiveDate>,
    /// Overrides the client's period_days.
    #[arg(long)]
    period_days: Option<u32>,
    /// Read each source's recorded capture instead of fetching it.
    #[arg(long)]
    offline: bool,
    #[arg(long, value_enum, default_value_t = EditorChoice::Template)]
    editor: EditorChoice,
    /// Output directory (run data at the top, newsletters under newsletters/).
    #[arg(long, default_value = "vectora-out")]
    store: String,
    /// Re-execute a failed or interrupted run: steps already done with the same input (and
    /// configuration) are not run again, nothing is refetched, no LLM call is paid twice.
    #[arg(long)]
    resume: bool,
    /// With --editor bedrock: ask the model again for every section instead of reusing the
    /// answers recorded for the same requests (accepted or refused).
    #[arg(long)]
    fresh_editorial: bool,
    /// How the deliver step carries the newsletter to the client's `delivery` recipients.
    #[arg(long, value_enum, default_value_t = DeliverChoice::None)]
    deliver: DeliverChoice,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeliverChoice {
    /// Send nothing (the summary's delivery says skipped).
    None,
    /// Write the message as newsletter.eml beside the newsletter; byte-identical between
    /// identical runs; no receipt.
    Eml,
    /// Send through SES v2 (standard AWS configuration chain; AWS_ENDPOINT_URL_SESV2), once:
    /// guarded by the delivery.json receipt.
    Ses,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Markdown: the first-run diagnostic, the trend table and the recommendations.
    Md,
    /// Everything as one JSON object.
    Json,
    /// A self-contained HTML page with a small SVG chart.
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum EditorChoice {
    /// Deterministic editorial text from the items' own facts; no network.
    Template,
    /// AWS Bedrock (Converse) through the standard AWS configuration chain; the template
    /// editor takes over a section whose answer fails.
    Bedrock,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindChoice {
    /// Any feed format, recognised from the content.
    Auto,
    Rss,
    Atom,
    Json,
    /// A PubMed efetch response (PubmedArticleSet).
    Pubmed,
    /// A news listing page, read with --selectors.
    Html,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli.command).await {
        let mut message = format!("{e}");
        for cause in e.chain().skip(1) {
            message.push_str(&format!(": {cause}"));
        }
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

async fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => run(args).await,
        Command::Parse {
            file,
            kind,
            selectors,
            source_url,
            content_type,
        } => parse(&file, kind, selectors, source_url, content_type),
        Command::Classify {
            client,
            config,
            date,
            explain,
            items,
        } => classify(&client, &config, date, explain, &items).await,
        Command::Step {
            name,
            input,
            config,
            store,
            offline,
            editor,
            fresh_editorial,
            deliver,
        } => {
            let mut ports = local_ports(&config, &store, offline).await?;
            if name == <steps::GenerateSection as steps::Step>::NAME {
                ports.editor = editor_for(&ports, editor, fresh_editorial, None).await?;
            }
            ports.mailer = mailer_for(&ports, deliver).await;
            step(&name, &input, ports).await
        }
        Command::Deliver {
            client,
            date,
            config,
            store,
            resend,
            via,
        } => {
            let mut ports = local_ports(&config, &store, false).await?;
            ports.mailer = mailer_for(&ports, via).await;
            let event =
                serde_json::json!({"client_id": client, "run_date": date, "resend": resend});
            let output = steps::dispatch(<steps::Deliver as steps::Step>::NAME, &ports, event)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.kind()))?;
            println!("{}", serde_json::to_string(&output)?);
            Ok(())
        }
        Command::Editorial(EditorialCommand::Preview {
            client,
            config,
            date,
            section,
            store,
            offline,
        }) => {
            let run_date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            preview(
                &client,
                &config,
                run_date,
                section.as_deref(),
                store,
                offline,
            )
            .await
        }
        Command::Report {
            client,
            store,
            last,
            format,
        } => report(&client, &store, last as usize, format).await,
        Command::Validate { config } => validate(&config).await,
        Command::Aws(command) => aws(command).await,
    }
}

async fn sync_clients(args: SyncClientsArgs) -> Result<()> {
    use vectora_inbox::schedules::{self, Scope, SyncSettings};
    let settings = SyncSettings::new(
        required(&args.schedule_group, "schedule group: pass --schedule-group or set VECTORA_SCHEDULE_GROUP (the stack output ScheduleGroupName)")?.to_string(),
        args.target.arn()?.to_string(),
        required(&args.scheduler_role_arn, "scheduler role: pass --scheduler-role-arn or set VECTORA_SCHEDULER_ROLE_ARN (the stack output SchedulerRoleArn)")?.to_string(),
        match args.schedule_state.context("no schedule state: pass --schedule-state ENABLED|DISABLED or set VECTORA_SCHEDULE_STATE (the stack output ScheduleState)")? {
            ScheduleStateArg::Enabled => true,
            ScheduleStateArg::Disabled => false,
        },
        args.alarm_topic_arn,
        args.metrics_namespace,
    );
    let config_store = open_config(&args.config).await?;
    let (schedules, alerts) = vectora_inbox::aws::scheduler::sync_adapters(&settings).await;
    let actions = schedules::sync(
        config_store.as_ref(),
        &Scope::All,
        &settings.deployment,
        &schedules,
        &alerts,
        args.dry_run,
    )
    .await?;
    let mut out = std::io::stdout().lock();
    for action in &actions {
        writeln!(out, "{}", serde_json::to_string(action)?)?;
    }
    Ok(())
}

async fn aws(command: AwsCommand) -> Result<()> {
    use vectora_inbox::aws::sfn;
    let command = match command {
        AwsCommand::Preflight { deployment, format } => {
            let (report, _) = preflight(&deployment).await?;
            let text = match format {
                FindingsFormat::Text => report.to_text(),
                FindingsFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
            };
            std::io::stdout().lock().write_all(text.as_bytes())?;
            if !report.passed() {
                std::process::exit(1);
            }
            return Ok(());
        }
        AwsCommand::Promote {
            deployment,
            from,
            template_file,
            records,
        } => {
            use vectora_inbox::deploy::promote;
            let source = match (&template_file, &from) {
                (Some(file), _) => promote::Source::File(file),
                (None, Some(env)) => promote::Source::Env(env),
                (None, None) => bail!("give --from ENV or --template-file PACKAGED.yaml"),
            };
            promote::check_order(&source, &deployment.env)?;
            let (template, sha256) = promote::artifact(source, &records)?;
            let (report, target) = preflight(&deployment).await?;
            eprint!("{}", report.to_text());
            let samconfig = std::fs::canonicalize(&deployment.samconfig)
                .with_context(|| format!("reading {}", deployment.samconfig.display()))?;
            let release = promote::promote(
                &template,
                &sha256,
                &samconfig,
                &target,
                &report,
                &vectora_inbox::ports::command::ProcessRunner,
                &records,
            )
            .await?;
            println!("{}", serde_json::to_string(&release)?);
            return Ok(());
        }
        AwsCommand::Smoke {
            env,
            target,
            newsletters,
            client,
            date,
            timeout,
            poll,
            metrics_wait,
            samconfig,
        } => {
            use vectora_inbox::deploy::{samconfig as sc, smoke};
            if !config::is_valid_id(&client) {
                bail!(
                    "--client {client:?} is not a client id: expected lower-case letters, digits and _"
                );
            }
            let file = samconfig.display().to_string();
            let text =
                std::fs::read_to_string(&samconfig).with_context(|| format!("reading {file}"))?;
            let environment = sc::environment(&file, &text, &env)?;
            let namespace = environment
                .parameters
                .get("MetricsNamespace")
                .cloned()
                .unwrap_or_else(|| {
                    vectora_inbox::aws::cloudwatch::DEFAULT_METRICS_NAMESPACE.to_string()
                });
            // The environment's region unless AWS_REGION says otherwise (as the SDK chain does).
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if std::env::var_os("AWS_REGION").is_none()
                && let Some(region) = environment.region.clone()
            {
                loader = loader.region(aws_config::Region::new(region));
            }
            let sdk = loader.load().await;
            let sfn_client = aws_sdk_sfn::Client::new(&sdk);
            let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
            let newsletters_store = store::Opener::default()
                .open("--newsletters", &newsletters)
                .await?;
            let report = smoke::run(
                &smoke::Target {
                    sfn: &sfn_client,
                    cloudwatch: &cloudwatch,
                    newsletters: newsletters_store.as_ref(),
                    state_machine_arn: target.arn()?,
                    namespace: &namespace,
                },
                &smoke::Plan {
                    client_id: client,
                    run_date: date.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                    timeout: std::time::Duration::from_secs(timeout),
                    poll: std::time::Duration::from_secs(poll),
                    metrics_attempts: smoke::Plan::attempts(metrics_wait, poll),
                },
            )
            .await;
            std::io::stdout()
                .lock()
                .write_all(report.to_text().as_bytes())?;
            if !report.passed() {
                std::process::exit(1);
            }
            return Ok(());
        }
        other => other,
    };
    let client = aws_sdk_sfn::Client::new(&vectora_inbox::aws::load_config().await);
    let mut out = std::io::stdout().lock();
    match command {
        AwsCommand::Start {
            client: client_id,
            date,
            period_days,
            target,
        } => {
            if !config::is_valid_id(&client_id) {
                bail!(
                    "--client {client_id:?} is not a client id: expected lower-case letters, digits and _ (as in clients/ID.yaml)"
                );
            }
            let run_date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let name = sfn::execution_name(&client_id, run_date);
            let input = sfn::execution_input(&client_id, period_days, run_date);
            let started = sfn::start(&client, target.arn()?, &name, &input).await?;
            if !started.new {
                eprintln!(
                    "{name} was already started: not starting it again (vectora aws status {} tells how it went)",
                    started.execution_arn
                );
            }
            writeln!(out, "{}", serde_json::to_string(&started)?)?;
        }
        AwsCommand::Status {
            execution_arn: Some(arn),
            ..
        } => {
            let described = sfn::describe(&client, &arn).await?;
            writeln!(out, "{}", serde_json::to_string(&described)?)?;
        }
        AwsCommand::Status {
            execution_arn: None,
            limit,
            target,
        } => {
            for execution in sfn::status(&client, target.arn()?, limit).await? {
                writeln!(out, "{}", serde_json::to_string(&execution)?)?;
            }
        }
        AwsCommand::Preflight { .. } | AwsCommand::Promote { .. } | AwsCommand::Smoke { .. } => {
            unreachable!("handled before the Step Functions client is made")
        }
        AwsCommand::Redrive { execution_arn } => {
            let redriven_at = sfn::redrive(&client, &execution_arn).await?;
            writeln!(
                out,
                "{}",
                serde_json::json!({"execution_arn": execution_arn, "redrive_date": redriven_at})
            )?;
        }
        AwsCommand::SyncClients(args) => sync_clients(args).await?,
    }
    Ok(())
}

/// The environment's samconfig parameters under the command line's, its clients from
/// `--config`, and the account (in the environment's region), checked.
async fn preflight(
    args: &DeploymentArgs,
) -> Result<(
    vectora_inbox::preflight::Report,
    vectora_inbox::preflight::Deployment,
)> {
    use vectora_inbox::deploy::samconfig;
    use vectora_inbox::preflight;
    let file = args.samconfig.display().to_string();
    let text =
        std::fs::read_to_string(&args.samconfig).with_context(|| format!("reading {file}"))?;
    let env = samconfig::environment(&file, &text, &args.env)?;
    let mut parameters = env.parameters;
    parameters.extend(samconfig::parse_overrides(
        "--parameter-overrides",
        &args.parameter_overrides,
    )?);
    let deployment = preflight::Deployment::new(&env.name, &env.stack_name, parameters);
    let config_store = open_config(&args.config).await?;
    let (clients, findings) = preflight::scheduled_clients(config_store.as_ref()).await;
    let region = env
        .region
        .as_deref()
        .unwrap_or(vectora_inbox::aws::DEFAULT_REGION);
    // The environment's region, whatever AWS_REGION says: its account is the one to read.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await;
    let account = vectora_inbox::aws::account::account(&sdk);
    let report = preflight::run(&deployment, &clients, findings, &account).await;
    Ok((report, deployment))
}

/// The configuration store `--config` names: a directory or `s3://bucket[/prefix]`.
async fn open_config(config: &Path) -> Result<Arc<dyn vectora_inbox::ports::ObjectStore>> {
    Ok(store::Opener::default()
        .open("--config", path_str(config)?)
        .await?)
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not a UTF-8 path", p.display()))
}

async fn local_ports(config: &Path, store: &str, offline: bool) -> Result<Ports> {
    let stores = store::open_local(path_str(config)?, store).await?;
    let fetcher: Arc<dyn Fetcher> = if offline {
        Arc::new(CaptureFetcher::new(stores.config.clone()))
    } else {
        Arc::new(HttpFetcher::new(HttpLimits {
            allow_file_urls: true,
            ..HttpLimits::default()
        })?)
    };
    Ok(Ports {
        stores,
        fetcher,
        editor: Arc::new(TemplateEditor),
        clock: Arc::new(SystemClock),
        metrics: Arc::new(MemoryMetrics::default()),
        secrets: Arc::new(EnvSecrets),
        mailer: None,
        concurrency: Default::default(),
    })
}

/// The carrier `--deliver` / `--via` names.
async fn mailer_for(ports: &Ports, choice: DeliverChoice) -> Option<Arc<dyn Mailer>> {
    match choice {
        DeliverChoice::None => None,
        DeliverChoice::Eml => Some(Arc::new(EmlFile::new(ports.stores.newsletters.clone()))),
        DeliverChoice::Ses => Some(Arc::new(SesMailer::new(SesMailer::client_from_env().await))),
    }
}

/// Progress on stderr: one line per step, per source and per section.
struct Progress;

impl ExecutionObserver for Progress {
    fn on_event(&self, event: &ExecutionEvent) {
        let line = match event {
            ExecutionEvent::StateEntered {
                state,
                map_index: None,
            } if !state.ends_with("Done") => Some(format!("▸ {state}")),
            ExecutionEvent::MapStarted {
                state,
                items,
                max_concurrency,
            } => Some(format!(
                "  {state}: {items} to process, {max_concurrency} at a time"
            )),
            ExecutionEvent::TaskFailed {
                state,
                map_index,
                error,
                cause,
            } => Some(format!("  ✗ {state}{}: {error}: {cause}", index(map_index))),
            ExecutionEvent::RetryScheduled {
                state,
                map_index,
                error,
                attempt,
                delay,
            } => Some(format!(
                "  ↻ {state}{}: {error}, retry {attempt} in {:.1}s",
                index(map_index),
                delay.as_secs_f64()
            )),
            ExecutionEvent::CaughtError {
                state,
                map_index,
                error,
                next,
            } => Some(format!(
                "  → {state}{}: {error} handled by {next}",
                index(map_index)
            )),
            ExecutionEvent::StateExited {
                state,
                map_index: Some(i),
            } if state == "SourceDone"
                || state == "GenerateSection"
                || state == "WriteWithTemplate" =>
            {
                Some(format!("  ✓ {state} #{i}"))
            }
            _ => None,
        };
        if let Some(line) = line {
            eprintln!("{line}");
        }
    }
}

fn index(i: &Option<usize>) -> String {
    i.map(|i| format!(" #{i}")).unwrap_or_default()
}

async fn run(args: RunArgs) -> Result<()> {
    let RunArgs {
        client,
        config,
        date,
        period_days,
        offline,
        editor,
        store,
        resume,
        fresh_editorial,
        deliver,
    } = args;
    let (client, config, store) = (client.as_str(), config.as_path(), store.as_str());
    let mut ports = local_ports(config, store, offline).await?;
    ports.editor = editor_for(&ports, editor, fresh_editorial, Some(client)).await?;
    ports.mailer = mailer_for(&ports, deliver).await;
    let run_date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let input = serde_json::json!({
        "client_id": client,
        "period_days": period_days,
        "run_date": run_date,
    });
    let name = format!("{client}-{run_date}");
    eprintln!(
        "vectora run {name} (config {}, store {store}{})",
        config.display(),
        if offline { ", offline" } else { "" }
    );
    let outcome = runner::execute_with(
        runner::DEFINITION,
        ports,
        input,
        &name,
        Some(Arc::new(Progress)),
        resume,
    )
    .await?;
    match outcome {
        Ok(output) => {
            println!("{}", serde_json::to_string(&output)?);
            Ok(())
        }
        Err(failure) => bail!("the run failed with {}: {}", failure.error, failure.cause),
    }
}

fn parse(
    file: &Path,
    kind: KindChoice,
    selectors: Option<PathBuf>,
    source_url: Option<String>,
    content_type: Option<String>,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let source_id = source_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "file".into());
    let origin = Origin {
        source_id: &source_id,
        url: source_url.as_deref(),
        content_type: content_type.as_deref(),
    };
    let parsed = match kind {
        KindChoice::Pubmed => pubmed::parse_efetch(&bytes, &origin),
        KindChoice::Html => {
            let Some(path) = selectors else {
                bail!("--kind html needs --selectors FILE.yaml (the catalogue's html.selectors block: item, title, link, date, summary, next_page)");
            };
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let selectors: PageSelectors = config::yaml::parse(&path.display().to_string(), &text)?;
            selectors.validate().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            html_page::parse_listing(&bytes, &selectors, &origin)
                .map(|l| normalize::Parsed { items: l.items, warnings: l.warnings })
        }
        KindChoice::Auto => normalize::parse(&bytes, Format::Auto, &origin),
        KindChoice::Rss => normalize::parse(&bytes, Format::Rss, &origin),
        KindChoice::Atom => normalize::parse(&bytes, Format::Atom, &origin),
        KindChoice::Json => normalize::parse(&bytes, Format::Json, &origin),
    }
    .with_context(|| format!("{}", file.display()))?;
    // Buffered: stdout alone flushes at every line, a write call per item.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for item in &parsed.items {
        serde_json::to_writer(&mut out, item)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    for w in &parsed.warnings {
        eprintln!("warning: {}: {w}", file.display());
    }
    if parsed.items.is_empty() && parsed.warnings.is_empty() {
        eprintln!("warning: {}: the document has no entries", file.display());
    }
    Ok(())
}

async fn classify(
    client: &str,
    config: &Path,
    date: Option<NaiveDate>,
    explain: bool,
    items: &Path,
) -> Result<()> {
    let config_store = open_config(config).await?;
    let bundle = load_client(config_store.as_ref(), client).await?;
    let classifier = match date {
        Some(run_date) => Classifier::new(&bundle, run_date)?,
        None => Classifier::relevance_only(&bundle)?,
    };
    let stdin = items.as_os_str() == "-";
    let name = if stdin {
        "standard input".to_string()
    } else {
        items.display().to_string()
    };
    let reader: Box<dyn std::io::BufRead> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(items).with_context(|| format!("reading {name}"))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let input: ClassifyInput = serde_json::from_str(&line).with_context(|| {
            format!(
                "{name} line {}: expected a JSON object {{title, url, published (RFC 3339 such as 2026-11-17T09:30:00Z, or 2026-11-17), text, source}}, as `vectora parse` prints",
                n + 1
            )
        })?;
        let decision = classifier.classify(&input);
        if explain {
            writeln!(out, "{} <{}>", input.title, decision.url)?;
            for line in decision.explain() {
                writeln!(out, "  {line}")?;
            }
        } else {
            writeln!(out, "{}", serde_json::to_string(&decision)?)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The editor `--editor` names. For Bedrock, the region comes from the standard chain, else
/// from the client's `editor.bedrock.region` (when the client is known), else the default.
async fn editor_for(
    ports: &Ports,
    editor: EditorChoice,
    fresh: bool,
    client: Option<&str>,
) -> Result<Arc<dyn vectora_inbox::ports::Editor>> {
    if fresh && matches!(editor, EditorChoice::Template) {
        bail!("--fresh-editorial goes with --editor bedrock: the template editor records nothing");
    }
    let EditorChoice::Bedrock = editor else {
        return Ok(Arc::new(TemplateEditor));
    };
    let mut region = vectora_inbox::aws::DEFAULT_REGION.to_string();
    if let Some(client) = client {
        let bundle = load_client(ports.stores.config.as_ref(), client).await?;
        let Some(bedrock) = &bundle.client.editor.bedrock else {
            bail!(
                "{}: editor.bedrock is missing: --editor bedrock needs the client's Bedrock settings",
                ports.stores.config.locate(&config::client_key(client))
            );
        };
        region = bedrock.region.clone();
    }
    let sdk = vectora_inbox::editorial::bedrock::client_from_env(&region).await;
    let editor = BedrockEditor::new(sdk, ports.stores.data.clone());
    Ok(Arc::new(if fresh { editor.fresh() } else { editor }))
}

/// `vectora editorial preview`: the selection of the run (from `--store`, or made afresh in a
/// scratch store with the template editor), then each section's request, printed.
async fn preview(
    client: &str,
    config: &Path,
    run_date: NaiveDate,
    section: Option<&str>,
    store: Option<String>,
    offline: bool,
) -> Result<()> {
    let scratch = match store {
        Some(_) => None,
        None => Some(std::env::temp_dir().join(format!(
            "vectora-preview-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ))),
    };
    let store = match (&store, &scratch) {
        (Some(store), _) => store.clone(),
        (None, Some(dir)) => path_str(dir)?.to_string(),
        (None, None) => unreachable!("a scratch store is made when --store is not given"),
    };
    let result = async {
        let ports = local_ports(config, &store, offline).await?;
        let bundle = load_client(ports.stores.config.as_ref(), client).await?;
        vectora_inbox::editorial::prompt::check_section(&bundle.client, section)?;
        if scratch.is_some() {
            eprintln!(
                "selecting {client}-{run_date} in a scratch store (template editor, no model call)"
            );
            let input = serde_json::json!({"client_id": client, "run_date": run_date});
            let name = format!("{client}-{run_date}");
            let data = ports.stores.data.clone();
            let outcome = runner::execute(runner::DEFINITION, ports, input, &name, None).await?;
            if let Err(failure) = outcome {
                bail!(
                    "selecting the run's items failed with {}: {}",
                    failure.error,
                    failure.cause
                );
            }
            vectora_inbox::editorial::prompt::preview(&bundle, data.as_ref(), run_date, section)
                .await
        } else {
            vectora_inbox::editorial::prompt::preview(
                &bundle,
                ports.stores.data.as_ref(),
                run_date,
                section,
            )
            .await
        }
        .map_err(anyhow::Error::from)
    }
    .await;
    if let Some(dir) = &scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

async fn report(client: &str, store: &str, last: usize, format: ReportFormat) -> Result<()> {
    use vectora_inbox::report::trends;
    let (_, news) = store::Opener::default().open_output(store).await?;
    let reports = trends::load(news.as_ref(), client, last).await?;
    let format = match format {
        ReportFormat::Md => trends::Format::Md,
        ReportFormat::Json => trends::Format::Json,
        ReportFormat::Html => trends::Format::Html,
    };
    let page = trends::render_trends(&trends::trends(client, &reports), format)?;
    std::io::stdout().lock().write_all(page.as_bytes())?;
    Ok(())
}

async fn step(name: &str, input: &Path, ports: Ports) -> Result<()> {
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let event: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", input.display()))?;
    // Journaled, as its Lambda would be.
    let output = vectora_inbox::journal::run_step(name, &ports, event, false)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.kind()))?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

async fn validate(config_dir: &Path) -> Result<()> {
    let config_store = open_config(config_dir).await?;
    let clients = config::list_clients(config_store.as_ref()).await?;
    if clients.is_empty() {
        bail!(
            "{}: no client configuration (clients/*.yaml)",
            config_dir.display()
        );
    }
    for id in &clients {
        let bundle = load_client(config_store.as_ref(), id).await?;
        for s in &bundle.sources {
            let Some(capture) = &s.capture else { continue };
            let key = format!("sources/{capture}");
            // A feed's capture is one file; html and pubmed captures are folders of documents.
            let present = if s.kind == SourceKind::Feed {
                config_store.get(&key).await?.is_some()
            } else {
                !config_store.list(&format!("{key}/")).await?.is_empty()
            };
            if !present {
                bail!(
                    "{}: capture of source {:?} does not exist",
                    config_store.locate(&key),
                    s.id
                );
            }
        }
        println!(
            "ok   client {id}: {} sources, {} sections",
            bundle.sources.len(),
            bundle.client.sections.len()
        );
    }
    runner::load_definition(runner::DEFINITION)?;
    println!("ok   state machine statemachine/newsletter.asl.json");
    Ok(())
}
