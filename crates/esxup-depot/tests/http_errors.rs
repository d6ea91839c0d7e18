//! Network errors of online depots name their cause: real peers started in
//! the test (a server that accepts and never answers, one that closes at
//! once, a refused port, a plain-HTTP server behind an https:// URL), each
//! opened with `Depot::open_with`, and the HTTP library's error kept in the
//! `source` chain.

use esxup_depot::{Depot, DepotError, OpenOptions};
use std::error::Error as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Starts a peer on a free port; `serve` handles every connection.
fn peer(serve: fn(TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Opens `url` with a 1 s timeout and an empty cache; returns the error and
/// how long it took.
fn open_err(url: &str) -> (DepotError, Duration) {
    let t = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        cache_dir: Some(t.path().to_path_buf()),
        timeout: Duration::from_secs(1),
        ..OpenOptions::default()
    };
    let start = Instant::now();
    let e = Depot::open_with(url, &opts).expect_err("opening must fail");
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0, "nothing cached for a failed fetch");
    (e, start.elapsed())
}

/// Every link of the error's source chain, outermost first.
fn chain(e: &DepotError) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c);
        cur = c.source();
    }
    out
}

/// The io::Error kinds found in the source chain.
fn io_kinds(e: &DepotError) -> Vec<std::io::ErrorKind> {
    chain(e).iter().filter_map(|c| c.downcast_ref::<std::io::Error>()).map(|io| io.kind()).collect()
}

fn assert_transport(e: &DepotError, url: &str, message: &str) {
    match e {
        DepotError::Transport { url: u, message: m, source } => {
            assert_eq!(u, url);
            assert_eq!(m, message);
            assert!(source.is_some(), "the HTTP library's error is kept as the source");
        }
        other => panic!("not a transport error: {other:?}"),
    }
    assert_eq!(e.to_string(), format!("fetch {url}: {message}"));
}

#[test]
fn a_server_that_never_answers_times_out_after_the_configured_timeout() {
    let port = peer(|mut s| {
        // Accept, read the request, never answer; hold the socket until the client goes.
        let mut buf = [0u8; 4096];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let url = format!("http://127.0.0.1:{port}/depot/index.xml");
    let (e, took) = open_err(&url);
    assert_transport(&e, &url, "timed out after 1 s");
    assert!(took < Duration::from_secs(10), "bounded by the timeout: {took:?}");
    assert!(!e.to_string().contains("os error 11"), "{e}");
    let kinds = io_kinds(&e);
    assert!(
        kinds.iter().any(|k| matches!(k, std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)),
        "the socket timeout stays in the chain: {kinds:?}"
    );
}

#[test]
fn a_server_that_closes_at_once_is_named() {
    let port = peer(drop);
    let url = format!("http://127.0.0.1:{port}/depot/index.xml");
    let (e, _) = open_err(&url);
    assert_transport(&e, &url, "the server closed the connection without answering");
    let kinds = io_kinds(&e);
    use std::io::ErrorKind as K;
    assert!(
        kinds.iter().any(|k| matches!(
            k,
            K::UnexpectedEof | K::ConnectionAborted | K::ConnectionReset | K::BrokenPipe
        )),
        "the closed socket stays in the chain: {kinds:?}"
    );
}

#[test]
fn a_refused_port_says_connection_refused() {
    // Bind then drop a listener: the port is (very likely) closed now.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/depot/index.xml");
    let (e, _) = open_err(&url);
    assert_transport(
        &e,
        &url,
        "unreachable: connection refused (is the depot server running? is the port right?)",
    );
    assert!(io_kinds(&e).contains(&std::io::ErrorKind::ConnectionRefused), "{:?}", chain(&e));
    // The library's own words are in the chain, once each, without the URL.
    let texts: Vec<String> = chain(&e).iter().map(|c| c.to_string()).collect();
    assert!(texts.iter().any(|t| t.contains("Connect error")), "{texts:?}");
    assert!(texts.iter().all(|t| !t.contains(&url)), "{texts:?}");
}

#[test]
fn https_to_a_plain_http_server_says_it_did_not_answer_tls() {
    let port = peer(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let url = format!("https://127.0.0.1:{port}/depot/index.xml");
    let (e, _) = open_err(&url);
    assert_transport(&e, &url, "the server did not answer TLS (plain http?)");
    let not_tls = chain(&e).iter().any(|c| {
        let r = c.downcast_ref::<ureq::rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref())
        });
        matches!(
            r,
            Some(ureq::rustls::Error::InvalidMessage(ureq::rustls::InvalidMessage::InvalidContentType))
        )
    });
    assert!(not_tls, "rustls' InvalidContentType stays in the chain: {:?}", chain(&e));
}
