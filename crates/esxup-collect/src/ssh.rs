//! Collector over SSH (libssh2 through the `ssh2` crate): runs the fixed
//! read-only command list on the host.
//!
//! - Host keys are checked like OpenSSH: against `~/.ssh/known_hosts` (or
//!   `--known-hosts FILE`), or against a pinned `SHA256:` fingerprint. An
//!   unknown key is refused with its fingerprint and the flag that pins it;
//!   a changed key is refused loudly.
//! - Authentication: a key file (`--identity`), the ssh-agent, then a
//!   password (from `ESXUP_SSH_PASSWORD`, `--password-file` or a prompt; never
//!   from the command line), tried as `password` and `keyboard-interactive`
//!   (ESXi's sshd offers the latter).
//! - Every network wait is bounded by the timeout.

use crate::commands::{Output, Source};
use crate::error::CollectError;
use base64::Engine;
use sha2::Digest;
use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest output read from one command.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// `user@host[:port]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        let (user, rest) =
            s.split_once('@').ok_or_else(|| format!("expected USER@HOST[:PORT], found {s:?} (no `@`)"))?;
        if user.is_empty() {
            return Err(format!("expected USER@HOST[:PORT], found {s:?} (empty user)"));
        }
        // `[::1]:2222`, `host:2222`, `host`
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| format!("unclosed `[` in {s:?}"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("bad port {p:?} in {s:?}"))?,
                None if after.is_empty() => 22,
                None => return Err(format!("unexpected {after:?} after `]` in {s:?}")),
            };
            (h.to_string(), port)
        } else if let Some((h, p)) = rest.rsplit_once(':') {
            (h.to_string(), p.parse().map_err(|_| format!("bad port {p:?} in {s:?}"))?)
        } else {
            (rest.to_string(), 22)
        };
        if host.is_empty() {
            return Err(format!("expected USER@HOST[:PORT], found {s:?} (empty host)"));
        }
        Ok(Target { user: user.to_string(), host, port })
    }
}

/// How to check the host key.
#[derive(Clone, Debug)]
pub enum HostKeyPolicy {
    /// An OpenSSH known_hosts file.
    KnownHosts(PathBuf),
    /// A pinned `SHA256:base64` fingerprint.
    Fingerprint(String),
}

/// Everything the SSH collector needs. `Debug` leaves the password out.
#[derive(Clone)]
pub struct SshOptions {
    pub target: Target,
    pub host_key: HostKeyPolicy,
    pub identity: Option<PathBuf>,
    /// Try the ssh-agent (when `SSH_AUTH_SOCK` is set).
    pub use_agent: bool,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshOptions")
            .field("target", &self.target)
            .field("host_key", &self.host_key)
            .field("identity", &self.identity)
            .field("use_agent", &self.use_agent)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `SHA256:` + unpadded base64 of the SHA-256 of the key blob, as OpenSSH prints it.
pub fn fingerprint(key: &[u8]) -> String {
    let digest = sha2::Sha256::digest(key);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

/// The default known_hosts file (`~/.ssh/known_hosts`).
pub fn default_known_hosts() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ssh").join("known_hosts"))
}

/// Reads a password with echo off from the terminal.
pub fn prompt_password(target: &Target) -> Option<String> {
    rpassword::prompt_password(format!("{}@{}'s password: ", target.user, target.host)).ok()
}

/// An authenticated SSH session to one host.
pub struct SshSource {
    session: ssh2::Session,
    target: Target,
    timeout: Duration,
}

fn key_type_name(t: ssh2::HostKeyType) -> &'static str {
    match t {
        ssh2::HostKeyType::Rsa => "ssh-rsa",
        ssh2::HostKeyType::Dss => "ssh-dss",
        ssh2::HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        ssh2::HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        ssh2::HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        ssh2::HostKeyType::Ed25519 => "ssh-ed25519",
        ssh2::HostKeyType::Unknown => "unknown",
    }
}

fn is_timeout(e: &ssh2::Error) -> bool {
    matches!(e.code(), ssh2::ErrorCode::Session(-9)) || e.message().to_ascii_lowercase().contains("timed out")
}

fn io_is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)
        || e.to_string().to_ascii_lowercase().contains("timed out")
}

