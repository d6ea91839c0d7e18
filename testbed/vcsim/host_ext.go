// Host-side additions for `esxup run`: the managed objects govmomi 0.24.2
// lacks (HostFirmwareSystem, HostServiceSystem, HostAutoStartManager), a
// HostFirewallSystem that changes the host's config.firewall, the
// LicenseManager's UpdateLicense/DecodeLicense, and the host identity flags.
// See README.md ("Runner support") for what is real and what is CONSTRUCTED.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Fault texts. The ToolsUnavailable and RestrictedVersion texts are the ones
// real hosts send (the latter from free ESXi); InvalidState, InvalidPowerState,
// NotFound and NotSupported are vSphere's standard messages for these faults;
// the AlreadyUpgraded and InvalidLicense texts are CONSTRUCTED.
const (
	msgRestricted     = "Current license or ESXi version prohibits execution of the requested operation."
	msgInvalidState   = "The operation is not allowed in the current state."
	msgToolsNotRun    = "Cannot complete operation because VMware Tools is not running in this virtual machine."
	msgNotFound       = "The object or item referred to could not be found."
	msgNotSupported   = "The operation is not supported on the object."
	msgAlreadyUpg     = "Virtual machine compatibility is already up-to-date."
	msgInvalidLicense = "The license key is not valid."
)

func msgPowerState(s types.VirtualMachinePowerState) string {
	names := map[types.VirtualMachinePowerState]string{
		types.VirtualMachinePowerStatePoweredOn:  "Powered on",
		types.VirtualMachinePowerStatePoweredOff: "Powered off",
		types.VirtualMachinePowerStateSuspended:  "Suspended",
	}
	return fmt.Sprintf("The attempted operation cannot be performed in the current state (%s).", names[s])
}

// setup registers the per-host managed objects, the licence and the identity
// flags. Called once, after the VMs are customized and before serving.
func (h *harness) setup(uuidFlag, hostname string, free bool) error {
	hosts := simulator.Map.All("HostSystem")
	sortEntities(hosts)
	for i, e := range hosts {
		host := e.(*simulator.HostSystem)
		suffix := ""
		if !h.standalone {
			suffix = "-" + host.Self.Value // one object per host under vCenter
		}
		ref := func(kind, value string) *types.ManagedObjectReference {
			return &types.ManagedObjectReference{Type: kind, Value: value + suffix}
		}
		// The ESX template's moref values (captured from a real host):
		// ha-firmwareSystem, serviceSystem, firewallSystem, ha-autostart-mgr.
		fw := &firmwareSystem{h: h, host: host}
		fw.Self = *ref("HostFirmwareSystem", "ha-firmwareSystem")
		simulator.Map.Put(fw)
		host.ConfigManager.FirmwareSystem = &fw.Self

		ss := &serviceSystem{host: host}
		ss.Self = *ref("HostServiceSystem", "serviceSystem")
		ss.ServiceInfo = *host.Config.Service
		simulator.Map.Put(ss)
		host.ConfigManager.ServiceSystem = &ss.Self

		// Replace the simulator's firewall system: its firewallInfo is a
		// shallow copy of a template shared by every host, so Disable/EnableRuleset
		// never reached the host's config.firewall.
		// It gets the real host's moref value (the simulator generated one).
		fws := &firewallSystem{host: host}
		fws.Self = *ref("HostFirewallSystem", "firewallSystem")
		if old := host.ConfigManager.FirewallSystem; old != nil {
			simulator.Map.Remove(*old)
		}
		fws.FirewallInfo = host.Config.Firewall
		simulator.Map.Put(fws)
		host.ConfigManager.FirewallSystem = &fws.Self

		am := &autoStartManager{host: host}
		am.Self = *ref("HostAutoStartManager", "ha-autostart-mgr")
		am.Config = autoStartFor(host)
		host.Config.AutoStart = copyAutoStart(am.Config)
		simulator.Map.Put(am)
		host.ConfigManager.AutoStartManager = &am.Self

		if i == 0 {
			h.host = host
		}
	}
	if h.host == nil {
		return fmt.Errorf("no host in the model")
	}
	if !h.standalone {
		return nil
	}

	host := h.host
	if uuidFlag != "" {
		host.Summary.Hardware.Uuid = uuidFlag
		host.Hardware.SystemInfo.Uuid = uuidFlag
	} else {
		// The template's summary.hardware.uuid differs from its
		// hardware.systemInfo.uuid; a real host reports one value in both
		// (and in its config bundle).
		host.Summary.Hardware.Uuid = host.Hardware.SystemInfo.Uuid
	}
	if hostname != "" {
		host.Name = hostname
		host.Summary.Config.Name = hostname
		if cr, ok := simulator.Map.Get(*host.Parent).(*mo.ComputeResource); ok {
			cr.Name = hostname
		}
		if dns, ok := host.Config.Network.DnsConfig.(*types.HostDnsConfig); ok {
			short, domain := hostname, ""
			if i := strings.IndexByte(hostname, '.'); i > 0 {
				short, domain = hostname[:i], hostname[i+1:]
			}
			dns.HostName, dns.DomainName = short, domain
		}
	}

	// The LicenseManager: the simulator's, wrapped (same moref) to add
	// UpdateLicense and DecodeLicense.
	lref := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance).Content.LicenseManager
	if lref == nil {
		return fmt.Errorf("no LicenseManager")
	}
	old, ok := simulator.Map.Get(*lref).(*simulator.LicenseManager)
	if !ok {
		return fmt.Errorf("LicenseManager %s is a %T", lref.Value, simulator.Map.Get(*lref))
	}
	lm := &licenseManager{LicenseManager: *old, h: h}
	if free {
		lm.Licenses = []types.LicenseManagerLicenseInfo{freeLicense(host.Config.Product.Version)}
	}
	simulator.Map.Put(lm)
	h.lm = lm
	return nil
}

