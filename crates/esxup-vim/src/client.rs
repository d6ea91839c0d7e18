//! The SOAP session: HTTPS transport (ureq + rustls), the envelope, faults,
//! login with one re-login on session expiry, the PropertyCollector with
//! container views and paging, and task waiting.
//!
//! Transport errors name their cause, not the symptom the libraries report:
//! `timed out after 3 s` (not EAGAIN, "os error 11"), `the server did not
//! answer TLS (plain http?)` (not rustls' InvalidContentType), a certificate
//! key too short for the TLS library (not BadSignature). The library's error
//! stays the `source` of [`Error::Transport`].

use crate::tls::{client_config, SeenCert, ShortKey, TlsMode, TlsOptions};
use crate::transport::{fmt_secs, is_timeout, HttpCause};
use crate::xml::{escape, Node};
use crate::{Error, Fault, MoRef};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest response body accepted (a page of RetrievePropertiesEx is far smaller).
const MAX_BODY: u64 = 512 * 1024 * 1024;
/// Objects per RetrievePropertiesEx page.
pub const DEFAULT_PAGE: u32 = 500;

/// Where and how to connect. `Debug` leaves the password out.
#[derive(Clone)]
pub struct ConnectOptions {
    /// `https://host[:port][/sdk]`, `host` or `host:port`.
    pub url: String,
    pub user: String,
    pub password: String,
    pub tls: TlsOptions,
    /// Connect, read and write timeout of each request.
    pub timeout: Duration,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"***")
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A URL split the way govc's `GOVC_URL` allows it (`user:pass@host`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkUrl {
    /// `https://host:port/sdk`
    pub url: String,
    /// `host` (no port, no brackets)
    pub host: String,
    /// `host:port` as given (port 443 when none)
    pub host_port: String,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Parses `host`, `host:port`, `https://[user[:pass]@]host[:port][/path]`.
pub fn parse_url(input: &str) -> Result<SdkUrl, Error> {
    let bad = |detail: &str| Error::Url { url: input.to_string(), detail: detail.to_string() };
    let s = input.trim();
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if s.starts_with("http://") {
        return Err(bad("plain http is not supported, use https"));
    } else if s.contains("://") {
        return Err(bad("only https URLs are supported"));
    } else {
        s
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    if hostport.is_empty() {
        return Err(bad("no host name"));
    }
    let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
        let end = r.find(']').ok_or_else(|| bad("unclosed '[' in IPv6 address"))?;
        let port = r[end + 1..].strip_prefix(':');
        (&r[..end], port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
        return Err(bad("bad host name"));
    }
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| bad("bad port"))?,
        None => 443,
    };
    let path = if path.is_empty() || path == "/" { "/sdk" } else { path };
    let host_fmt = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
    let (user, password) = match userinfo {
        Some(ui) => match ui.split_once(':') {
            Some((u, p)) => (Some(pct_decode(u)), Some(pct_decode(p))),
            None => (Some(pct_decode(ui)), None),
        },
        None => (None, None),
    };
    Ok(SdkUrl {
        url: format!("https://{host_fmt}:{port}{path}"),
        host: host.to_string(),
        host_port: format!("{host_fmt}:{port}"),
        user,
        password,
    })
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `about` of the service content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct About {
    pub name: String,
    pub full_name: String,
    pub version: String,
    pub build: String,
    /// `HostAgent` (standalone ESXi) or `VirtualCenter`.
    pub api_type: String,
    pub api_version: String,
    pub instance_uuid: Option<String>,
}

/// The parts of the service content esxup uses.
#[derive(Clone, Debug)]
pub struct ServiceContent {
    pub root_folder: MoRef,
    pub property_collector: MoRef,
    pub view_manager: Option<MoRef>,
    pub session_manager: Option<MoRef>,
    pub license_manager: Option<MoRef>,
    pub file_manager: Option<MoRef>,
    pub about: About,
}

impl ServiceContent {
    /// A vCenter (as opposed to a standalone host).
    pub fn is_vcenter(&self) -> bool {
        self.about.api_type == "VirtualCenter"
    }
}

/// One object of a PropertyCollector answer.
#[derive(Clone, Debug)]
pub struct ObjectContent {
    pub obj: MoRef,
    pub props: Vec<(String, Node)>,
    /// Properties the server could not return, with its fault.
    pub missing: Vec<(String, Fault)>,
}