impl SshSource {
    /// Connects, checks the host key, authenticates.
    pub fn connect(opts: &SshOptions) -> Result<SshSource, CollectError> {
        let t = &opts.target;
        let target = t.to_string();
        let secs = opts.timeout.as_secs().max(1);
        let addrs: Vec<_> = (t.host.as_str(), t.port)
            .to_socket_addrs()
            .map_err(|e| CollectError::Connect { target: target.clone(), message: format!("resolve: {e}") })?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, opts.timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            let e = last.map(|e| e.to_string()).unwrap_or_else(|| "no address".into());
            CollectError::Connect { target: target.clone(), message: e }
        })?;
        let _ = tcp.set_read_timeout(Some(opts.timeout));
        let _ = tcp.set_write_timeout(Some(opts.timeout));
        let mut session = ssh2::Session::new()
            .map_err(|e| CollectError::Connect { target: target.clone(), message: e.to_string() })?;
        session.set_timeout(u32::try_from(opts.timeout.as_millis()).unwrap_or(u32::MAX));
        session.set_tcp_stream(tcp);
        session.handshake().map_err(|e| {
            if is_timeout(&e) {
                CollectError::Timeout {
                    target: target.clone(),
                    seconds: secs,
                    during: "during the SSH handshake".into(),
                }
            } else {
                CollectError::Connect { target: target.clone(), message: format!("SSH handshake: {e}") }
            }
        })?;
        check_host_key(&session, opts)?;
        authenticate(&session, opts)?;
        Ok(SshSource { session, target: t.clone(), timeout: opts.timeout })
    }

    /// Runs one command: `(exit status, stdout, stderr)`.
    pub fn run(&mut self, command: &str) -> Result<(i32, Vec<u8>, String), CollectError> {
        self.exec(command, None)
    }

    /// Runs one command with `input` on its standard input (then end of
    /// file): how a file is written to the host (`cat > PATH`) and how a
    /// secret reaches a command without being part of its command line.
    pub fn run_with_input(
        &mut self,
        command: &str,
        input: &mut dyn Read,
    ) -> Result<(i32, Vec<u8>, String), CollectError> {
        self.exec(command, Some(input))
    }

    fn exec(
        &mut self,
        command: &str,
        input: Option<&mut dyn Read>,
    ) -> Result<(i32, Vec<u8>, String), CollectError> {
        let target = self.target.to_string();
        let secs = self.timeout.as_secs().max(1);
        let during = format!("waiting for `{command}`");
        let map = |e: ssh2::Error| {
            if is_timeout(&e) {
                CollectError::Timeout { target: target.clone(), seconds: secs, during: during.clone() }
            } else {
                CollectError::Ssh {
                    target: target.clone(),
                    during: format!("run `{command}`"),
                    message: e.to_string(),
                }
            }
        };
        let map_io = |e: std::io::Error| {
            if io_is_timeout(&e) {
                CollectError::Timeout { target: target.clone(), seconds: secs, during: during.clone() }
            } else {
                CollectError::Ssh {
                    target: target.clone(),
                    during: format!("read output of `{command}`"),
                    message: format!("{e} (connection lost?)"),
                }
            }
        };
        let mut ch = match self.session.channel_session() {
            Ok(ch) => ch,
            Err(e) => {
                self.session.set_blocking(false);
                return Err(map(e));
            }
        };
        let r = (|| {
            ch.exec(command).map_err(map)?;
            if let Some(input) = input {
                let map_w = |e: std::io::Error| CollectError::Ssh {
                    target: target.clone(),
                    during: format!("send input of `{command}`"),
                    message: format!("{e} (connection lost?)"),
                };
                std::io::copy(input, &mut ch).map_err(map_w)?;
                ch.send_eof().map_err(map)?;
            }
            let mut out = Vec::new();
            (&mut ch).take(MAX_OUTPUT_BYTES as u64).read_to_end(&mut out).map_err(map_io)?;
            let mut err = Vec::new();
            ch.stderr().take(64 * 1024).read_to_end(&mut err).map_err(map_io)?;
            ch.wait_close().map_err(map)?;
            let status = ch.exit_status().map_err(map)?;
            Ok((status, out, String::from_utf8_lossy(&err).trim().to_string()))
        })();
        if r.is_err() {
            // The session is unusable now: do not wait again (another full
            // timeout) to close the channel and the session politely.
            self.session.set_blocking(false);
        }
        drop(ch);
        r
    }
}

fn check_host_key(session: &ssh2::Session, opts: &SshOptions) -> Result<(), CollectError> {
    let t = &opts.target;
    let target = t.to_string();
    let (key, ktype) = session.host_key().ok_or_else(|| CollectError::Connect {
        target: target.clone(),
        message: "server sent no host key".into(),
    })?;
    let fp = fingerprint(key);
    let key_type = key_type_name(ktype).to_string();
    match &opts.host_key {
        HostKeyPolicy::Fingerprint(pin) => {
            let want = if pin.starts_with("SHA256:") { pin.clone() } else { format!("SHA256:{pin}") };
            if want.trim_end_matches('=') == fp {
                Ok(())
            } else {
                Err(CollectError::HostKeyMismatch {
                    target,
                    fingerprint: fp,
                    key_type,
                    detail: format!(" (pinned: {want})"),
                })
            }
        }
        HostKeyPolicy::KnownHosts(file) => {
            let mut kh = session
                .known_hosts()
                .map_err(|e| CollectError::Connect { target: target.clone(), message: e.to_string() })?;
            let readable = file.exists();
            if readable {
                kh.read_file(file, ssh2::KnownHostFileKind::OpenSSH).map_err(|e| CollectError::Connect {
                    target: target.clone(),
                    message: format!("read known_hosts {}: {e}", file.display()),
                })?;
            }
            match kh.check_port(&t.host, t.port, key) {
                ssh2::CheckResult::Match => Ok(()),
                ssh2::CheckResult::Mismatch => Err(CollectError::HostKeyMismatch {
                    target,
                    fingerprint: fp,
                    key_type,
                    detail: format!(" in {}", file.display()),
                }),
                ssh2::CheckResult::NotFound | ssh2::CheckResult::Failure => {
                    Err(CollectError::UnknownHostKey {
                        target,
                        fingerprint: fp,
                        key_type,
                        detail: if readable {
                            format!(" (not in {})", file.display())
                        } else {
                            format!(" ({} does not exist)", file.display())
                        },
                    })
                }
            }
        }
    }
}