// setCIMSLP sets the CIMSLP firewall ruleset (the slpd service's) enabled on
// 6.7 hosts and disabled on 7.0 hosts, matching slpd's state (KB 76372
// workaround applied on 7.0). The ruleset comes from the simulator's template.
func setCIMSLP(h *mo.HostSystem, p product) {
	if h.Config == nil || h.Config.Firewall == nil {
		return
	}
	for i := range h.Config.Firewall.Ruleset {
		if h.Config.Firewall.Ruleset[i].Key == "CIMSLP" {
			h.Config.Firewall.Ruleset[i].Enabled = !strings.HasPrefix(p.version, "7.")
		}
	}
}

// ---------------------------------------------------------------------------
// HostFirmwareSystem

type firmwareSystem struct {
	mo.HostFirmwareSystem
	h    *harness
	host *simulator.HostSystem
}

// SyncFirmwareConfiguration is answered by the front (front.go: intercept).

// BackupFirmwareConfiguration answers the download URL as real hosts do,
// with a literal "*" for the host: http://*/downloads/<uuid>/configBundle-<name>.tgz.
func (f *firmwareSystem) BackupFirmwareConfiguration(req *types.BackupFirmwareConfiguration) soap.HasFault {
	var name, hwUUID, build string
	simulator.Map.WithLock(f.host, func() {
		name, hwUUID, build = f.host.Name, f.host.Hardware.SystemInfo.Uuid, f.host.Config.Product.Build
	})
	data, err := configBundle(name, hwUUID, build)
	if err != nil {
		return &methods.BackupFirmwareConfigurationBody{Fault_: simulator.Fault(err.Error(), &types.SystemError{Reason: err.Error()})}
	}
	id := uuid.New().String()
	file := "configBundle-" + name + ".tgz"
	f.h.putBundle(id+"/"+file, data)
	return &methods.BackupFirmwareConfigurationBody{Res: &types.BackupFirmwareConfigurationResponse{
		Returnval: "http://*/downloads/" + id + "/" + file,
	}}
}

