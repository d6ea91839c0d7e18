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

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet` for the whole process (set once by `dispatch`), for progress
/// drawn deep inside a command (depot downloads).
pub fn set_quiet(q: bool) {
    QUIET.store(q, std::sync::atomic::Ordering::Relaxed);
}

/// A download bar on stderr (bytes, rate, ETA), one per download, cleared
/// when it ends: only when stderr is a terminal and `--quiet` is not given
/// (piped stderr stays free of redraws).
struct DownloadBar {
    /// `downloading`, `uploading`.
    verb: &'static str,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl esxup_depot::DownloadProgress for DownloadBar {
    fn start(&self, url: &str, total: Option<u64>) {
        let pb = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{msg} {bar:25} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
        } else {
            "{msg} {spinner} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            pb.set_style(style);
        }
        // The URL is the masked one (a Broadcom token never shows); only its
        // last segment, escaped, fits the line.
        let name = url.rsplit('/').find(|s| !s.is_empty()).unwrap_or(url);
        pb.set_message(format!("{} {}", self.verb, visible(name)));
        pb.tick();
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(pb);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(pb) = b.as_ref() {
                pb.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(pb) = b.take() {
                pb.finish_and_clear();
            }
        }
    }
}

/// The download progress for depot options, or `None` (not a terminal, or `--quiet`).
pub fn download_progress() -> Option<esxup_depot::Progress> {
    transfer_bar("downloading")
}

/// The progress of `esxup run`'s bundle upload, or `None` (as above).
pub fn upload_progress() -> Option<esxup_depot::Progress> {
    transfer_bar("uploading")
}

fn transfer_bar(verb: &'static str) -> Option<esxup_depot::Progress> {
    use std::io::IsTerminal;
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(esxup_depot::Progress(std::sync::Arc::new(DownloadBar { verb, bar: std::sync::Mutex::new(None) })))
}