fn authenticate(session: &ssh2::Session, opts: &SshOptions) -> Result<(), CollectError> {
    let t = &opts.target;
    let target = t.to_string();
    let mut tried = Vec::new();
    let methods = session.auth_methods(&t.user).unwrap_or("").to_string();
    if session.authenticated() {
        return Ok(());
    }
    if let Some(id) = &opts.identity {
        tried.push(format!("publickey {}", id.display()));
        if !id.exists() {
            return Err(CollectError::Input(format!("identity file {} does not exist", id.display())));
        }
        if session.userauth_pubkey_file(&t.user, None, id, None).is_ok() && session.authenticated() {
            return Ok(());
        }
    }
    if opts.identity.is_none() {
        // Like OpenSSH: the default key files, when they exist.
        for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
            let Some(home) = std::env::var_os("HOME") else { break };
            let key = PathBuf::from(home).join(".ssh").join(name);
            if key.exists() {
                tried.push(format!("publickey {}", key.display()));
                if session.userauth_pubkey_file(&t.user, None, &key, None).is_ok() && session.authenticated()
                {
                    return Ok(());
                }
            }
        }
    }
    if opts.use_agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
        tried.push("ssh-agent".into());
        if let Ok(mut agent) = session.agent() {
            if agent.connect().is_ok() && agent.list_identities().is_ok() {
                for id in agent.identities().unwrap_or_default() {
                    if agent.userauth(&t.user, &id).is_ok() && session.authenticated() {
                        return Ok(());
                    }
                }
            }
        }
    }
    if let Some(pw) = &opts.password {
        if methods.is_empty() || methods.contains("password") {
            tried.push("password".into());
            if session.userauth_password(&t.user, pw).is_ok() && session.authenticated() {
                return Ok(());
            }
        }
        if methods.is_empty() || methods.contains("keyboard-interactive") {
            tried.push("keyboard-interactive".into());
            let mut p = PasswordPrompt(pw.clone());
            if session.userauth_keyboard_interactive(&t.user, &mut p).is_ok() && session.authenticated() {
                return Ok(());
            }
        }
    }
    if tried.is_empty() {
        tried.push(format!("nothing: give --identity, run an ssh-agent, or set ESXUP_SSH_PASSWORD (server offers: {methods})"));
    }
    Err(CollectError::Auth { target, user: t.user.clone(), tried: tried.join(", ") })
}

struct PasswordPrompt(String);

impl ssh2::KeyboardInteractivePrompt for PasswordPrompt {
    fn prompt<'a>(
        &mut self,
        _username: &str,
        _instructions: &str,
        prompts: &[ssh2::Prompt<'a>],
    ) -> Vec<String> {
        prompts.iter().map(|_| self.0.clone()).collect()
    }
}

impl Source for SshSource {
    fn label(&self) -> String {
        format!("ssh:{}", self.target)
    }

    fn fetch(
        &mut self,
        command: &str,
        _file_name: &str,
        _vm_support: &[&str],
    ) -> Result<Output, CollectError> {
        let (status, out, err) = self.run(command)?;
        // Some commands print their answer with a non-zero status
        // (`slpd status` of a stopped service): keep any output, and an
        // empty one of a command that succeeded.
        if status == 0 || !out.iter().all(u8::is_ascii_whitespace) {
            return Ok(Output::Bytes(out));
        }
        let first = err.lines().next().unwrap_or("").to_string();
        Ok(Output::Missing(format!("`{command}` failed with status {status}: {first}")))
    }
}

/// Reads a password file: its first line, without the line end.
pub fn read_password_file(path: &Path) -> Result<String, CollectError> {
    let s = std::fs::read_to_string(path)
        .map_err(|e| CollectError::Input(format!("read password file {}: {e}", path.display())))?;
    Ok(s.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t: Target = "root@esx1:2222".parse().unwrap();
        assert_eq!((t.user.as_str(), t.host.as_str(), t.port), ("root", "esx1", 2222));
        let t: Target = "root@[::1]:22".parse().unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!("root@esx1".parse::<Target>().unwrap().port, 22);
        assert!("esx1".parse::<Target>().is_err());
        assert!("root@esx1:x".parse::<Target>().is_err());
    }

    #[test]
    fn fingerprint_format() {
        // SHA-256 of the empty string, base64 without padding.
        assert_eq!(fingerprint(b""), "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
    }
}