// configBundle builds the backup: a gzip tar of Manifest.txt and state.tgz,
// state.tgz a gzip tar of local.tgz, local.tgz a gzip tar of etc/vmware/esx.conf.
// The Manifest layout and the esx.conf lines are CONSTRUCTED (see README).
func configBundle(name, hwUUID, build string) ([]byte, error) {
	esxConf := fmt.Sprintf("/system/uuid = \"%s\"\n/adv/Misc/HostName = \"%s\"\n", hwUUID, name)
	local, err := tgz(map[string][]byte{"etc/vmware/esx.conf": []byte(esxConf)})
	if err != nil {
		return nil, err
	}
	state, err := tgz(map[string][]byte{"local.tgz": local})
	if err != nil {
		return nil, err
	}
	manifest := fmt.Sprintf("UUID=%s\nBUILD=%s\n", hwUUID, build)
	return tgz(map[string][]byte{"Manifest.txt": []byte(manifest), "state.tgz": state})
}

func tgz(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------------
// HostServiceSystem: serviceInfo and the host's config.service are the same list.

type serviceSystem struct {
	mo.HostServiceSystem
	host *simulator.HostSystem
}

// change applies f to the service with key id; false when there is none.
func (s *serviceSystem) change(id string, f func(*types.HostService)) bool {
	found := false
	simulator.Map.WithLock(s.host, func() {
		svc := s.host.Config.Service
		if svc == nil {
			return
		}
		for i := range svc.Service {
			if svc.Service[i].Key == id {
				f(&svc.Service[i])
				found = true
			}
		}
		if found {
			info := types.HostServiceInfo{Service: append([]types.HostService(nil), svc.Service...)}
			simulator.Map.Update(s.host, []types.PropertyChange{{Name: "config.service", Val: svc}})
			simulator.Map.Update(s, []types.PropertyChange{{Name: "serviceInfo", Val: info}})
		}
	})
	return found
}

func notFound() *soap.Fault { return simulator.Fault(msgNotFound, &types.NotFound{}) }

func (s *serviceSystem) StartService(req *types.StartService) soap.HasFault {
	if !s.change(req.Id, func(x *types.HostService) { x.Running = true }) {
		return &methods.StartServiceBody{Fault_: notFound()}
	}
	return &methods.StartServiceBody{Res: new(types.StartServiceResponse)}
}

func (s *serviceSystem) StopService(req *types.StopService) soap.HasFault {
	if !s.change(req.Id, func(x *types.HostService) { x.Running = false }) {
		return &methods.StopServiceBody{Fault_: notFound()}
	}
	return &methods.StopServiceBody{Res: new(types.StopServiceResponse)}
}

func (s *serviceSystem) RestartService(req *types.RestartService) soap.HasFault {
	if !s.change(req.Id, func(x *types.HostService) { x.Running = true }) {
		return &methods.RestartServiceBody{Fault_: notFound()}
	}
	return &methods.RestartServiceBody{Res: new(types.RestartServiceResponse)}
}

func (s *serviceSystem) UpdateServicePolicy(req *types.UpdateServicePolicy) soap.HasFault {
	switch req.Policy {
	case string(types.HostServicePolicyOn), string(types.HostServicePolicyOff), string(types.HostServicePolicyAutomatic):
	default:
		return &methods.UpdateServicePolicyBody{Fault_: simulator.Fault("A specified parameter was not correct: policy",
			&types.InvalidArgument{InvalidProperty: "policy"})}
	}
	if !s.change(req.Id, func(x *types.HostService) { x.Policy = req.Policy }) {
		return &methods.UpdateServicePolicyBody{Fault_: notFound()}
	}
	return &methods.UpdateServicePolicyBody{Res: new(types.UpdateServicePolicyResponse)}
}

func (s *serviceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	return &methods.RefreshServicesBody{Res: new(types.RefreshServicesResponse)}
}

// ---------------------------------------------------------------------------
// HostFirewallSystem: firewallInfo is the host's config.firewall (one value).

type firewallSystem struct {
	mo.HostFirewallSystem
	host *simulator.HostSystem
}

func (s *firewallSystem) setRuleset(id string, enabled bool) bool {
	found := false
	simulator.Map.WithLock(s.host, func() {
		fw := s.host.Config.Firewall
		for i := range fw.Ruleset {
			if fw.Ruleset[i].Key == id {
				fw.Ruleset[i].Enabled = enabled
				found = true
			}
		}
		if found {
			simulator.Map.Update(s.host, []types.PropertyChange{{Name: "config.firewall", Val: fw}})
			simulator.Map.Update(s, []types.PropertyChange{{Name: "firewallInfo", Val: fw}})
		}
	})
	return found
}

func (s *firewallSystem) DisableRuleset(req *types.DisableRuleset) soap.HasFault {
	if !s.setRuleset(req.Id, false) {
		return &methods.DisableRulesetBody{Fault_: notFound()}
	}
	return &methods.DisableRulesetBody{Res: new(types.DisableRulesetResponse)}
}

func (s *firewallSystem) EnableRuleset(req *types.EnableRuleset) soap.HasFault {
	if !s.setRuleset(req.Id, true) {
		return &methods.EnableRulesetBody{Fault_: notFound()}
	}
	return &methods.EnableRulesetBody{Res: new(types.EnableRulesetResponse)}
}

func (s *firewallSystem) RefreshFirewall(req *types.RefreshFirewall) soap.HasFault {
	return &methods.RefreshFirewallBody{Res: new(types.RefreshFirewallResponse)}
}

// ---------------------------------------------------------------------------
// HostAutoStartManager: config (defaults, powerInfo), mirrored in config.autoStart.

type autoStartManager struct {
	mo.HostAutoStartManager
	host *simulator.HostSystem
}

// autoStartFor gives the host's first two VMs (by name) a start order, the
// second VM first: VM #2 order 1, VM #1 order 2. Autostart itself stays
// disabled (defaults.enabled unset, as in the simulator's template captured
// from a real host), so a rebooted host comes back with every VM off. The
// per-VM values (startDelay -1, "systemDefault", startAction "PowerOn") are
// CONSTRUCTED.
func autoStartFor(host *simulator.HostSystem) types.HostAutoStartManagerConfig {
	cfg := types.HostAutoStartManagerConfig{}
	if host.Config.AutoStart != nil && host.Config.AutoStart.Defaults != nil {
		d := *host.Config.AutoStart.Defaults
		cfg.Defaults = &d
	}
	var vms []mo.Entity
	for _, ref := range host.Vm {
		if e, ok := simulator.Map.Get(ref).(mo.Entity); ok {
			vms = append(vms, e)
		}
	}
	sortEntities(vms)
	for i, e := range vms {
		if i >= 2 {
			break
		}
		cfg.PowerInfo = append(cfg.PowerInfo, types.AutoStartPowerInfo{
			Key:              e.Reference(),
			StartOrder:       int32(2 - i),
			StartDelay:       -1,
			WaitForHeartbeat: types.AutoStartWaitHeartbeatSettingSystemDefault,
			StartAction:      "PowerOn",
			StopDelay:        -1,
			StopAction:       "SystemDefault",
		})
	}
	sortPowerInfo(cfg.PowerInfo)
	return cfg
}

func sortPowerInfo(p []types.AutoStartPowerInfo) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].StartOrder < p[j].StartOrder })
}

