//! The `meshbox` binary: parse flags, set up logging, run the command, print any error once with its chain and exit
//! with the code that says whose problem it was (`commands::exit_code`).

use clap::Parser;
use meshbox::cli::args::{Cli, Command};
use meshbox::cli::commands::{self, INTERNAL};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("meshbox=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // A panic is a bug: the default hook has printed it; the message says it was meshbox's fault, not the input's.
    let Ok(result) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli.command))) else {
        say_error("internal error (a bug in meshbox; the panic above says where)");
        return ExitCode::from(INTERNAL);
    };
    match result {
        Ok(code) => code,
        // The reader of standard output has gone (`| head -1`): it had what it wanted.
        Err(e) if commands::is_closed_output(&e) => ExitCode::SUCCESS,
        Err(e) if commands::is_unusable(&e) => {
            say_error(&format!("{e:#}"));
            ExitCode::from(commands::UNUSABLE)
        }
        Err(e) => {
            say_error(&format!("meshbox failed (not your input): {e:#}"));
            // Check failures are reported through Ok(1); an error means meshbox could not do its job at all.
            ExitCode::from(INTERNAL)
        }
    }
}

/// One malloc arena per core instead of glibc's eight: DuckDB's worker threads each filled an arena of their own and
/// kept it, so a long-running `serve` grew by a fifth over 2,000 rebuilds (`meshbox bench soak`). Set before any
/// thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        // SAFETY: mallopt only changes a malloc tuning parameter; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores as libc::c_int);
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Validate(args) => commands::validate(&args),
        Command::Test(args) => commands::test(&args),
        Command::Lint(args) => commands::lint(&args),
        Command::Bench(what) => commands::bench(&what),
        Command::Init(args) => commands::init(&args),
        Command::Export(args) => commands::export(&args),
        Command::Diff(args) => commands::diff(&args, false),
        Command::Breaking(args) => commands::diff(&args, true),
        Command::New(args) => commands::new(&args),
        Command::Import(what) => commands::import(&what),
        Command::Serve(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                let served = rt.block_on(commands::serve(args));
                // Stopped during the first load: the load still running is not waited for.
                rt.shutdown_timeout(std::time::Duration::from_secs(1));
                served
            }),
        Command::Mcp(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(commands::mcp(args))),
    }
}

/// `meshbox: error: …` on standard error; a closed standard error is no reason to panic either.
fn say_error(message: &str) {
    let _ = writeln!(std::io::stderr(), "meshbox: error: {message}");
}
