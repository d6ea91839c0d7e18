//! The checked-in JSON Schema of HostFacts must match the model.
//! Regenerate: `UPDATE_SCHEMA=1 cargo test -p esxup-facts --test schema`.

use esxup_facts::*;
use std::path::{Path, PathBuf};

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/host-facts.schema.json")
}

#[test]
fn schema_file_is_current() {
    let want = json_schema();
    let path = schema_path();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "schema/host-facts.schema.json is not current; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p esxup-facts --test schema` and commit it"
    );
}

#[test]
fn loads_current_and_refuses_other_versions() {
    let dir = std::env::temp_dir().join(format!("esxup-facts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("facts.json");
    let mut facts = HostFacts::new();
    facts.hostname = Some("esx1".into());
    facts.memory_bytes = Some(1 << 30);
    std::fs::write(&f, facts.to_json_pretty()).unwrap();
    assert_eq!(HostFacts::from_json_file(&f).unwrap(), facts);

    std::fs::write(&f, facts.to_json_pretty().replace("\"schema_version\": 1", "\"schema_version\": 2"))
        .unwrap();
    let e = HostFacts::from_json_file(&f).unwrap_err().to_string();
    assert!(e.contains("schema_version 2 is newer") && e.contains("facts.json"), "{e}");

    std::fs::write(&f, facts.to_json_pretty().replace("\"schema_version\": 1", "\"schema_version\": 0"))
        .unwrap();
    let e = HostFacts::from_json_file(&f).unwrap_err().to_string();
    assert!(e.contains("schema_version 0 is not supported"), "{e}");

    std::fs::write(&f, "{\"hostname\": \"x\"}").unwrap();
    assert!(HostFacts::from_json_file(&f).unwrap_err().to_string().contains("no `schema_version`"));

    std::fs::write(&f, "{\"schema_version\": 1, \"memory_bytes\": \"lots\"}").unwrap();
    assert!(HostFacts::from_json_file(&f)
        .unwrap_err()
        .to_string()
        .contains("does not match schema version 1"));

    let e = HostFacts::from_json_file(&dir.join("missing.json")).unwrap_err().to_string();
    assert!(e.starts_with("read facts file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_without_the_newer_optional_field_still_load() {
    // A facts file written before `secure_boot_can_be_enabled` existed.
    let text = r#"{"schema_version": 1, "hostname": null, "source": null, "collected_on": null, "product": null,
        "image_profile": null, "vibs": null, "acceptance_level": null, "cpu": null, "memory_bytes": null,
        "pci_devices": null, "nics": null, "storage_adapters": null, "boot_device": null,
        "firmware": {"kind": "uefi", "secure_boot": true, "tpm_present": null, "tpm_version": null,
        "tpm_interface": null, "bios_vendor": null, "bios_version": null, "system_vendor": null, "system_model": null},
        "modules": null, "slpd": null, "altbootbank": null, "datastores": null, "vms": null, "license": null,
        "maintenance_mode": null, "persistent_scratch": null, "boot_options": null}"#;
    let f = HostFacts::from_json_str(text, Path::new("old.json")).unwrap();
    assert_eq!(f.firmware.unwrap().secure_boot_can_be_enabled, None);
}