func copyAutoStart(c types.HostAutoStartManagerConfig) *types.HostAutoStartManagerConfig {
	out := types.HostAutoStartManagerConfig{PowerInfo: append([]types.AutoStartPowerInfo(nil), c.PowerInfo...)}
	if c.Defaults != nil {
		d := *c.Defaults
		out.Defaults = &d
	}
	return &out
}

// ReconfigureAutostart merges the spec: defaults replace the given fields,
// powerInfo entries replace the entry of the same VM or are added.
func (a *autoStartManager) ReconfigureAutostart(req *types.ReconfigureAutostart) soap.HasFault {
	for _, p := range req.Spec.PowerInfo {
		if _, ok := simulator.Map.Get(p.Key).(*simulator.VirtualMachine); !ok {
			return &methods.ReconfigureAutostartBody{Fault_: simulator.Fault(msgNotFound, &types.NotFound{})}
		}
	}
	cfg := a.Config
	if d := req.Spec.Defaults; d != nil {
		if cfg.Defaults == nil {
			cfg.Defaults = &types.AutoStartDefaults{}
		}
		nd := *cfg.Defaults
		if d.Enabled != nil {
			nd.Enabled = d.Enabled
		}
		if d.StartDelay != 0 {
			nd.StartDelay = d.StartDelay
		}
		if d.StopDelay != 0 {
			nd.StopDelay = d.StopDelay
		}
		if d.WaitForHeartbeat != nil {
			nd.WaitForHeartbeat = d.WaitForHeartbeat
		}
		if d.StopAction != "" {
			nd.StopAction = d.StopAction
		}
		cfg.Defaults = &nd
	}
	info := append([]types.AutoStartPowerInfo(nil), cfg.PowerInfo...)
	for _, p := range req.Spec.PowerInfo {
		replaced := false
		for i := range info {
			if info[i].Key == p.Key {
				info[i], replaced = p, true
			}
		}
		if !replaced {
			info = append(info, p)
		}
	}
	sortPowerInfo(info)
	cfg.PowerInfo = info
	simulator.Map.Update(a, []types.PropertyChange{{Name: "config", Val: cfg}})
	simulator.Map.WithLock(a.host, func() {
		simulator.Map.Update(a.host, []types.PropertyChange{{Name: "config.autoStart", Val: copyAutoStart(cfg)}})
	})
	return &methods.ReconfigureAutostartBody{Res: new(types.ReconfigureAutostartResponse)}
}

