//! Bad input and faults of the vSphere API path, against the real simulator:
//! certificates (unknown, pinned, CA file, SHA-1 pin), a wrong password, a
//! host that goes away mid-collection, a terminated session (one re-login),
//! and task waiting.

#[path = "vim_sim.rs"]
mod sim;

use esxup_collect::vim;
use esxup_vim::{Client, ConnectOptions, Error, MoRef, Thumbprint, TlsMode, TlsOptions};
use sim::Sim;
use std::time::Duration;

fn opts(sim: &Sim, mode: TlsMode) -> ConnectOptions {
    ConnectOptions {
        url: sim.url.clone(),
        user: sim::USER.into(),
        password: sim::PASSWORD.into(),
        tls: TlsOptions { mode, ca_file: None },
        timeout: Duration::from_secs(30),
    }
}

fn pin(t: &str) -> TlsMode {
    TlsMode::Pin(Thumbprint::parse(t).unwrap())
}

#[test]
fn unknown_certificate_is_refused_with_its_thumbprint() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let err = Client::connect(&opts(&sim, TlsMode::Verify)).unwrap_err();
    match &err {
        Error::UntrustedCertificate { thumbprint, pinned, .. } => {
            assert_eq!(thumbprint, &sim.thumbprint);
            assert!(!pinned);
        }
        other => panic!("expected an untrusted certificate, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("RetrieveServiceContent") && msg.contains(&sim.url) && msg.contains(&sim.thumbprint),
        "{msg}"
    );
}

#[test]
fn wrong_pin_is_refused_and_right_pins_accepted() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let other =
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    match Client::connect(&opts(&sim, pin(other))).unwrap_err() {
        Error::UntrustedCertificate { thumbprint, pinned: true, .. } => {
            assert_eq!(thumbprint, sim.thumbprint)
        }
        e => panic!("expected a refused pin, got {e:?}"),
    }
    let c = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    assert_eq!(c.server_thumbprint().as_deref(), Some(sim.thumbprint.as_str()));
    assert_eq!(c.service_content().about.api_type, "HostAgent");
    // govc's known_hosts may hold SHA-1 thumbprints.
    Client::connect(&opts(&sim, pin(&sim.thumbprint_sha1))).unwrap();
}

#[test]
fn ca_file_verifies_chain_and_name() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let mut o = opts(&sim, TlsMode::Verify);
    o.tls.ca_file = Some(sim.ca_file.clone());
    let c = Client::connect(&o).unwrap();
    assert!(!c.service_content().is_vcenter());
    // The certificate also names localhost: the name check passes by DNS name too.
    o.url = sim.url.replace("127.0.0.1", "localhost");
    Client::connect(&o).unwrap();
}

#[test]
fn insecure_accepts_any_certificate() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let facts = vim::collect(&opts(&sim, TlsMode::Insecure)).unwrap();
    assert_eq!(facts.len(), 1);
}

#[test]
fn wrong_password_is_a_clear_error() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let mut o = opts(&sim, pin(&sim.thumbprint));
    o.password = "not-the-password".into();
    let err = Client::connect(&o).unwrap_err();
    assert!(matches!(err, Error::InvalidLogin { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("login to {} as root: incorrect user name or password", sim.url));
}

#[test]
fn host_dying_mid_collection_is_a_clear_error() {
    // Requests: 1 RetrieveServiceContent, 2 Login, 3 CreateContainerView, 4 RetrievePropertiesEx.
    let mut sim = Sim::start(&["-mode", "esx", "-vms", "2", "-die-after", "4"]);
    let client = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    let err = vim::collect_with(&client).unwrap_err();
    sim.wait();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("RetrievePropertiesEx https://127.0.0.1:"), "{msg}");
}

#[test]
fn killed_host_is_a_clear_error() {
    let mut sim = Sim::start(&["-mode", "esx", "-vms", "1"]);
    let client = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    sim.kill();
    let err = vim::collect_with(&client).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().starts_with("CreateContainerView https://127.0.0.1:"), "{err}");
}

#[test]
fn terminated_session_leads_to_one_relogin() {
    let sim = Sim::start(&["-mode", "vpx", "-hosts", "2", "-vms", "2"]);
    let a = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    let key = a.session_key().expect("session key");
    let admin = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    let sm = admin.service_content().session_manager.clone().unwrap();
    admin.invoke("TerminateSession", &sm, &format!("<sessionId>{key}</sessionId>")).unwrap();
    let facts = vim::collect_with(&a).unwrap();
    assert_eq!(facts.len(), 2);
    assert_eq!(a.relogins(), 1);
    assert_ne!(a.session_key().unwrap(), key);
}

#[test]
fn waits_for_tasks_and_reports_their_faults() {
    let sim = Sim::start(&["-mode", "esx", "-vms", "2"]);
    let c = Client::connect(&opts(&sim, pin(&sim.thumbprint))).unwrap();
    let vms = c
        .retrieve_all(&[esxup_vim::PropSpec { ty: "VirtualMachine", paths: &["runtime.powerState"] }])
        .unwrap();
    let off = vms
        .iter()
        .find(|v| v.prop("runtime.powerState").and_then(|n| n.text()) == Some("poweredOff"))
        .expect("a powered-off VM");
    let task = c.invoke("PowerOnVM_Task", &off.obj, "").unwrap().unwrap();
    let task = MoRef { ty: task.mo_type.clone().unwrap(), value: task.text.clone() };
    c.wait_for_task(&task, Duration::from_secs(60)).unwrap();
    let again = c.invoke("PowerOnVM_Task", &off.obj, "").unwrap().unwrap();
    let again = MoRef { ty: again.mo_type.clone().unwrap(), value: again.text.clone() };
    match c.wait_for_task(&again, Duration::from_secs(60)) {
        Err(Error::TaskFailed { kind, .. }) => assert_eq!(kind, "InvalidPowerState"),
        other => panic!("expected InvalidPowerState, got {other:?}"),
    }
}

#[test]
fn host_that_stops_answering_times_out() {
    // Requests: 1 RetrieveServiceContent, 2 Login, 3 CreateContainerView (never answered).
    let sim = Sim::start(&["-mode", "esx", "-vms", "1", "-hang-after", "3"]);
    let mut o = opts(&sim, pin(&sim.thumbprint));
    o.timeout = Duration::from_secs(1);
    let client = Client::connect(&o).unwrap();
    let err = vim::collect_with(&client).unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("CreateContainerView https://127.0.0.1:") && msg.contains("timed out"), "{msg}");
}
