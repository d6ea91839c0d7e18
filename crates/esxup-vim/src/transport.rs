//! Pieces shared by the HTTP clients of esxup (the vSphere SOAP client
//! here, the online-depot cache in esxup-depot) for naming transport
//! failures by their cause: a socket timeout, the library error as a cause
//! without the URL repeated, timeouts written as the user gave them.

use std::time::Duration;

/// `3 s`, `1.5 s`: a timeout as the user gave it.
pub fn fmt_secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} s", (d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}

/// A socket timeout: `TimedOut`, or `WouldBlock` (EAGAIN) which is what a
/// read timeout gives on Linux.
pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)
}

/// The transport error of the HTTP library as the cause of ours: its kind
/// and message without the URL (ours names it) or its own cause (the next
/// link of the chain shows it).
#[derive(Debug)]
pub struct HttpCause(pub ureq::Transport);

impl std::fmt::Display for HttpCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.kind())?;
        if let Some(m) = self.0.message() {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}
