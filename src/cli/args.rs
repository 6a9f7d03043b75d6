//! Command-line flags (clap) and their resolution, once, into the settings the rest of meshbox uses.

use crate::checks::pipeline::Options;
use crate::lifecycle::export::ExportFormat;
use crate::live::watch::WatchMode;
use crate::load::ingest::EngineSettings;
use crate::serve::query::Limits;
use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Time;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "meshbox",
    version,
    about = "A data mesh in a folder: ODPS/ODCS products loaded into DuckDB, tested, and served"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the catalog and SQL console for a mesh folder (without DIR: the bundled sample mesh).
    Serve(ServeArgs),
    /// Speak MCP on standard input/output as one role, for AI assistants and IDEs (without DIR: the sample mesh).
    Mcp(McpArgs),
    /// Load a mesh, run every contract check, print a summary; exit 1 when a blocking check fails.
    Validate(ValidateArgs),
    /// Test one ODCS contract against its data (a drop-in for `datacontract test`).
    Test(TestArgs),
    /// Check ODCS contracts and ODPS descriptors against the rules of their version; every problem at once.
    Lint(LintArgs),
    /// What changed between two versions of an ODCS contract, each change classified breaking or not.
    Diff(DiffArgs),
    /// Like `diff`, but exits 1 when a change would break consumers (as `datacontract breaking` does).
    Breaking(DiffArgs),
    /// Export the mesh: ODCS/ODPS (every field kept), dbt sources with tests, SQL DDL, or Markdown docs.
    Export(ExportArgs),
    /// Create a new mesh folder: mesh.yaml with roles, the default policy set, one example product.
    Init(InitArgs),
    /// Scaffold a product from a data file: an ODCS contract inferred with DuckDB and an ODPS descriptor.
    New(NewArgs),
    /// Bring a contract written elsewhere into the mesh.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Measure meshbox (use a release build), or write a synthetic mesh to measure with.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// Cold start and p50/p95 render times of the catalog pages (sample mesh and a synthetic mesh).
    Render {
        #[arg(long, default_value_t = 1000)]
        products: usize,
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Write-to-query latency through the watcher, reload cost at 10 and 1,000 products, and a soak of edits.
    Reload {
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long, default_value_t = 1000)]
        edits: usize,
    },
    /// The cost of masking: a 1M-row aggregate as admin vs a masked role, and the memory of each profile.
    Access {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Search latency, page and lineage render times, cold start and memory on a synthetic mesh.
    Discovery {
        #[arg(long, default_value_t = 1000)]
        products: usize,
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// Cold start of `meshbox serve` to its first answer and to a loaded catalog, per phase, with memory, beside the
    /// floor (the same files read by DuckDB in one process): the sample mesh and a synthetic mesh.
    Start {
        #[arg(long, default_value_t = 1000)]
        products: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The meshbox binaries to start, side by side (default: this one).
        #[arg(long = "binary")]
        binaries: Vec<PathBuf>,
    },
    /// Memory and open files over many edits (a rebuild after each), sampled every 100 edits.
    Soak {
        #[arg(long, default_value_t = 2000)]
        edits: usize,
    },
    /// Write a synthetic mesh (products with lineage, tags and PII columns) into a new folder.
    Generate {
        dir: PathBuf,
        #[arg(long, default_value_t = 1000)]
        products: usize,
        #[arg(long, default_value_t = 50)]
        domains: usize,
        #[arg(long, default_value_t = 50)]
        rows: usize,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// DuckDB worker threads (default: all cores).
    #[arg(long, env = "MESHBOX_THREADS")]
    pub threads: Option<usize>,
    /// DuckDB memory limit, e.g. `4GB` (default: 80% of RAM).
    #[arg(long, env = "MESHBOX_MEMORY_LIMIT")]
    pub memory_limit: Option<String>,
    /// Where meshbox keeps caches and DuckDB spill files (never inside the mesh folder).
    #[arg(long, env = "MESHBOX_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Prefer the contract server with this name (default: mesh.yaml `settings.server`, else the first local one).
    #[arg(long)]
    pub server: Option<String>,
    /// "Now" for SLA checks, as RFC 3339 (e.g. 2026-01-31T12:00:00Z); default: the clock.
    #[arg(long, env = "MESHBOX_NOW")]
    pub now: Option<String>,
    /// Leave out paths matching this glob (relative to the mesh folder; repeatable). The folder's .gitignore applies too.
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The mesh folder; without it, the sample mesh bundled into meshbox.
    pub dir: Option<PathBuf>,
    #[arg(long, default_value_t = 7700)]
    pub port: u16,
    /// Address to listen on; anything but loopback exposes the console to the network (and locks the roles that
    /// read more than the least privileged one behind a token printed at start).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Lock the privileged roles behind a token even on loopback (a room on one machine, a shared screen).
    #[arg(long)]
    pub lock_roles: bool,
    /// The address people use to reach meshbox (e.g. http://trainer-laptop.local:7700/): its host name is answered
    /// besides the loopback names and the bound address, and it is the address printed at start.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Time limit of one console query, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub sql_time_limit_ms: u64,
    /// Rows returned by one console query (more are flagged `truncated`).
    #[arg(long, default_value_t = 1000)]
    pub max_rows: usize,
    /// Rows one export (CSV/JSON download) may hold.
    #[arg(long, default_value_t = 100_000)]
    pub export_max_rows: usize,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Port of the Postgres wire endpoint (psql, BI tools; the user name is the role), on the --bind address
    /// [default: 7732; when that port is taken, serve goes on without the endpoint, with a warning].
    #[arg(long, value_name = "PORT")]
    pub pg_port: Option<u16>,
    /// Do not listen for Postgres clients.
    #[arg(long)]
    pub no_pg: bool,
    /// Rows one query through the Postgres endpoint may return (results stream; a larger one ends with an error).
    #[arg(long, default_value_t = 1_000_000)]
    pub pg_max_rows: usize,
    /// Do not watch the folder for changes.
    #[arg(long)]
    pub no_watch: bool,
    /// How to watch the folder: native notifications, or polling (network drives, containers).
    #[arg(long, value_enum, default_value_t = WatchMode::Native)]
    pub watch: WatchMode,
    /// Where meshbox keeps its own state (audit log, hash salt), never inside the mesh folder
    /// [default: $XDG_STATE_HOME/meshbox/<mesh-id> or ~/.local/state/meshbox/<mesh-id>].
    #[arg(long, env = "MESHBOX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions annotations on the file and line of each problem.
    Github,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// The mesh folder (default: the current folder).
    pub dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// meshbox's state folder for this mesh (contract history); default as for `serve`.
    #[arg(long, env = "MESHBOX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// The ODCS contract file.
    pub contract: PathBuf,
    #[arg(long, alias = "output-format", value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output (as `datacontract test --output`).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// When the data is missing (a server path with no file, nothing to test): `fail` (exit 1: a contract that
    /// tested nothing did not pass) or `warn` (a warning and exit 0, as datacontract-cli does).
    #[arg(long, value_enum, default_value_t = MissingData::Fail)]
    pub missing_data: MissingData,
    /// Check categories to run, comma-separated: properties, quality, slaProperties, custom (or the legacy schema,
    /// servicelevel).
    #[arg(long)]
    pub checks: Option<String>,
    /// Quality dimensions to run, comma-separated (accuracy, completeness, conformity, consistency, coverage,
    /// timeliness, uniqueness): rules declaring one, and the schema and SLA checks that count for one.
    #[arg(long)]
    pub dimension: Option<String>,
    /// Quality rule (or SLA property) ids to run, comma-separated; an id the contract does not have is an error.
    #[arg(long)]
    pub quality_id: Option<String>,
    /// Run the quality rules declaring one of these tags (comma-separated).
    #[arg(long)]
    pub tag: Option<String>,
    /// Test only this schema object (`all`: every one).
    #[arg(long)]
    pub schema_name: Option<String>,
    /// A SQL predicate keeping the rows under test, e.g. "ingested_at >= current_date - 1" (one schema under test).
    /// Presence, types and SQL rules see every row.
    #[arg(long)]
    pub filter: Option<String>,
    /// Row predicates per schema object, as JSON: '{"orders": "ingested_at >= current_date - 1"}'.
    #[arg(long)]
    pub filters: Option<String>,
    /// Run only the checks that read no row values (presence and types); the others are listed as skipped.
    #[arg(long)]
    pub metadata_only: bool,
    /// Put up to five failed rows per check in the JSON report (classified columns masked).
    #[arg(long)]
    pub include_failed_samples: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl TestArgs {
    /// The selection flags, as given.
    pub fn selection_flags(&self) -> crate::checks::select::Flags {
        crate::checks::select::Flags {
            checks: self.checks.clone(),
            dimension: self.dimension.clone(),
            quality_id: self.quality_id.clone(),
            tag: self.tag.clone(),
            schema_name: self.schema_name.clone(),
            filter: self.filter.clone(),
            filters: self.filters.clone(),
            metadata_only: self.metadata_only,
        }
    }
}

/// What `meshbox test` makes of missing data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MissingData {
    Fail,
    Warn,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The older contract file.
    pub old: PathBuf,
    /// The newer contract file.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The mesh folder.
    pub dir: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// A folder (odcs, odps) or file (the others) to write; default standard output. Never inside the mesh.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The folder to create (it may exist; files in it are never overwritten without --force).
    pub dir: PathBuf,
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// DOMAIN/PRODUCT, e.g. sales/orders.
    pub product: String,
    /// The data file (CSV, Parquet, JSON/NDJSON) to infer the contract from; it is copied into the product folder.
    #[arg(long)]
    pub from: PathBuf,
    /// The mesh folder.
    #[arg(long, default_value = ".")]
    pub mesh: PathBuf,
    /// The table name (default: the product name with underscores).
    #[arg(long)]
    pub table: Option<String>,
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// An ODCS contract: copied into <domain>/<product>/ with the data its local servers name, plus an ODPS descriptor.
    Odcs {
        file: PathBuf,
        #[arg(long, default_value = ".")]
        mesh: PathBuf,
        /// Default: the contract's `domain`.
        #[arg(long)]
        domain: Option<String>,
        /// Default: the contract's `dataProduct`, else its name.
        #[arg(long)]
        product: Option<String>,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct LintArgs {
    /// A manifest file, or a folder (every manifest in it).
    pub target: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `meshbox mcp`: the MCP server over stdio. The same mesh, state folder (audit log, hash salt) and query limits as
/// `serve`; one role for the session.
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// The mesh folder; without it, the sample mesh bundled into meshbox.
    pub dir: Option<PathBuf>,
    /// The role the assistant acts as (default: the mesh's default role). Roles are chosen, not authenticated.
    #[arg(long)]
    pub role: Option<String>,
    /// Time limit of one query, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub sql_time_limit_ms: u64,
    /// Rows one `query` call returns (at most 200: a model's context is small; more are flagged `truncated`).
    #[arg(long, default_value_t = 200)]
    pub max_rows: usize,
    /// Do not watch the folder for changes.
    #[arg(long)]
    pub no_watch: bool,
    /// How to watch the folder: native notifications, or polling (network drives, containers).
    #[arg(long, value_enum, default_value_t = WatchMode::Native)]
    pub watch: WatchMode,
    /// Where meshbox keeps its own state (audit log, hash salt), never inside the mesh folder; default as for `serve`.
    #[arg(long, env = "MESHBOX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

impl McpArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            time_limit: Duration::from_millis(self.sql_time_limit_ms),
            max_rows: self.max_rows.clamp(1, crate::serve::mcp::ROW_CAP),
        }
    }
}

/// The state folder of the mesh at `root`: `flag`, else `$XDG_STATE_HOME/meshbox/<mesh-id>` or
/// `~/.local/state/meshbox/<mesh-id>`, where the id is the folder's name and a hash of its full path.
pub fn state_dir(flag: Option<&PathBuf>, root: &std::path::Path) -> PathBuf {
    if let Some(d) = flag {
        return d.clone();
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("meshbox");
    let name: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mesh".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = crate::governance::audit::statement_hash(&root.to_string_lossy());
    base.join(format!("{name}-{}", &hash[..8]))
}

/// `$MESHBOX_CACHE_DIR`, `$XDG_CACHE_HOME/meshbox`, `~/.cache/meshbox`, or the system temp folder.
pub fn cache_dir(flag: Option<&PathBuf>) -> PathBuf {
    if let Some(d) = flag {
        return d.clone();
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("meshbox");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("meshbox");
    }
    std::env::temp_dir().join("meshbox")
}

impl EngineArgs {
    /// Resolves the flags into load options. Fails on an unreadable `--now`.
    pub fn options(&self, allow_outside_root: bool) -> anyhow::Result<Options> {
        let cache = cache_dir(self.cache_dir.as_ref());
        let now_micros = match &self.now {
            None => None,
            Some(text) => Some(parse_instant(text).map_err(|reason| {
                anyhow::anyhow!("--now: `{text}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({reason})")
            })?),
        };
        Ok(Options {
            engine: EngineSettings {
                threads: self.threads,
                memory_limit: self.memory_limit.clone(),
                temp_dir: cache.join("duckdb-tmp").join(std::process::id().to_string()),
            },
            server: self.server.clone(),
            allow_outside_root,
            now_micros,
            profiles: false,
            pii: false,
            ignore: self.ignore.clone(),
            state_dir: None,
            paths_fallback: None,
            selection: Default::default(),
            progress: Default::default(),
        })
    }
}

impl ServeArgs {
    /// The host of `--public-url` (`http://Name.lan:7700/x` → `name.lan`; `[fe80::1]` keeps its brackets off).
    pub fn public_host(&self) -> Result<Option<String>, String> {
        let Some(url) = &self.public_url else {
            return Ok(None);
        };
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| format!("--public-url `{url}` must start with http:// or https://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        crate::serve::http::AllowedHosts::host_of(authority)
            .map(Some)
            .ok_or_else(|| format!("--public-url `{url}` does not name a host (like http://meshbox.lan:7700/)"))
    }

    pub fn limits(&self) -> Limits {
        Limits {
            time_limit: Duration::from_millis(self.sql_time_limit_ms),
            max_rows: self.max_rows,
        }
    }
}

/// `2026-01-31`, `2026-01-31T12:00:00Z`, `2026-01-31 12:00:00.5+02:00` → microseconds since the epoch (UTC).
/// A date alone is its midnight and a time without an offset is UTC; a date that does not exist is refused.
pub fn parse_rfc3339_micros(text: &str) -> Option<i64> {
    parse_instant(text).ok()
}

/// Like [`parse_rfc3339_micros`], with jiff's reason when the text is not a time (`2026-02-31` has no day 31).
pub fn parse_instant(text: &str) -> Result<i64, String> {
    let pieces = Pieces::parse(text.trim()).map_err(|e| e.to_string())?;
    if pieces.time_zone_annotation().is_some() {
        return Err("time zone names are not read; write the offset, e.g. +02:00".into());
    }
    let time = pieces.time().unwrap_or(Time::midnight());
    let offset = pieces.to_numeric_offset().unwrap_or(Offset::UTC);
    let instant = offset
        .to_timestamp(pieces.date().to_datetime(time))
        .map_err(|e| e.to_string())?;
    Ok(instant.as_microsecond())
}

/// `--watch native|poll`: the live stage's watch mode, named for the command line here so `live` needs no clap.
impl ValueEnum for WatchMode {
    fn value_variants<'a>() -> &'a [Self] {
        &[WatchMode::Native, WatchMode::Poll]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            WatchMode::Native => clap::builder::PossibleValue::new("native")
                .help("Native file system notifications (inotify, FSEvents, ...)"),
            WatchMode::Poll => clap::builder::PossibleValue::new("poll").help(
                "Compare the folder every second: for network drives, container bind mounts, and when notifications fail",
            ),
        })
    }
}

/// `meshbox export --format`: the lifecycle stage's export formats, named for the command line here.
impl ValueEnum for ExportFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            ExportFormat::Odcs,
            ExportFormat::Odps,
            ExportFormat::DbtSources,
            ExportFormat::SqlDdl,
            ExportFormat::Markdown,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            ExportFormat::Odcs => "odcs",
            ExportFormat::Odps => "odps",
            ExportFormat::DbtSources => "dbt-sources",
            ExportFormat::SqlDdl => "sql-ddl",
            ExportFormat::Markdown => "markdown",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339_micros("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(parse_rfc3339_micros("2024-01-01"), Some(1_704_067_200_000_000));
        assert_eq!(
            parse_rfc3339_micros("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200_000_000)
        );
        assert_eq!(parse_rfc3339_micros("yesterday"), None);
    }

    #[test]
    fn the_accepted_time_formats() {
        let noon_utc = 1_769_860_800_000_000; // 2026-01-31T12:00:00Z
        assert_eq!(parse_instant("2026-01-31"), Ok(noon_utc - 12 * 3_600_000_000));
        assert_eq!(parse_instant("2026-01-31T12:00:00Z"), Ok(noon_utc));
        assert_eq!(parse_instant("2026-01-31t12:00:00z"), Ok(noon_utc));
        assert_eq!(
            parse_instant(" 2026-01-31T12:00:00Z\n"),
            Ok(noon_utc),
            "surrounding blanks"
        );
        assert_eq!(parse_instant("2026-01-31T12:00:00"), Ok(noon_utc), "no offset: UTC");
        assert_eq!(parse_instant("2026-01-31T12:00Z"), Ok(noon_utc), "no seconds");
        assert_eq!(
            parse_instant("2026-01-31 12:00:00.5+02:00"),
            Ok(noon_utc - 2 * 3_600_000_000 + 500_000)
        );
        assert_eq!(
            parse_instant("2026-01-31T12:00:00-05:30"),
            Ok(noon_utc + 19_800_000_000)
        );
        assert_eq!(
            parse_instant("1969-12-31T23:59:59Z"),
            Ok(-1_000_000),
            "before the epoch"
        );
    }

    #[test]
    fn impossible_dates_and_times_are_refused() {
        for text in [
            "2026-02-31",
            "2026-02-29T00:00:00Z",
            "2025-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-32",
            "2026-01-31T24:30:00Z",
            "2026-01-31T12:61:00Z",
            "2026-01-31T12:00:00+26:00",
            "2026-01-31T12:00:00Z[Europe/Berlin]",
            "2026-1-31",
            "31.01.2026",
            "",
        ] {
            assert!(parse_instant(text).is_err(), "{text:?} was accepted");
        }
        assert_eq!(
            parse_instant("2024-02-29"),
            Ok(1_709_164_800_000_000),
            "a leap day exists"
        );
    }

    #[test]
    fn a_refused_now_names_the_flag_and_the_reason() {
        let cli = Cli::try_parse_from(["meshbox", "validate", "--now", "2026-02-31"]).unwrap();
        let Command::Validate(args) = cli.command else {
            panic!("validate expected")
        };
        let message = args.engine.options(false).unwrap_err().to_string();
        assert!(
            message.starts_with("--now: `2026-02-31` is not an RFC 3339 time"),
            "{message}"
        );
        assert!(message.contains("day"), "jiff says what is wrong: {message}");
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from(["meshbox", "serve", "--port", "8080"]).unwrap();
        match cli.command {
            Command::Serve(a) => {
                assert_eq!(a.port, 8080);
                assert_eq!(a.bind.to_string(), "127.0.0.1");
                assert!(a.dir.is_none());
                assert!(!a.lock_roles);
                assert_eq!(a.public_host(), Ok(None));
            }
            _ => panic!("serve expected"),
        }
    }

    #[test]
    fn mcp_flags_parse() {
        let cli = Cli::try_parse_from(["meshbox", "mcp", "mesh", "--role", "analyst"]).unwrap();
        let Command::Mcp(a) = cli.command else {
            panic!("mcp expected")
        };
        assert_eq!(a.dir, Some(PathBuf::from("mesh")));
        assert_eq!(a.role.as_deref(), Some("analyst"));
        assert_eq!(a.limits().max_rows, 200);
        let cli = Cli::try_parse_from(["meshbox", "mcp", "--max-rows", "5000"]).unwrap();
        let Command::Mcp(a) = cli.command else {
            panic!("mcp expected")
        };
        assert!(a.dir.is_none() && a.role.is_none());
        assert_eq!(a.limits().max_rows, 200, "the cap holds whatever the flag says");
    }

    #[test]
    fn public_url_names_a_host() {
        let host = |url: &str| {
            let cli = Cli::try_parse_from(["meshbox", "serve", "--lock-roles", "--public-url", url]).unwrap();
            match cli.command {
                Command::Serve(a) => {
                    assert!(a.lock_roles);
                    a.public_host()
                }
                _ => panic!("serve expected"),
            }
        };
        assert_eq!(host("http://Trainer.local:7700/"), Ok(Some("trainer.local".into())));
        assert_eq!(host("https://meshbox.example"), Ok(Some("meshbox.example".into())));
        assert_eq!(host("http://[fe80::1]:7700"), Ok(Some("fe80::1".into())));
        assert!(host("meshbox.example").is_err());
        assert!(host("http://user@evil.example/").is_err());
        assert!(host("http:///x").is_err());
    }

    #[test]
    fn postgres_endpoint_flags_parse() {
        let serve = |args: &[&str]| match Cli::try_parse_from([&["meshbox", "serve"], args].concat())
            .unwrap()
            .command
        {
            Command::Serve(a) => a,
            _ => panic!("serve expected"),
        };
        let defaults = serve(&[]);
        assert_eq!(
            (defaults.pg_port, defaults.no_pg, defaults.pg_max_rows),
            (None, false, 1_000_000)
        );
        let set = serve(&["--pg-port", "15432", "--no-pg", "--pg-max-rows", "10"]);
        assert_eq!((set.pg_port, set.no_pg, set.pg_max_rows), (Some(15432), true, 10));
    }
}