// ---------------------------------------------------------------------------
// LicenseManager

type licenseManager struct {
	simulator.LicenseManager
	h *harness
}

var licenseKeyRE = regexp.MustCompile(`^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$`)

// freeKey is CONSTRUCTED: real free keys are not published; it only has to
// look like a key and end in a fixed group (the collector shows the last one).
const freeKey = "FREE0-FREE0-FREE0-FREE0-FREE0"

func major(version string) string {
	if i := strings.IndexByte(version, '.'); i > 0 {
		return version[:i]
	}
	return version
}

// licenseProps: ProductName / ProductVersion as `vim-cmd vimsvc/license --show`
// prints them on a real 7.0.3 host (research fixture 7.0-hypervisor.txt).
func licenseProps(version string) []types.KeyAnyValue {
	return []types.KeyAnyValue{
		{Key: "ProductName", Value: "VMware ESX Server"},
		{Key: "ProductVersion", Value: major(version) + ".0"},
	}
}

// freeLicense: name and edition key as a real free 7.0.3 host reports them
// ("vSphere 7 Hypervisor", esx.hypervisor.cpuPackageCoreLimited, cpuPackage:32core,
// research fixture license-show/7.0-hypervisor.txt); for 6.x and 8.x the
// major is substituted (CONSTRUCTED), the key is CONSTRUCTED.
func freeLicense(version string) types.LicenseManagerLicenseInfo {
	props := licenseProps(version)
	props = append(props,
		types.KeyAnyValue{Key: "count_disabled", Value: "This license is unlimited"},
		types.KeyAnyValue{Key: "feature", Value: types.KeyValue{Key: "vsmp:8", Value: "Up to 8-way virtual SMP"}})
	return types.LicenseManagerLicenseInfo{
		LicenseKey: freeKey,
		EditionKey: "esx.hypervisor.cpuPackageCoreLimited",
		Name:       fmt.Sprintf("vSphere %s Hypervisor", major(version)),
		Total:      0,
		Used:       1,
		CostUnit:   "cpuPackage:32core",
		Properties: props,
	}
}

