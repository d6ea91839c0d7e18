//! Network errors name their cause, against real peers started here (issue
//! 14, item 6): a port that accepts and never answers (a timeout, not
//! "os error 11"), a plain-HTTP server (not TLS, not "InvalidContentType"),
//! and `openssl s_server` with a 1024-bit RSA certificate (a key too short
//! for the TLS library, not "BadSignature", whatever the TLS mode). Each
//! error keeps the library's error as its source.

use esxup_vim::tls::{rsa_key_bits, sha256_thumbprint};
use esxup_vim::{Client, ConnectOptions, Error, ShortKey, Thumbprint, TlsMode, TlsOptions};
use std::error::Error as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn opts(port: u16, mode: TlsMode, timeout: Duration) -> ConnectOptions {
    ConnectOptions {
        url: format!("https://127.0.0.1:{port}"),
        user: "root".into(),
        password: "secret".into(),
        tls: TlsOptions { mode, ca_file: None },
        timeout,
    }
}

/// Every link of the error chain below `e`, as text.
fn chain(e: &Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out
}

/// The first link of the chain (or an `io::Error` wrapping it) of type `T`.
fn find<T: std::error::Error + 'static>(e: &Error) -> Option<&T> {
    let mut cur = e.source();
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(t) =
            c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref())
        {
            return Some(t);
        }
        cur = c.source();
    }
    None
}

fn transport_message(e: &Error) -> &str {
    match e {
        Error::Transport { message, .. } => message,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// A port that accepts connections and never sends a byte.
fn silent_peer() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

/// A plain-HTTP server: reads what the client sends and answers `400`.
fn plain_http_peer() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad request",
                );
                let _ = s.shutdown(Shutdown::Write);
                let _ = std::io::copy(&mut s, &mut std::io::sink());
            });
        }
    });
    port
}

#[test]
fn a_port_that_never_answers_times_out_after_the_configured_timeout() {
    let port = silent_peer();
    let start = Instant::now();
    let err = Client::connect(&opts(port, TlsMode::Insecure, Duration::from_secs(1))).unwrap_err();
    let took = start.elapsed();
    assert_eq!(
        err.to_string(),
        format!("RetrieveServiceContent https://127.0.0.1:{port}/sdk: timed out after 1 s")
    );
    assert_eq!(transport_message(&err), "timed out after 1 s");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(10), "{took:?}");
    // The cause stays in the chain: the socket's timeout (EAGAIN on Linux).
    let io = find::<std::io::Error>(&err).expect("an io::Error in the chain");
    assert!(matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{io:?}");
    let c = chain(&err);
    assert_eq!(c.first().map(String::as_str), Some("Connection Failed: tls connection init failed"), "{c:?}");
    assert_eq!(c.last(), Some(&io.to_string()), "{c:?}");
}

#[test]
fn a_plain_http_server_is_named_as_not_tls() {
    let port = plain_http_peer();
    for mode in [TlsMode::Verify, TlsMode::Insecure] {
        let err = Client::connect(&opts(port, mode.clone(), Duration::from_secs(10))).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("RetrieveServiceContent https://127.0.0.1:{port}/sdk: the server did not answer TLS (plain http?)"),
            "{mode:?}"
        );
        let r = find::<rustls::Error>(&err).expect("the rustls error in the chain");
        assert_eq!(r, &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType));
        let c = chain(&err);
        assert!(c.iter().any(|l| l.contains("InvalidContentType")), "{c:?}");
    }
}