impl ObjectContent {
    /// The value of a property, by its path as requested (`summary.config.product`).
    pub fn prop(&self, name: &str) -> Option<&Node> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Properties to retrieve for one managed object type.
#[derive(Clone, Debug)]
pub struct PropSpec<'a> {
    pub ty: &'a str,
    pub paths: &'a [&'a str],
}

/// A logged-in vSphere API session.
pub struct Client {
    agent: ureq::Agent,
    url: String,
    user: String,
    password: String,
    soap_action: String,
    cookie: Mutex<Option<String>>,
    session_key: Mutex<Option<String>>,
    content: ServiceContent,
    seen: Arc<SeenCert>,
    tls_mode: TlsMode,
    /// The connect, read and write timeout of [`ConnectOptions`].
    timeout: Duration,
    page_size: u32,
    relogins: std::sync::atomic::AtomicU32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.url).field("user", &self.user).finish()
    }
}

fn envelope(body: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            r#"<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"#
        ),
        body
    )
}

fn moref_xml(tag: &str, m: &MoRef) -> String {
    format!(r#"<{tag} type="{}">{}</{tag}>"#, escape(&m.ty), escape(&m.value))
}

/// The `returnval` children of a response body's first element.
fn response_root<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> Option<roxmltree::Node<'a, 'i>> {
    let body = doc.descendants().find(|n| n.is_element() && n.tag_name().name() == "Body")?;
    body.children().find(|n| n.is_element())
}

fn parse_moref(n: roxmltree::Node<'_, '_>) -> Option<MoRef> {
    Some(MoRef { ty: n.attribute("type")?.to_string(), value: n.text()?.trim().to_string() })
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn child_text(n: roxmltree::Node<'_, '_>, name: &str) -> String {
    child(n, name).and_then(|c| c.text()).unwrap_or("").trim().to_string()
}

/// Reads a `LocalizedMethodFault` / SOAP fault detail into a [`Fault`].
fn parse_fault_detail(fault_elem: Option<roxmltree::Node<'_, '_>>, message: String) -> Fault {
    let kind = fault_elem
        .and_then(|f| {
            f.attribute(("http://www.w3.org/2001/XMLSchema-instance", "type"))
                .map(|t| t.rsplit_once(':').map(|(_, r)| r).unwrap_or(t).to_string())
                .or_else(|| Some(f.tag_name().name().trim_end_matches("Fault").to_string()))
        })
        .unwrap_or_else(|| "Fault".to_string());
    Fault { kind, message }
}

fn parse_soap_fault(doc: &roxmltree::Document<'_>) -> Option<Fault> {
    let f = doc.descendants().find(|n| n.is_element() && n.tag_name().name() == "Fault")?;
    let msg = child_text(f, "faultstring");
    let detail = child(f, "detail").and_then(|d| d.children().find(|c| c.is_element()));
    Some(parse_fault_detail(detail, msg))
}

impl Client {
    /// Connects, reads the service content and logs in.
    pub fn connect(opts: &ConnectOptions) -> Result<Client, Error> {
        let parsed = parse_url(&opts.url)?;
        let (tls, seen) = client_config(&opts.tls)?;
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout_connect(opts.timeout)
            .timeout_read(opts.timeout)
            .timeout_write(opts.timeout)
            // Also a deadline per request: ureq does not re-arm the socket read
            // timeout on pooled connections, so a host that stops answering
            // on a kept-alive connection would block for ever without it.
            .timeout(opts.timeout)
            .user_agent(concat!("esxup/", env!("CARGO_PKG_VERSION")))
            .build();
        let mut c = Client {
            agent,
            url: parsed.url,
            user: opts.user.clone(),
            password: opts.password.clone(),
            soap_action: "urn:vim25/6.0".to_string(),
            cookie: Mutex::new(None),
            session_key: Mutex::new(None),
            content: ServiceContent {
                root_folder: MoRef::new("Folder", "group-d1"),
                property_collector: MoRef::new("PropertyCollector", "propertyCollector"),
                view_manager: None,
                session_manager: None,
                license_manager: None,
                file_manager: None,
                about: About::default(),
            },
            seen,
            tls_mode: opts.tls.mode.clone(),
            timeout: opts.timeout,
            page_size: DEFAULT_PAGE,
            relogins: std::sync::atomic::AtomicU32::new(0),
        };
        c.content = c.retrieve_service_content()?;
        if !c.content.about.api_version.is_empty() {
            c.soap_action = format!("urn:vim25/{}", c.content.about.api_version);
        }
        c.login()?;
        Ok(c)
    }

    /// The SDK URL (`https://host:port/sdk`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn service_content(&self) -> &ServiceContent {
        &self.content
    }

    /// The key of the current session (for `SessionManager.TerminateSession`).
    pub fn session_key(&self) -> Option<String> {
        self.session_key.lock().ok().and_then(|g| g.clone())
    }

    /// How many times the session was re-established after expiring.
    pub fn relogins(&self) -> u32 {
        self.relogins.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SHA-256 thumbprint of the certificate the server presented.
    pub fn server_thumbprint(&self) -> Option<String> {
        self.seen.get()
    }

    /// Objects per RetrievePropertiesEx page (default [`DEFAULT_PAGE`]).
    pub fn set_page_size(&mut self, n: u32) {
        self.page_size = n.max(1);
    }

    /// One SOAP request/response; `op` names it in errors. Returns the body.
    pub fn soap(&self, op: &str, body: &str) -> Result<String, Error> {
        let env = envelope(body);
        let mut req = self
            .agent
            .post(&self.url)
            .set("Content-Type", "text/xml; charset=utf-8")
            .set("SOAPAction", &self.soap_action);
        if let Some(c) = self.cookie.lock().ok().and_then(|g| g.clone()) {
            req = req.set("Cookie", &c);
        }
        let resp = match req.send_string(&env) {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                let text = read_body(r, op, &self.url, self.timeout)?;
                if let Ok(doc) = roxmltree::Document::parse(&text) {
                    if let Some(f) = parse_soap_fault(&doc) {
                        return Err(self.fault_error(op, f));
                    }
                }
                let snippet: String = text.chars().take(200).collect();
                return Err(Error::Http { op: op.to_string(), url: self.url.clone(), status, body: snippet });
            }
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(op, t, self.timeout)),
        };
        let cookies: Vec<String> = resp
            .all("set-cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next().map(|s| s.trim().to_string()))
            .filter(|c| c.starts_with("vmware_soap_session="))
            .collect();
        if let Some(c) = cookies.into_iter().next() {
            if let Ok(mut g) = self.cookie.lock() {
                *g = Some(c);
            }
        }
        let text = read_body(resp, op, &self.url, self.timeout)?;
        Ok(text)
    }

    /// `https://host:port` of the SDK URL, for the host's other HTTP
    /// endpoints (`/folder`, `/downloads`).
    pub fn base_url(&self) -> String {
        match self.url.find("://").and_then(|i| self.url[i + 3..].find('/').map(|j| i + 3 + j)) {
            Some(end) => self.url[..end].to_string(),
            None => self.url.clone(),
        }
    }

    /// GET of one of the host's HTTP endpoints (a `/downloads/` bundle, a
    /// `/folder/` file) with the session cookie and the same TLS checks as
    /// the API; at most `max` bytes, within `timeout`. `op` names it in errors.
    pub fn http_get(&self, op: &str, url: &str, max: u64, timeout: Duration) -> Result<Vec<u8>, Error> {
        let mut req = self.agent.get(url).timeout(timeout);
        if let Some(c) = self.cookie.lock().ok().and_then(|g| g.clone()) {
            req = req.set("Cookie", &c);
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                let body: String = r.into_string().unwrap_or_default().chars().take(200).collect();
                return Err(Error::Http { op: op.to_string(), url: url.to_string(), status, body });
            }
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(op, t, timeout)),
        };
        let mut buf = Vec::new();
        resp.into_reader()
            .take(max + 1)
            .read_to_end(&mut buf)
            .map_err(|e| read_error(op, url, e, timeout))?;
        if buf.len() as u64 > max {
            return Err(Error::Response {
                op: op.to_string(),
                url: url.to_string(),
                detail: format!("larger than {max} bytes"),
            });
        }
        Ok(buf)
    }

    /// GET that hands the body to `read` as a stream (to hash a large file
    /// on a datastore without holding it); `timeout` bounds the transfer.
    pub fn http_get_with<T>(
        &self,
        op: &str,
        url: &str,
        timeout: Duration,
        read: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
    ) -> Result<T, Error> {
        let mut req = self.agent.get(url).timeout(timeout);
        if let Some(c) = self.cookie.lock().ok().and_then(|g| g.clone()) {
            req = req.set("Cookie", &c);
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                let body: String = r.into_string().unwrap_or_default().chars().take(200).collect();
                return Err(Error::Http { op: op.to_string(), url: url.to_string(), status, body });
            }
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(op, t, timeout)),
        };
        let mut reader = resp.into_reader();
        read(&mut reader).map_err(|e| read_error(op, url, e, timeout))
    }

    /// PUT of `len` bytes from `body` to one of the host's HTTP endpoints
    /// (`/folder/...`: a file on a datastore), with the session cookie.
    /// `timeout` bounds the whole transfer (an offline bundle is hundreds
    /// of MB: the API's per-request timeout is too short for it).
    pub fn http_put(
        &self,
        op: &str,
        url: &str,
        body: impl Read,
        len: u64,
        timeout: Duration,
    ) -> Result<(), Error> {
        let mut req = self
            .agent
            .put(url)
            .timeout(timeout)
            .set("Content-Type", "application/octet-stream")
            .set("Content-Length", &len.to_string());
        if let Some(c) = self.cookie.lock().ok().and_then(|g| g.clone()) {
            req = req.set("Cookie", &c);
        }
        match req.send(body) {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(status, r)) => {
                let body: String = r.into_string().unwrap_or_default().chars().take(200).collect();
                Err(Error::Http { op: op.to_string(), url: url.to_string(), status, body })
            }
            Err(ureq::Error::Transport(t)) => Err(self.transport_error(op, t, timeout)),
        }
    }

    fn fault_error(&self, op: &str, f: Fault) -> Error {
        match f.kind.as_str() {
            "InvalidLogin" => Error::InvalidLogin { url: self.url.clone(), user: self.user.clone() },
            "NotAuthenticated" => Error::NotAuthenticated { op: op.to_string(), url: self.url.clone() },
            _ => Error::Fault { op: op.to_string(), url: self.url.clone(), kind: f.kind, message: f.message },
        }
    }

    /// Maps a transport error of a request whose deadline was `timeout`.
    fn transport_error(&self, op: &str, t: ureq::Transport, timeout: Duration) -> Error {
        let cause = match classify(&t) {
            Cause::TimedOut => {
                // Connecting is bounded by the client's connect timeout too.
                let connecting = t.message() == Some("Connect error");
                let secs = if connecting { timeout.min(self.timeout) } else { timeout };
                Some(format!("timed out after {}", fmt_secs(secs)))
            }
            Cause::NotTls => Some("the server did not answer TLS (plain http?)".to_string()),
            Cause::ShortKey(bits) => Some(short_key_message(bits)),
            Cause::Other => None,
        };
        if let Some(message) = cause {
            return Error::Transport {
                op: op.to_string(),
                url: self.url.clone(),
                message,
                source: Some(Box::new(HttpCause(t))),
            };
        }
        let cert_problem = tls_cause(&t);
        if let (Some(reason), false) = (cert_problem, self.tls_mode == TlsMode::Insecure) {
            if let Some(tp) = self.seen.get() {
                return Error::UntrustedCertificate {
                    op: op.to_string(),
                    url: self.url.clone(),
                    thumbprint: tp,
                    reason,
                    pinned: matches!(self.tls_mode, TlsMode::Pin(_)),
                };
            }
        }
        let mut msg = t.to_string();
        // ureq prefixes its own URL; keep the message short and name ours once.
        if let Some(i) = msg.find(": ") {
            if msg[..i].contains("://") {
                msg = msg[i + 2..].to_string();
            }
        }
        Error::Transport { op: op.to_string(), url: self.url.clone(), message: msg, source: None }
    }

    fn parse<'a>(&self, op: &str, text: &'a str) -> Result<roxmltree::Document<'a>, Error> {
        roxmltree::Document::parse(text).map_err(|e| Error::Response {
            op: op.to_string(),
            url: self.url.clone(),
            detail: format!("not well-formed XML: {e}"),
        })
    }

    fn bad_response(&self, op: &str, detail: &str) -> Error {
        Error::Response { op: op.to_string(), url: self.url.clone(), detail: detail.to_string() }
    }

    fn retrieve_service_content(&self) -> Result<ServiceContent, Error> {
        let op = "RetrieveServiceContent";
        let text = self.soap(
            op,
            r#"<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>"#,
        )?;
        let doc = self.parse(op, &text)?;
        let rv = response_root(&doc)
            .and_then(|r| child(r, "returnval"))
            .ok_or_else(|| self.bad_response(op, "no returnval (is this a vSphere SDK endpoint?)"))?;
        let mo = |name: &str| child(rv, name).and_then(parse_moref);
        let about = child(rv, "about").ok_or_else(|| self.bad_response(op, "no about"))?;
        let about = About {
            name: child_text(about, "name"),
            full_name: child_text(about, "fullName"),
            version: child_text(about, "version"),
            build: child_text(about, "build"),
            api_type: child_text(about, "apiType"),
            api_version: child_text(about, "apiVersion"),
            instance_uuid: Some(child_text(about, "instanceUuid")).filter(|s| !s.is_empty()),
        };
        Ok(ServiceContent {
            root_folder: mo("rootFolder").ok_or_else(|| self.bad_response(op, "no rootFolder"))?,
            property_collector: mo("propertyCollector")
                .ok_or_else(|| self.bad_response(op, "no propertyCollector"))?,
            view_manager: mo("viewManager"),
            session_manager: mo("sessionManager"),
            license_manager: mo("licenseManager"),
            file_manager: mo("fileManager"),
            about,
        })
    }

    /// Logs in (again) with the stored credentials.
    pub fn login(&self) -> Result<(), Error> {
        let op = "Login";
        let sm =
            self.content.session_manager.clone().ok_or_else(|| self.bad_response(op, "no sessionManager"))?;
        if let Ok(mut g) = self.cookie.lock() {
            *g = None;
        }
        let body = format!(
            r#"<Login xmlns="urn:vim25">{}<userName>{}</userName><password>{}</password></Login>"#,
            moref_xml("_this", &sm),
            escape(&self.user),
            escape(&self.password)
        );
        let text = self.soap(op, &body)?;
        let doc = self.parse(op, &text)?;
        let key = response_root(&doc).and_then(|r| child(r, "returnval")).map(|rv| child_text(rv, "key"));
        if let Ok(mut g) = self.session_key.lock() {
            *g = key.filter(|k| !k.is_empty());
        }
        Ok(())
    }

    /// Ends the session. Errors are returned but the client forgets the session either way.
    pub fn logout(&self) -> Result<(), Error> {
        let had = self.cookie.lock().ok().map(|g| g.is_some()).unwrap_or(false);
        if !had {
            return Ok(());
        }
        let Some(sm) = self.content.session_manager.clone() else { return Ok(()) };
        let r = self
            .soap("Logout", &format!(r#"<Logout xmlns="urn:vim25">{}</Logout>"#, moref_xml("_this", &sm)));
        if let Ok(mut g) = self.cookie.lock() {
            *g = None;
        }
        r.map(|_| ())
    }

    /// Runs `f`; when the session turned out to be gone, logs in once more and
    /// runs it again.
    pub fn with_relogin<T>(&self, f: impl Fn(&Client) -> Result<T, Error>) -> Result<T, Error> {
        match f(self) {
            Err(Error::NotAuthenticated { .. }) => {
                self.login()?;
                self.relogins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                f(self)
            }
            other => other,
        }
    }

    /// Calls `method` on `this` with pre-built argument XML; returns `returnval`
    /// (None when the method returns nothing). Re-logs in once on session expiry.
    pub fn invoke(&self, method: &str, this: &MoRef, args_xml: &str) -> Result<Option<Node>, Error> {
        self.with_relogin(|c| {
            let body =
                format!(r#"<{method} xmlns="urn:vim25">{}{args_xml}</{method}>"#, moref_xml("_this", this));
            let text = c.soap(method, &body)?;
            let doc = c.parse(method, &text)?;
            Ok(response_root(&doc).and_then(|r| child(r, "returnval")).map(Node::from_roxml))
        })
    }

    /// Retrieves `paths` of one object.
    pub fn retrieve_one(&self, obj: &MoRef, paths: &[&str]) -> Result<ObjectContent, Error> {
        self.with_relogin(|c| {
            let spec = PropSpec { ty: &obj.ty, paths };
            let filter = format!(
                "<specSet>{}<objectSet>{}<skip>false</skip></objectSet></specSet>",
                prop_set_xml(&spec),
                moref_xml("obj", obj)
            );
            let mut all = Vec::new();
            c.retrieve_filter(&filter, &mut |o| all.push(o))?;
            all.pop()
                .ok_or_else(|| c.bad_response("RetrievePropertiesEx", &format!("object {obj} not returned")))
        })
    }

    /// Retrieves properties of every object of the given types below the root
    /// folder, through one ContainerView and paged RetrievePropertiesEx.
    pub fn retrieve_all(&self, specs: &[PropSpec<'_>]) -> Result<Vec<ObjectContent>, Error> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.retrieve_all_each(specs, &mut |o| {
            if seen.insert(o.obj.clone()) {
                out.push(o)
            }
        })?;
        Ok(out)
    }

    /// Like [`Client::retrieve_all`], but hands each object to `f` as soon as
    /// its page is parsed, so that a large inventory is never held twice.
    /// After a re-login the retrieval starts over: `f` may see an object
    /// again and should keep the last one.
    pub fn retrieve_all_each(
        &self,
        specs: &[PropSpec<'_>],
        f: &mut dyn FnMut(ObjectContent),
    ) -> Result<(), Error> {
        let f = std::cell::RefCell::new(f);
        self.with_relogin(|c| {
            let view = c.create_container_view(specs)?;
            let props: String = specs.iter().map(prop_set_xml).collect();
            let filter = format!(
                concat!(
                    "<specSet>{}<objectSet>{}<skip>true</skip>",
                    r#"<selectSet xsi:type="TraversalSpec"><name>view</name><type>ContainerView</type>"#,
                    "<path>view</path><skip>false</skip></selectSet></objectSet></specSet>"
                ),
                props,
                moref_xml("obj", &view)
            );
            let mut f = f.borrow_mut();
            let res = c.retrieve_filter(&filter, &mut **f);
            // Best effort: a view left behind dies with the session anyway.
            let _ = c.soap(
                "DestroyView",
                &format!(r#"<DestroyView xmlns="urn:vim25">{}</DestroyView>"#, moref_xml("_this", &view)),
            );
            res
        })
    }

    fn create_container_view(&self, specs: &[PropSpec<'_>]) -> Result<MoRef, Error> {
        let op = "CreateContainerView";
        let vm = self.content.view_manager.clone().ok_or_else(|| self.bad_response(op, "no viewManager"))?;
        let types: String = specs.iter().map(|s| format!("<type>{}</type>", escape(s.ty))).collect();
        let body = format!(
            r#"<CreateContainerView xmlns="urn:vim25">{}{}{}<recursive>true</recursive></CreateContainerView>"#,
            moref_xml("_this", &vm),
            moref_xml("container", &self.content.root_folder),
            types
        );
        let text = self.soap(op, &body)?;
        let doc = self.parse(op, &text)?;
        response_root(&doc)
            .and_then(|r| child(r, "returnval"))
            .and_then(parse_moref)
            .ok_or_else(|| self.bad_response(op, "no view returned"))
    }

    /// RetrievePropertiesEx with `filter_xml` (`<specSet>..</specSet>`), then
    /// ContinueRetrievePropertiesEx while the server hands out a token.
    fn retrieve_filter(&self, filter_xml: &str, out: &mut dyn FnMut(ObjectContent)) -> Result<(), Error> {
        let pc = moref_xml("_this", &self.content.property_collector);
        let body = format!(
            r#"<RetrievePropertiesEx xmlns="urn:vim25">{pc}{filter_xml}<options><maxObjects>{}</maxObjects></options></RetrievePropertiesEx>"#,
            self.page_size
        );
        let mut token = self.retrieve_page("RetrievePropertiesEx", &body, out)?;
        let mut pages = 1u32;
        while let Some(t) = token {
            pages += 1;
            if pages > 1_000_000 {
                return Err(self.bad_response("ContinueRetrievePropertiesEx", "endless paging"));
            }
            let body = format!(
                r#"<ContinueRetrievePropertiesEx xmlns="urn:vim25">{pc}<token>{}</token></ContinueRetrievePropertiesEx>"#,
                escape(&t)
            );
            token = self.retrieve_page("ContinueRetrievePropertiesEx", &body, out)?;
        }
        Ok(())
    }

    fn retrieve_page(
        &self,
        op: &str,
        body: &str,
        out: &mut dyn FnMut(ObjectContent),
    ) -> Result<Option<String>, Error> {
        let text = self.soap(op, body)?;
        parse_page(op, &self.url, &text, out)
    }

    /// Waits until a task ends: polls `Task.info` with a growing interval,
    /// gives up after `timeout`. Returns `info.result` on success.
    pub fn wait_for_task(&self, task: &MoRef, timeout: Duration) -> Result<Option<Node>, Error> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let oc = self.retrieve_one(task, &["info"])?;
            let info = oc.prop("info").ok_or_else(|| self.bad_response("WaitForTask", "task has no info"))?;
            match info.text_at("state").unwrap_or("") {
                "success" => return Ok(info.child("result").cloned()),
                "error" => {
                    let err = info.child("error");
                    let kind = err
                        .and_then(|e| e.child("fault"))
                        .and_then(|f| f.xsi_type.clone())
                        .unwrap_or_else(|| "Fault".to_string());
                    let message = err.and_then(|e| e.text_at("localizedMessage")).unwrap_or("").to_string();
                    return Err(Error::TaskFailed {
                        task: task.to_string(),
                        url: self.url.clone(),
                        kind,
                        message,
                    });
                }
                _ => {}
            }
            if start.elapsed() >= timeout {
                return Err(Error::TaskTimeout {
                    task: task.to_string(),
                    url: self.url.clone(),
                    secs: timeout.as_secs(),
                });
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.logout();
    }
}

/// Reads one RetrievePropertiesEx / ContinueRetrievePropertiesEx answer into
/// `out`; returns the token of the next page, if any.
pub fn parse_page(
    op: &str,
    url: &str,
    text: &str,
    out: &mut dyn FnMut(ObjectContent),
) -> Result<Option<String>, Error> {
    let bad = |detail: &str| Error::Response {
        op: op.to_string(),
        url: url.to_string(),
        detail: detail.to_string(),
    };
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(&format!("not well-formed XML: {e}")))?;
    if let Some(f) = parse_soap_fault(&doc) {
        return Err(Error::Fault {
            op: op.to_string(),
            url: url.to_string(),
            kind: f.kind,
            message: f.message,
        });
    }
    let root = response_root(&doc).ok_or_else(|| bad("empty SOAP body"))?;
    let Some(rv) = child(root, "returnval") else {
        return Ok(None); // nothing matched
    };
    let mut token = None;
    for n in rv.children().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "token" => token = n.text().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            "objects" => {
                let obj = child(n, "obj").and_then(parse_moref).ok_or_else(|| bad("object without obj"))?;
                let mut oc = ObjectContent { obj, props: Vec::new(), missing: Vec::new() };
                for c in n.children().filter(|c| c.is_element()) {
                    match c.tag_name().name() {
                        "propSet" => {
                            let name = child_text(c, "name");
                            if let Some(v) = child(c, "val") {
                                oc.props.push((name, Node::from_roxml(v)));
                            }
                        }
                        "missingSet" => {
                            let path = child_text(c, "path");
                            let lf = child(c, "fault");
                            let msg = lf.map(|f| child_text(f, "localizedMessage")).unwrap_or_default();
                            let fault = parse_fault_detail(lf.and_then(|f| child(f, "fault")), msg);
                            if fault.kind == "NotAuthenticated" {
                                // vcsim reports an unauthenticated session per property.
                                return Err(Error::NotAuthenticated {
                                    op: op.to_string(),
                                    url: url.to_string(),
                                });
                            }
                            oc.missing.push((path, fault));
                        }
                        _ => {}
                    }
                }
                out(oc);
            }
            _ => {}
        }
    }
    Ok(token)
}

fn prop_set_xml(s: &PropSpec<'_>) -> String {
    let paths: String = s.paths.iter().map(|p| format!("<pathSet>{}</pathSet>", escape(p))).collect();
    format!("<propSet><type>{}</type><all>false</all>{paths}</propSet>", escape(s.ty))
}

fn read_body(resp: ureq::Response, op: &str, url: &str, timeout: Duration) -> Result<String, Error> {
    let mut buf = Vec::new();
    resp.into_reader().take(MAX_BODY).read_to_end(&mut buf).map_err(|e| read_error(op, url, e, timeout))?;
    String::from_utf8(buf).map_err(|e| Error::Response {
        op: op.to_string(),
        url: url.to_string(),
        detail: format!("response is not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
    })
}

fn short_key_message(bits: usize) -> String {
    format!(
        "the server's certificate uses a key too short for the TLS library ({bits}-bit RSA, it needs {} bits \
         or more): replace the host certificate (ESXi 6.x hosts may still have such certificates)",
        crate::tls::MIN_RSA_BITS
    )
}

/// An error while reading a response body: a timeout is named as one.
fn read_error(op: &str, url: &str, e: std::io::Error, timeout: Duration) -> Error {
    let message = if is_timeout(&e) {
        format!("reading the response: timed out after {}", fmt_secs(timeout))
    } else {
        format!("reading the response: {e}")
    };
    Error::Transport { op: op.to_string(), url: url.to_string(), message, source: Some(Box::new(e)) }
}

/// What is behind a transport error.
enum Cause {
    TimedOut,
    /// The peer's first bytes were not a TLS record.
    NotTls,
    /// The certificate's RSA key is shorter than the TLS library verifies.
    ShortKey(usize),
    /// Anything else, a certificate refusal included (see [`tls_cause`]).
    Other,
}

/// The rustls error of one link of an error chain, directly or inside an `io::Error`.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    e.downcast_ref::<rustls::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref())
    })
}

