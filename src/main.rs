//! The `iamd` command line: the server, and the operations commands around it. The commands
//! are defined here (clap derives the parser, the help and the errors); each runs in
//! `src/cli/`.

mod cli;

use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Self-hosted server for the Pelion Device Management Account Management API v3.
///
/// With no command, runs the server.
#[derive(Parser)]
#[command(
    name = "iamd",
    version,
    after_help = "Settings come from built-in defaults, then FILE (or $IAMD_CONFIG), then \
                  IAMD_* environment variables; see config.example.toml.",
    // A server flag before a command (`iamd --config F backup`) is an error, not ignored.
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    config: ConfigFile,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct ConfigFile {
    /// Configuration file (TOML)
    #[arg(long, short = 'c', value_name = "FILE", env = "IAMD_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the configuration (TLS files included) and print it, secrets hidden
    CheckConfig(ConfigFile),
    /// Back up a stopped server's data directory, or a running server (--url)
    Backup(cli::backup::BackupArgs),
    /// Check a backup file's framing and checksum
    VerifyBackup {
        /// The backup file
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
    /// Restore a backup into a new or empty data directory
    Restore {
        /// The backup file
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The data directory to create or fill
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Copy a stopped server's database into an empty store of another engine: a data
    /// directory (sled) to PostgreSQL or back, through the logical backup
    MigrateStore {
        /// The data directory or postgres:// URL to copy from (left unchanged)
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// The new or empty data directory, or empty PostgreSQL database, to copy into
        #[arg(long, value_name = "DIR|URL")]
        to: String,
    },
    /// Check every record and index of a stopped server's data directory (exit 1 on any
    /// problem)
    Verify {
        /// The data directory
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Mint a root admin API key for a stopped server (--data-dir), or print a fresh one to
    /// give the first start as IAMD_ADMIN_API_KEY (--new)
    AdminKey(cli::admin_key::AdminKeyArgs),
    /// Apply a seed file (tenants, users, keys, groups, certificates, colors, images) to a
    /// stopped server's data directory, or to a running server in dev mode (--url)
    Seed(cli::seed::SeedArgs),
    /// Write an account (users, groups, certificates, identity providers, colors, images;
    /// tenants with --tenants) as a JSON document, read through the public API
    Export(cli::transfer::ExportArgs),
    /// Build an exported account in a server through its public API (new passwords, printed)
    Import(cli::transfer::ImportArgs),
    /// Copy an account from any server that speaks the API into another (ids mapped, printed)
    Mirror(cli::transfer::MirrorArgs),
    /// Print a systemd unit for running iamd as a service
    SystemdUnit,
    /// Print the documented example configuration (every key, its default and its variable)
    ConfigExample,
    /// Print a shell completion script (e.g. `iamd completions bash > /etc/bash_completion.d/iamd`)
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `iamd man > /usr/local/share/man/man1/iamd.1`), or
    /// the page of one command (`iamd man backup > .../iamd-backup.1`)
    Man {
        /// The command whose page to print
        command: Option<String>,
    },
}

/// The systemd unit shipped with this release (documented in README.md).
const SYSTEMD_UNIT: &str = include_str!("systemd/iamd.service");

fn main() -> ExitCode {
    // Whatever the caller's umask: the data directory holds keys and password hashes.
    iamd::private::set_umask();
    // Bad usage exits 2 with clap's message naming the argument; --help and --version 0.
    let cli = Cli::parse();
    match cli.command {
        None => cli::server::serve(cli.config.config.as_deref()),
        Some(Command::CheckConfig(file)) => cli::server::check_config(file.config.as_deref()),
        Some(Command::Backup(args)) => cli::backup::backup(&args),
        Some(Command::VerifyBackup { input }) => cli::backup::verify(&input),
        Some(Command::Restore { input, data_dir }) => cli::backup::restore(&input, &data_dir),
        Some(Command::MigrateStore { from, to }) => cli::backup::migrate_store(&from, &to),
        Some(Command::Verify { data_dir }) => cli::verify::verify(&data_dir),
        Some(Command::AdminKey(args)) => cli::admin_key::admin_key(&args),
        Some(Command::Seed(args)) => cli::seed::seed(&args),
        Some(Command::Export(args)) => cli::transfer::export(&args),
        Some(Command::Import(args)) => cli::transfer::import(&args),
        Some(Command::Mirror(args)) => cli::transfer::mirror(&args),
        Some(Command::SystemdUnit) => {
            print!("{SYSTEMD_UNIT}");
            ExitCode::SUCCESS
        }
        Some(Command::ConfigExample) => {
            print!("{}", iamd::config::EXAMPLE);
            ExitCode::SUCCESS
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "iamd", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Some(Command::Man { command }) => man(command.as_deref()),
    }
}

/// `iamd man [COMMAND]`: the page of iamd, or of one of its commands (`iamd-COMMAND(1)`, as
/// the main page's list names them).
fn man(command: Option<&str>) -> ExitCode {
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub
                .clone()
                .name(format!("iamd-{name}"))
                .bin_name(format!("iamd {name}"))
                .version(env!("CARGO_PKG_VERSION"))
                .disable_version_flag(true),
            None => {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                let known = names.join(", ");
                return cli::fail(
                    cli::USAGE_ERROR,
                    &format!("no command {name}; the commands: {known}"),
                );
            }
        },
    };
    match clap_mangen::Man::new(page).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(cli::FAILED, &format!("cannot write the manual page: {e}")),
    }
}
