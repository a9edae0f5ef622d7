//! The `socialcx` command. All the work is in the library (`socialcx::cli`).

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc: ingest allocates and frees millions of small strings a second on every core,
/// where it is faster than the system allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = socialcx::cli::Cli::parse();
    let serving = matches!(cli.command, Some(socialcx::cli::Command::Serve(_)));
    let clustering = matches!(cli.command, Some(socialcx::cli::Command::Cluster(_)));
    let default_level = match cli.verbose {
        // A server logs one line per query (who, what, duration, rows, outcome).
        0 if serving => "warn,socialcx::server=info",
        // A cluster role logs its jobs and tasks as Ballista reports them.
        0 if clustering => "warn,ballista_scheduler=info,ballista_executor=info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SOCIALCX_LOG")
                .unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let code = match socialcx::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    std::process::exit(code);
}