// paidLicense: what UpdateLicense installs for a well-formed key. Edition key
// esx.enterprisePlus.cpuPackage (as the spec asks; seen in public scripts),
// name "vSphere N Enterprise Plus" (the name form real hosts report, e.g.
// "vSphere 7 Hypervisor", without "VMware"), total 0. CONSTRUCTED: any
// well-formed key is accepted as Enterprise Plus for the host's major version.
func paidLicense(key, version string, labels []types.KeyValue) types.LicenseManagerLicenseInfo {
	return types.LicenseManagerLicenseInfo{
		LicenseKey: key,
		EditionKey: "esx.enterprisePlus.cpuPackage",
		Name:       fmt.Sprintf("vSphere %s Enterprise Plus", major(version)),
		Total:      0,
		Used:       1,
		CostUnit:   "cpuPackage:32core",
		Properties: licenseProps(version),
		Labels:     labels,
	}
}

func (m *licenseManager) decode(key string, labels []types.KeyValue) (types.LicenseManagerLicenseInfo, *soap.Fault) {
	if !licenseKeyRE.MatchString(key) || key == simulator.EvalLicense.LicenseKey {
		return types.LicenseManagerLicenseInfo{}, simulator.Fault(msgInvalidLicense, &types.InvalidLicense{LicenseContent: key})
	}
	return paidLicense(key, m.h.productVersion(), labels), nil
}

// UpdateLicense replaces the host's licence (licenses[0]) with the key's.
func (m *licenseManager) UpdateLicense(req *types.UpdateLicense) soap.HasFault {
	info, f := m.decode(req.LicenseKey, req.Labels)
	if f != nil {
		return &methods.UpdateLicenseBody{Fault_: f}
	}
	simulator.Map.Update(m, []types.PropertyChange{{Name: "licenses", Val: []types.LicenseManagerLicenseInfo{info}}})
	return &methods.UpdateLicenseBody{Res: &types.UpdateLicenseResponse{Returnval: info}}
}

// DecodeLicense answers what UpdateLicense would install, without installing it.
func (m *licenseManager) DecodeLicense(req *types.DecodeLicense) soap.HasFault {
	info, f := m.decode(req.LicenseKey, nil)
	if f != nil {
		return &methods.DecodeLicenseBody{Fault_: f}
	}
	return &methods.DecodeLicenseBody{Res: &types.DecodeLicenseResponse{Returnval: info}}
}

// current returns licenses[0].
func (m *licenseManager) current() types.LicenseManagerLicenseInfo {
	var l types.LicenseManagerLicenseInfo
	simulator.Map.WithLock(m, func() {
		if len(m.Licenses) > 0 {
			l = m.Licenses[0]
		}
	})
	return l
}

func licenseMajor(l types.LicenseManagerLicenseInfo) string {
	for _, p := range l.Properties {
		if p.Key == "ProductVersion" {
			if s, ok := p.Value.(string); ok {
				return major(s)
			}
		}
	}
	return ""
}

// afterUpgrade: a host upgraded to a new major version with a licence for an
// older one runs in evaluation mode until a key for the new version is
// assigned (the project's own plan text says so for 6.x -> 7/8).
func (m *licenseManager) afterUpgrade(newVersion string) {
	simulator.Map.WithLock(m, func() {
		if len(m.Licenses) == 0 {
			return
		}
		lm := licenseMajor(m.Licenses[0])
		if lm != "" && lm != major(newVersion) {
			simulator.Map.Update(m, []types.PropertyChange{{Name: "licenses",
				Val: []types.LicenseManagerLicenseInfo{simulator.EvalLicense}}})
		}
	})
}
