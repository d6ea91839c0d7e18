//! Standard output of every command. Data goes through [`write_stdout`] so
//! that a reader who stops reading (`esxup build 17700523 --format json |
//! head -c 1`) ends the run quietly with status 0, as a Unix filter does:
//! `main` recognises the closed pipe with [`is_broken_pipe`] (and, for any
//! `print!` left in a command, with [`install_broken_pipe_hook`]).

use std::io::Write;

/// `text` with every control character except newline and tab shown as an
/// escape (`\x1b`): host names, VM names and saved outputs come from hosts
/// and files, and a raw `ESC[2J` in them would act on the terminal.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes `text` to standard output (control characters made [`visible`])
/// and flushes it.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let text = visible(text);
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| anyhow::Error::new(e).context("write to standard output"))
}

/// Writes a typed output of a data command (`build`, `releases`,
/// `advisories`, `kb-lint`, `depot ...`, `vib show`): its text renderer for
/// `--format table`, JSON (`esxup_render::json`) for `--format json`.
pub fn emit<T: serde::Serialize>(
    format: super::build::Format,
    v: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    match format {
        super::build::Format::Json => write_stdout(&esxup_render::json::to_json(v)),
        super::build::Format::Table => write_stdout(&text(v)),
    }
}

/// [`write_stdout`] with a final newline when `text` lacks one.
pub fn write_stdout_line(text: &str) -> anyhow::Result<()> {
    // (write_stdout makes control characters visible.)
    if text.ends_with('\n') {
        write_stdout(text)
    } else {
        write_stdout(&format!("{text}\n"))
    }
}

/// Whether the error is a closed standard output (EPIPE): the reader went
/// away, which is not a failure of the command.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `print!`/`println!` panic when standard output is a closed pipe (Rust
/// ignores SIGPIPE). This hook turns exactly that panic into a quiet exit 0
/// and leaves every other panic to the default hook.
pub fn install_broken_pipe_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