/// `openssl s_server` with a certificate and key of `dir`, killed on drop.
struct SServer {
    child: Child,
    port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `openssl s_server -www` on `cert`/`key`, at security level 0 so
/// that OpenSSL 3 agrees to use a 1024-bit key. `Err` tells why it could not.
fn s_server(cert: &Path, key: &Path) -> Result<SServer, String> {
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .args(["-www", "-cipher", "DEFAULT@SECLEVEL=0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("run openssl s_server: {e}"))?;
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let mut ready = false;
        while out.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if line.contains("ACCEPT") {
                ready = true;
                break;
            }
            line.clear();
        }
        if ready {
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            // It listens: a plain connection succeeds.
            let deadline = Instant::now() + Duration::from_secs(5);
            while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Ok(SServer { child, port });
        }
        let _ = child.wait();
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        if !err.contains("ddress already in use") {
            return Err(format!("openssl s_server did not start: {}", err.trim()));
        }
    }
    Err("openssl s_server: no free port".into())
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("esxup-vim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A self-signed certificate made by `openssl req` with `newkey`; (cert, key).
fn self_signed(dir: &Path, newkey: &[&str]) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509"])
        .args(newkey)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .output()
        .map_err(|e| format!("run openssl req: {e}"))?;
    if !out.status.success() {
        return Err(format!("openssl req: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok((cert, key))
}

fn cert_der(pem: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_file(pem).unwrap().to_vec()
}

const SHORT_KEY: &str = "the server's certificate uses a key too short for the TLS library (1024-bit RSA, it needs 2048 \
                         bits or more): replace the host certificate (ESXi 6.x hosts may still have such certificates)";

#[test]
fn a_1024_bit_rsa_certificate_is_named_in_every_tls_mode() {
    let dir = temp_dir("short-key");
    let (cert, key) = match self_signed(&dir, &["-newkey", "rsa:1024"]) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("SKIPPED a_1024_bit_rsa_certificate_is_named_in_every_tls_mode: openssl cannot make a 1024-bit certificate: {e}");
            return;
        }
    };
    let der = cert_der(&cert);
    assert_eq!(rsa_key_bits(&der), Some(1024));
    let server = match s_server(&cert, &key) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("SKIPPED a_1024_bit_rsa_certificate_is_named_in_every_tls_mode: openssl cannot serve a 1024-bit certificate: {e}");
            return;
        }
    };
    let pin = TlsMode::Pin(Thumbprint::parse(&sha256_thumbprint(&der)).unwrap());
    for mode in [TlsMode::Insecure, pin, TlsMode::Verify] {
        let err = Client::connect(&opts(server.port, mode.clone(), Duration::from_secs(10))).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("RetrieveServiceContent https://127.0.0.1:{}/sdk: {SHORT_KEY}", server.port),
            "{mode:?}"
        );
        assert!(matches!(err, Error::Transport { .. }), "{mode:?}: {err:?}");
        // The chain keeps the TLS library's refusal, with the key size.
        let k = find::<ShortKey>(&err).or_else(|| match find::<rustls::Error>(&err) {
            Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))) => o.0.downcast_ref(),
            _ => None,
        });
        assert_eq!(k.map(|k| k.bits), Some(1024), "{mode:?}: {:?}", chain(&err));
        let c = chain(&err);
        assert!(c.iter().any(|l| l.contains("invalid peer certificate")), "{c:?}");
        assert!(!c.iter().any(|l| l.contains("BadSignature")), "{c:?}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rsa_key_bits_reads_rsa_keys_only_and_never_panics() {
    let dir = temp_dir("key-bits");
    let der = match self_signed(&dir, &["-newkey", "rsa:2048"]) {
        Ok((cert, _)) => cert_der(&cert),
        Err(e) => {
            eprintln!("SKIPPED rsa_key_bits_reads_rsa_keys_only_and_never_panics: {e}");
            return;
        }
    };
    assert_eq!(rsa_key_bits(&der), Some(2048));
    for n in 0..der.len() {
        let _ = rsa_key_bits(&der[..n]);
    }
    let mut flipped = der.clone();
    for i in 0..flipped.len().min(400) {
        flipped[i] ^= 0xff;
        let _ = rsa_key_bits(&flipped);
        flipped[i] ^= 0xff;
    }
    let (ec, _) = self_signed(&dir, &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]).unwrap();
    assert_eq!(rsa_key_bits(&cert_der(&ec)), None);
    let _ = std::fs::remove_dir_all(&dir);
}
