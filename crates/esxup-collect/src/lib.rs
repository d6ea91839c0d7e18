//! Collectors of HostFacts: vSphere API, SSH esxcli, saved outputs, vm-support, fleets.
