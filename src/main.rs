//! The `meshbox` binary: parse flags, set up logging, run the command, print any error once with its chain.

use clap::Parser;
use meshbox::cli::args::{Cli, Command};
use meshbox::cli::commands::{self, UNUSABLE};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("meshbox=info,warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
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
            .and_then(|rt| rt.block_on(commands::serve(args))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshbox: error: {e:#}");
            // Check failures are reported through Ok(1); an error means meshbox could not do its job at all.
            ExitCode::from(UNUSABLE)
        }
    }
}