fn classify(t: &ureq::Transport) -> Cause {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cur {
        if let Some(r) = rustls_error(e) {
            return match r {
                rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => {
                    match o.0.downcast_ref::<ShortKey>() {
                        Some(k) => Cause::ShortKey(k.bits),
                        None => Cause::Other,
                    }
                }
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => Cause::NotTls,
                _ => Cause::Other,
            };
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if is_timeout(io) {
                return Cause::TimedOut;
            }
        }
        cur = e.source();
    }
    Cause::Other
}

/// The certificate problem behind a transport error, if it is one.
fn tls_cause(t: &ureq::Transport) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return cert_reason(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return cert_reason(r);
            }
        }
        cur = e.source();
    }
    None
}

fn cert_reason(r: &rustls::Error) -> Option<String> {
    match r {
        rustls::Error::InvalidCertificate(c) => Some(match c {
            rustls::CertificateError::UnknownIssuer => "issuer not trusted".to_string(),
            rustls::CertificateError::NotValidForName => {
                "certificate not valid for this host name".to_string()
            }
            rustls::CertificateError::Expired => "certificate expired".to_string(),
            other => format!("{other:?}"),
        }),
        rustls::Error::General(m) if m.contains("thumbprint") => Some(m.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_like_govc() {
        let u = parse_url("esx1.example.com").unwrap();
        assert_eq!(u.url, "https://esx1.example.com:443/sdk");
        assert_eq!(u.host, "esx1.example.com");
        let u = parse_url("https://root:p%40ss@10.0.0.5:8443").unwrap();
        assert_eq!(u.url, "https://10.0.0.5:8443/sdk");
        assert_eq!(u.user.as_deref(), Some("root"));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        let u = parse_url("https://[::1]:9443/sdk").unwrap();
        assert_eq!(u.url, "https://[::1]:9443/sdk");
        assert_eq!(u.host, "::1");
        assert!(parse_url("http://esx1").is_err());
        assert!(parse_url("https://").is_err());
        assert!(parse_url("esx1:notaport").is_err());
    }

    #[test]
    fn reads_pages_tokens_and_missing_properties() {
        // Shape of a vCenter RetrievePropertiesEx answer with more pages to come
        // (vcsim never pages, so the token path is checked here).
        let xml = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>1</token><objects><obj type="HostSystem">host-21</obj><propSet><name>name</name><val xsi:type="xsd:string">esx1</val></propSet><missingSet><path>config.product</path><fault><fault xsi:type="NoPermission"><privilegeId>System.Read</privilegeId></fault><localizedMessage>Permission to perform this operation was denied.</localizedMessage></fault></missingSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"#;
        let mut out = Vec::new();
        let token = parse_page("RetrievePropertiesEx", "https://vc/sdk", xml, &mut |o| out.push(o)).unwrap();
        assert_eq!(token.as_deref(), Some("1"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].obj, MoRef::new("HostSystem", "host-21"));
        assert_eq!(out[0].prop("name").and_then(|n| n.text()), Some("esx1"));
        assert_eq!(out[0].missing[0].0, "config.product");
        assert_eq!(out[0].missing[0].1.kind, "NoPermission");
        let last = xml.replace("<token>1</token>", "");
        assert_eq!(parse_page("x", "u", &last, &mut |_| ()).unwrap(), None);
        let none = r#"<Envelope><Body><RetrievePropertiesExResponse/></Body></Envelope>"#;
        assert_eq!(parse_page("x", "u", none, &mut |_| panic!("no objects")).unwrap(), None);
        assert!(parse_page("x", "u", "<truncated", &mut |_| ()).is_err());
    }

    #[test]
    fn formats_timeouts_as_given() {
        assert_eq!(fmt_secs(Duration::from_secs(3)), "3 s");
        assert_eq!(fmt_secs(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(fmt_secs(Duration::from_millis(250)), "0.25 s");
        let e = read_error(
            "op",
            "u",
            std::io::Error::from(std::io::ErrorKind::WouldBlock),
            Duration::from_secs(2),
        );
        assert_eq!(e.to_string(), "op u: reading the response: timed out after 2 s");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn reads_soap_faults() {
        let xml = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Cannot complete login due to an incorrect user name or password.</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let doc = roxmltree::Document::parse(xml).unwrap();
        let f = parse_soap_fault(&doc).unwrap();
        assert_eq!(f.kind, "InvalidLogin");
        assert!(f.message.contains("incorrect user name"));
    }
}
