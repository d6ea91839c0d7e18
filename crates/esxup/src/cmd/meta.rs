//! `esxup completions SHELL` and `esxup man [-o DIR]`: shell completion
//! scripts (clap_complete) and man pages (clap_mangen), both generated from
//! the same clap definition as `--help`, so they list exactly what works.

use super::{out, EXIT_OK};
use crate::cli::Cli;
use anyhow::Context;
use clap::CommandFactory;
use std::path::PathBuf;

/// Print a shell completion script.
///
/// bash: `esxup completions bash > ~/.local/share/bash-completion/completions/esxup`;
/// zsh: `esxup completions zsh > ~/.zfunc/_esxup` (with `fpath+=~/.zfunc` before `compinit`);
/// fish: `esxup completions fish > ~/.config/fish/completions/esxup.fish`;
/// PowerShell: `esxup completions powershell >> $PROFILE`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the man page of esxup, or write one page per command into DIR.
///
/// `esxup man -o ~/.local/share/man/man1` writes `esxup.1`,
/// `esxup-check.1`, `esxup-depot-dry-run.1`, ...; then `man esxup-check`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `esxup.1` and one `esxup-<command>.1` per command into DIR
    /// (created if missing) instead of printing `esxup.1`.
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn run_completions(a: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "esxup", &mut buf);
    out::write_stdout(&String::from_utf8_lossy(&buf))?;
    Ok(EXIT_OK)
}

pub fn run_man(a: ManArgs) -> anyhow::Result<u8> {
    let cmd = Cli::command();
    match a.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("create man page folder {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("write man pages into {}", dir.display()))?;
            eprintln!("wrote the esxup man pages into {}", dir.display());
        }
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf).context("render the man page")?;
            out::write_stdout(&String::from_utf8_lossy(&buf))?;
        }
    }
    Ok(EXIT_OK)
}
