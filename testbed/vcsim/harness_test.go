// Tests of the runner support against the built harness (bin/esxup-vcsim):
//
//	bash testbed/vcsim/build.sh
//	cd testbed/vcsim && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off go test .
//
// Each test starts its own harness process and talks to it over HTTPS, with
// govmomi's client for the SOAP side and plain HTTP for /folder, /downloads
// and /esxup-test/. About 10 s in all.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type sim struct {
	t       *testing.T
	url     string
	dir     string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	c       *govmomi.Client
	http    *http.Client
	ctx     context.Context
	hostRef types.ManagedObjectReference
}

func start(t *testing.T, args ...string) *sim {
	t.Helper()
	bin := filepath.Join("bin", "esxup-vcsim")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("run build.sh first")
	}
	dir := t.TempDir()
	args = append([]string{"-calls-file", filepath.Join(dir, "calls.json"), "-state-file", filepath.Join(dir, "state.json")}, args...)
	cmd := exec.Command(bin, args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var banner struct{ URL string }
	if err := json.Unmarshal([]byte(line), &banner); err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, url: banner.URL, dir: dir, cmd: cmd, stdin: stdin, ctx: context.Background(),
		http:    &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second},
		hostRef: types.ManagedObjectReference{Type: "HostSystem", Value: "ha-host"}}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	s.login()
	return s
}

func (s *sim) login() {
	u, _ := url.Parse(s.url)
	u.User = url.UserPassword("root", "esxup-test")
	c, err := govmomi.NewClient(s.ctx, u, true)
	if err != nil {
		s.t.Fatal(err)
	}
	s.c = c
}

func (s *sim) cookie() string {
	u, _ := url.Parse(s.url)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == soap.SessionCookieName {
			return c.Value
		}
	}
	return ""
}

// do sends a plain HTTP request to path (with the session cookie if auth).
func (s *sim) do(method, path string, body []byte, auth bool) (int, []byte) {
	s.t.Helper()
	base := strings.TrimSuffix(s.url, "/sdk")
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	if auth {
		req.AddCookie(&http.Cookie{Name: soap.SessionCookieName, Value: s.cookie()})
	}
	res, err := s.http.Do(req)
	if err != nil {
		return -1, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := ioutil.ReadAll(res.Body)
	return res.StatusCode, b
}

func (s *sim) state() hostState {
	s.t.Helper()
	code, b := s.do("GET", "/esxup-test/state", nil, false)
	if code != 200 {
		s.t.Fatalf("state: %d %s", code, b)
	}
	var st hostState
	if err := json.Unmarshal(b, &st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

func (s *sim) fileJSON(name string, v interface{}) {
	s.t.Helper()
	b, err := ioutil.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sim) vm(name string) *object.VirtualMachine {
	s.t.Helper()
	for _, v := range s.state().VMs {
		if strings.HasSuffix(v.Name, name) {
			return object.NewVirtualMachine(s.c.Client, types.ManagedObjectReference{Type: "VirtualMachine", Value: v.ID})
		}
	}
	s.t.Fatalf("no VM %s", name)
	return nil
}

// taskFault waits for a task and returns its fault (nil: success) and message.
func (s *sim) taskFault(ref types.ManagedObjectReference, err error) (types.BaseMethodFault, string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("task call: %v", err)
	}
	info, _ := object.NewTask(s.c.Client, ref).WaitForResult(s.ctx, nil)
	if info == nil {
		s.t.Fatal("no task info")
	}
	if info.Error == nil {
		return nil, ""
	}
	return info.Error.Fault, info.Error.LocalizedMessage
}

// wantSOAPFault: the fault detail (a value, e.g. types.NotFound) and faultstring.
func wantSOAPFault(t *testing.T, err error) (interface{}, string) {
	t.Helper()
	if err == nil || !soap.IsSoapFault(err) {
		t.Fatalf("want a SOAP fault, got %v", err)
	}
	f := soap.ToSoapFault(err)
	return f.VimFault(), f.String
}

// typeName: "types.X" for a fault value or pointer, "<nil>" for none.
func typeName(v interface{}) string { return strings.TrimPrefix(fmt.Sprintf("%T", v), "*") }

func (s *sim) waitState(what string, ok func(hostState) bool) hostState {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var st hostState
		s.fileJSON("state.json", &st)
		if ok(st) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s", what)
	return hostState{}
}

func TestRebootHost(t *testing.T) {
	s := start(t, "-reboot-down", "700ms")
	before := s.state()
	if before.BootTime == "" || before.Down {
		t.Fatalf("initial state %+v", before)
	}
	// Not in maintenance mode, force false: InvalidState as a task error.
	res, err := methods.RebootHost_Task(s.ctx, s.c, &types.RebootHost_Task{This: s.hostRef, Force: false})
	f, msg := s.taskFault(res.Returnval, err)
	if typeName(f) != "types.InvalidState" || msg != msgInvalidState {
		t.Fatalf("reboot outside MM: %T %q", f, msg)
	}
	host := object.NewHostSystem(s.c.Client, s.hostRef)
	task, err := host.EnterMaintenanceMode(s.ctx, 0, false, nil)
	if err != nil || task.Wait(s.ctx) != nil {
		t.Fatal("enter MM", err)
	}
	res, err = methods.RebootHost_Task(s.ctx, s.c, &types.RebootHost_Task{This: s.hostRef, Force: false})
	if f, _ := s.taskFault(res.Returnval, err); f != nil {
		t.Fatalf("reboot in MM: %T", f)
	}
	// Down: connections closed without an answer, the state file says so.
	st := s.waitState("down", func(st hostState) bool { return st.Down })
	if code, _ := s.do("GET", "/folder/x?dcPath=ha-datacenter&dsName=LocalDS_0", nil, true); code != -1 {
		t.Fatalf("a request while down got HTTP %d", code)
	}
	if _, err := methods.GetCurrentTime(s.ctx, s.c); err == nil {
		t.Fatal("SOAP answered while down")
	}
	st = s.waitState("up", func(st hostState) bool { return !st.Down && st.Reboots == 1 })
	if st.BootTime <= before.BootTime || !st.MM {
		t.Fatalf("after reboot: boot %s (was %s), MM %v", st.BootTime, before.BootTime, st.MM)
	}
	for _, v := range st.VMs {
		if v.Power != "poweredOff" || v.ToolsRun != "guestToolsNotRunning" {
			t.Fatalf("VM %s after reboot: %s %s", v.Name, v.Power, v.ToolsRun)
		}
	}
	// The old session is gone.
	if _, err := methods.GetCurrentTime(s.ctx, s.c); err == nil {
		t.Fatal("old session still valid")
	} else if f, _ := wantSOAPFault(t, err); typeName(f) != "types.NotAuthenticated" {
		t.Fatalf("old session: %T", f)
	}
	s.login()
	var h mo.HostSystem
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, []string{"runtime.bootTime", "summary.runtime.bootTime"}, &h); err != nil {
		t.Fatal(err)
	}
	if got := h.Runtime.BootTime.UTC().Format(time.RFC3339Nano); got != st.BootTime {
		t.Fatalf("runtime.bootTime %s, state %s", got, st.BootTime)
	}
	var calls map[string]int
	s.fileJSON("calls.json", &calls)
	if calls["RebootHost_Task"] != 2 || calls["EnterMaintenanceMode_Task"] != 1 {
		t.Fatalf("calls %v", calls)
	}
}

func TestInstallAndNeverBack(t *testing.T) {
	s := start(t, "-reboot-down", "300ms", "-product", "6.7.0")
	if code, b := s.do("POST", "/esxup-test/install?version=7.0.3", nil, false); code != 400 {
		t.Fatalf("install without build: %d %s", code, b)
	}
	if code, b := s.do("POST", "/esxup-test/install?version=7.0.3&build=20328353", nil, false); code != 200 {
		t.Fatalf("install: %d %s", code, b)
	}
	if code, _ := s.do("POST", "/esxup-test/install?version=7.0.3&build=20328353", nil, false); code != 409 {
		t.Fatalf("second install while rebooting: %d", code)
	}
	s.waitState("down", func(st hostState) bool { return st.Down })
	st := s.waitState("up", func(st hostState) bool { return !st.Down && st.Reboots == 1 })
	if st.Version != "7.0.3" || st.Build != "20328353" || st.MM {
		t.Fatalf("after install: %+v", st)
	}
	s.login()
	about := s.c.ServiceContent.About
	if about.Build != "20328353" || about.Version != "7.0.3" || about.FullName != "VMware ESXi 7.0.3 build-20328353" {
		t.Fatalf("ServiceContent.About %+v", about)
	}
	var h mo.HostSystem
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, []string{"config.product", "summary.config.product"}, &h); err != nil {
		t.Fatal(err)
	}
	if h.Config.Product.Build != "20328353" || h.Summary.Config.Product.Build != "20328353" {
		t.Fatalf("product %+v / %+v", h.Config.Product, h.Summary.Config.Product)
	}
	// 7.0.3: vmx-19 is now allowed (VM1 is off, vmx-14).
	vm1 := s.vm("VM1")
	res, err := methods.UpgradeVM_Task(s.ctx, s.c, &types.UpgradeVM_Task{This: vm1.Reference(), Version: "vmx-19"})
	if f, _ := s.taskFault(res.Returnval, err); f != nil {
		t.Fatalf("UpgradeVM vmx-19 on 7.0.3: %T", f)
	}

	n := start(t, "-reboot-down", "100ms", "-never-back")
	if code, _ := n.do("POST", "/esxup-test/install?version=7.0.3&build=20328353", nil, false); code != 200 {
		t.Fatal("install")
	}
	n.waitState("down", func(st hostState) bool { return st.Down })
	time.Sleep(500 * time.Millisecond)
	if st := n.state(); !st.Down || st.Reboots != 0 {
		t.Fatalf("-never-back came back: %+v", st)
	}
}

func TestVMOperations(t *testing.T) {
	s := start(t, "-vms", "6")
	st := s.state()
	// VM0 on/SupportedOld/vmx-13, VM1 off/Current/vmx-14, VM2 on/Current/vmx-19,
	// VM3 off/NotInstalled/vmx-14 (main.go looks, VMs sorted by name).
	if st.VMs[0].Power != "poweredOn" || st.VMs[3].ToolsStatus != "guestToolsNotInstalled" {
		t.Fatalf("unexpected VM layout %+v", st.VMs)
	}
	vm0, vm1, vm2, vm3 := s.vm("VM0"), s.vm("VM1"), s.vm("VM2"), s.vm("VM3")

	// ShutdownGuest without Tools: ToolsUnavailable.
	task, _ := vm3.PowerOn(s.ctx)
	if err := task.Wait(s.ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.state(); st.VMs[3].ToolsRun != "guestToolsNotRunning" || st.VMs[3].Power != "poweredOn" {
		t.Fatalf("VM3 after power on: %+v", st.VMs[3])
	}
	f, msg := wantSOAPFault(t, vm3.ShutdownGuest(s.ctx))
	if typeName(f) != "types.ToolsUnavailable" || msg != msgToolsNotRun {
		t.Fatalf("ShutdownGuest without Tools: %T %q", f, msg)
	}
	// UpgradeTools: off -> InvalidPowerState, no Tools -> ToolsUnavailable.
	res, err := methods.UpgradeTools_Task(s.ctx, s.c, &types.UpgradeTools_Task{This: vm1.Reference()})
	if f, msg := s.taskFault(res.Returnval, err); typeName(f) != "types.InvalidPowerState" || !strings.Contains(msg, "Powered off") {
		t.Fatalf("UpgradeTools off: %T %q", f, msg)
	}
	res, err = methods.UpgradeTools_Task(s.ctx, s.c, &types.UpgradeTools_Task{This: vm3.Reference()})
	if f, _ := s.taskFault(res.Returnval, err); typeName(f) != "types.ToolsUnavailable" {
		t.Fatalf("UpgradeTools no Tools: %T", f)
	}
	res, err = methods.UpgradeTools_Task(s.ctx, s.c, &types.UpgradeTools_Task{This: vm0.Reference(), InstallerOptions: ""})
	if f, _ := s.taskFault(res.Returnval, err); f != nil {
		t.Fatalf("UpgradeTools VM0: %T", f)
	}
	if v := s.state().VMs[0]; v.ToolsStatus != "guestToolsCurrent" || v.ToolsVer != upgradedToolsVersion {
		t.Fatalf("VM0 after UpgradeTools: %+v", v)
	}
	// ShutdownGuest with Tools: powers off, Tools stop running.
	if err := vm0.ShutdownGuest(s.ctx); err != nil {
		t.Fatal(err)
	}
	if v := s.state().VMs[0]; v.Power != "poweredOff" || v.ToolsRun != "guestToolsNotRunning" {
		t.Fatalf("VM0 after ShutdownGuest: %+v", v)
	}
	// UpgradeVM on the 6.7 host (max vmx-15).
	cases := []struct {
		vm   *object.VirtualMachine
		ver  string
		want string
	}{
		{vm2, "vmx-15", "types.InvalidPowerState"},
		{vm1, "vmx-14", "types.AlreadyUpgraded"},
		{vm1, "vmx-13", "types.AlreadyUpgraded"},
		{vm1, "vmx-17", "types.NotSupported"},
		{vm1, "bogus", "types.InvalidArgument"},
		{vm1, "vmx-15", "<nil>"},
		{vm1, "", "types.AlreadyUpgraded"},
		{vm0, "", "<nil>"},
	}
	for _, c := range cases {
		res, err := methods.UpgradeVM_Task(s.ctx, s.c, &types.UpgradeVM_Task{This: c.vm.Reference(), Version: c.ver})
		f, _ := s.taskFault(res.Returnval, err)
		if typeName(f) != c.want {
			t.Fatalf("UpgradeVM %s %q: %T, want %s", c.vm.Reference().Value, c.ver, f, c.want)
		}
	}
	if v := s.state().VMs; v[1].HW != "vmx-15" || v[0].HW != "vmx-15" {
		t.Fatalf("hardware after UpgradeVM: %s %s", v[0].HW, v[1].HW)
	}
	// Snapshots still work.
	stask, err := vm1.CreateSnapshot(s.ctx, "pre-upgrade", "", false, false)
	if err != nil || stask.Wait(s.ctx) != nil {
		t.Fatal("CreateSnapshot", err)
	}
	snap, err := vm1.FindSnapshot(s.ctx, "pre-upgrade")
	if err != nil {
		t.Fatal(err)
	}
	rres, err := methods.RemoveSnapshot_Task(s.ctx, s.c, &types.RemoveSnapshot_Task{This: *snap, RemoveChildren: false})
	if f, _ := s.taskFault(rres.Returnval, err); f != nil {
		t.Fatalf("RemoveSnapshot: %T", f)
	}
	var calls map[string]int
	s.fileJSON("calls.json", &calls)
	if calls["UpgradeVM_Task"] != len(cases) || calls["UpgradeTools_Task"] != 3 || calls["ShutdownGuest"] != 2 {
		t.Fatalf("calls %v", calls)
	}
}

func TestLicense(t *testing.T) {
	s := start(t)
	lm := types.ManagedObjectReference{Type: "LicenseManager", Value: "ha-license-manager"}
	_, err := methods.UpdateLicense(s.ctx, s.c, &types.UpdateLicense{This: lm, LicenseKey: "not-a-key"})
	if f, _ := wantSOAPFault(t, err); typeName(f) != "types.InvalidLicense" || f.(types.InvalidLicense).LicenseContent != "not-a-key" {
		t.Fatalf("bad key: %T", f)
	}
	key := "AB123-CD456-EF789-GH012-JK345"
	dec, err := methods.DecodeLicense(s.ctx, s.c, &types.DecodeLicense{This: lm, LicenseKey: key})
	if err != nil || dec.Returnval.LicenseKey != key {
		t.Fatal("DecodeLicense", err)
	}
	if st := s.state(); st.LicenseKey != simulatorEvalKey {
		t.Fatalf("DecodeLicense changed the licence: %s", st.LicenseKey)
	}
	res, err := methods.UpdateLicense(s.ctx, s.c, &types.UpdateLicense{This: lm, LicenseKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Returnval; r.LicenseKey != key || r.EditionKey != "esx.enterprisePlus.cpuPackage" || r.Name != "vSphere 6 Enterprise Plus" || r.Total != 0 {
		t.Fatalf("UpdateLicense answer %+v", r)
	}
	var m mo.LicenseManager
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, lm, []string{"licenses"}, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Licenses) != 1 || m.Licenses[0].LicenseKey != key {
		t.Fatalf("licenses %+v", m.Licenses)
	}
}

const simulatorEvalKey = "00000-00000-00000-00000-00000"

func TestFreeLicense(t *testing.T) {
	s := start(t, "-free-license", "-product", "7.0.3")
	st := s.state()
	if st.LicenseName != "vSphere 7 Hypervisor" || !strings.HasSuffix(st.LicenseKey, "-FREE0") {
		t.Fatalf("free licence %q %q", st.LicenseName, st.LicenseKey)
	}
	host := object.NewHostSystem(s.c.Client, s.hostRef)
	_, err := host.EnterMaintenanceMode(s.ctx, 0, false, nil)
	if f, msg := wantSOAPFault(t, err); typeName(f) != "types.RestrictedVersion" || msg != msgRestricted {
		t.Fatalf("EnterMaintenanceMode on free: %T %q", f, msg)
	}
	_, err = methods.BackupFirmwareConfiguration(s.ctx, s.c, &types.BackupFirmwareConfiguration{
		This: types.ManagedObjectReference{Type: "HostFirmwareSystem", Value: "ha-firmwareSystem"}})
	if f, _ := wantSOAPFault(t, err); typeName(f) != "types.RestrictedVersion" {
		t.Fatalf("Backup on free: %T", f)
	}
	var h mo.HostSystem // reads still work
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, []string{"name"}, &h); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.do("PUT", "/folder/x.bin?dcPath=ha-datacenter&dsName=LocalDS_0", []byte("x"), true); code != 403 {
		t.Fatalf("PUT /folder on free: %d", code)
	}
	if code, _ := s.do("GET", "/downloads/x/y.tgz", nil, true); code != 403 {
		t.Fatalf("GET /downloads on free: %d", code)
	}
}

func TestServicesAndFirewall(t *testing.T) {
	s := start(t, "-product", "6.7.0")
	ss := types.ManagedObjectReference{Type: "HostServiceSystem", Value: "serviceSystem"}
	fw := types.ManagedObjectReference{Type: "HostFirewallSystem", Value: "firewallSystem"}
	if st := s.state(); !st.Slpd.Running || st.Slpd.Policy != "on" || !*st.CIMSLP {
		t.Fatalf("6.7 slpd %+v cimslp %v", st.Slpd, *st.CIMSLP)
	}
	if _, err := methods.StopService(s.ctx, s.c, &types.StopService{This: ss, Id: "slpd"}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.UpdateServicePolicy(s.ctx, s.c, &types.UpdateServicePolicy{This: ss, Id: "slpd", Policy: "off"}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.DisableRuleset(s.ctx, s.c, &types.DisableRuleset{This: fw, Id: "CIMSLP"}); err != nil {
		t.Fatal(err)
	}
	_, err := methods.StartService(s.ctx, s.c, &types.StartService{This: ss, Id: "nosuch"})
	if f, _ := wantSOAPFault(t, err); typeName(f) != "types.NotFound" {
		t.Fatalf("unknown service: %T", f)
	}
	_, err = methods.EnableRuleset(s.ctx, s.c, &types.EnableRuleset{This: fw, Id: "nosuch"})
	if f, _ := wantSOAPFault(t, err); typeName(f) != "types.NotFound" {
		t.Fatalf("unknown ruleset: %T", f)
	}
	_, err = methods.UpdateServicePolicy(s.ctx, s.c, &types.UpdateServicePolicy{This: ss, Id: "slpd", Policy: "sometimes"})
	if f, _ := wantSOAPFault(t, err); typeName(f) != "types.InvalidArgument" {
		t.Fatalf("bad policy: %T", f)
	}
	pc := property.DefaultCollector(s.c.Client)
	var h mo.HostSystem
	if err := pc.RetrieveOne(s.ctx, s.hostRef, []string{"config.service", "config.firewall", "configManager"}, &h); err != nil {
		t.Fatal(err)
	}
	var sm mo.HostServiceSystem
	if err := pc.RetrieveOne(s.ctx, ss, []string{"serviceInfo"}, &sm); err != nil {
		t.Fatal(err)
	}
	var fm mo.HostFirewallSystem
	if err := pc.RetrieveOne(s.ctx, fw, []string{"firewallInfo"}, &fm); err != nil {
		t.Fatal(err)
	}
	find := func(list []types.HostService) types.HostService {
		for _, x := range list {
			if x.Key == "slpd" {
				return x
			}
		}
		t.Fatal("no slpd")
		return types.HostService{}
	}
	ruleset := func(info *types.HostFirewallInfo) bool {
		for _, r := range info.Ruleset {
			if r.Key == "CIMSLP" {
				return r.Enabled
			}
		}
		t.Fatal("no CIMSLP")
		return false
	}
	for _, x := range []types.HostService{find(h.Config.Service.Service), find(sm.ServiceInfo.Service)} {
		if x.Running || x.Policy != "off" {
			t.Fatalf("slpd after stop/off: %+v", x)
		}
	}
	if ruleset(h.Config.Firewall) || ruleset(fm.FirewallInfo) {
		t.Fatal("CIMSLP still enabled")
	}
	if h.ConfigManager.ServiceSystem.Value != "serviceSystem" || h.ConfigManager.FirmwareSystem.Value != "ha-firmwareSystem" ||
		h.ConfigManager.AutoStartManager.Value != "ha-autostart-mgr" {
		t.Fatalf("configManager %+v", h.ConfigManager)
	}
	if st := s.state(); st.Slpd.Running || st.Slpd.Policy != "off" || *st.CIMSLP {
		t.Fatalf("state after: %+v %v", st.Slpd, *st.CIMSLP)
	}

	s7 := start(t, "-product", "7.0.3")
	if st := s7.state(); st.Slpd.Running || st.Slpd.Policy != "off" || *st.CIMSLP {
		t.Fatalf("7.0.3 slpd %+v cimslp %v", st.Slpd, *st.CIMSLP)
	}
}

func untar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ioutil.ReadAll(tr)
		out[h.Name] = b
	}
}

func TestBackupAndDownload(t *testing.T) {
	s := start(t, "-uuid", "4c4c4544-0042-3510-8052-b4c04f4e3232", "-hostname", "esx01.lab.example")
	fwr := types.ManagedObjectReference{Type: "HostFirmwareSystem", Value: "ha-firmwareSystem"}
	var syncRes rawSync
	if err := s.c.RoundTrip(s.ctx, &rawSync{Req: &rawSyncReq{This: fwr}}, &syncRes); err != nil || syncRes.Res == nil {
		t.Fatalf("SyncFirmwareConfiguration: %v", err)
	}
	res, err := methods.BackupFirmwareConfiguration(s.ctx, s.c, &types.BackupFirmwareConfiguration{This: fwr})
	if err != nil {
		t.Fatal(err)
	}
	u := res.Returnval
	if !strings.HasPrefix(u, "http://*/downloads/") || !strings.HasSuffix(u, "/configBundle-esx01.lab.example.tgz") {
		t.Fatalf("backup URL %q", u)
	}
	path := strings.TrimPrefix(u, "http://*")
	if code, _ := s.do("GET", path, nil, false); code != 401 {
		t.Fatalf("download without cookie: %d", code)
	}
	code, data := s.do("GET", path, nil, true)
	if code != 200 {
		t.Fatalf("download: %d", code)
	}
	files := untar(t, data)
	if string(files["Manifest.txt"]) != "UUID=4c4c4544-0042-3510-8052-b4c04f4e3232\nBUILD=17700523\n" {
		t.Fatalf("Manifest.txt %q", files["Manifest.txt"])
	}
	if _, ok := untar(t, files["state.tgz"])["local.tgz"]; !ok {
		t.Fatal("state.tgz has no local.tgz")
	}
	if code, _ := s.do("GET", "/downloads/nosuch/configBundle-x.tgz", nil, true); code != 404 {
		t.Fatalf("unknown bundle: %d", code)
	}
	var h mo.HostSystem
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, []string{"name", "hardware.systemInfo", "summary.hardware"}, &h); err != nil {
		t.Fatal(err)
	}
	if h.Name != "esx01.lab.example" || h.Hardware.SystemInfo.Uuid != "4c4c4544-0042-3510-8052-b4c04f4e3232" || h.Summary.Hardware.Uuid != h.Hardware.SystemInfo.Uuid {
		t.Fatalf("identity %s %s %s", h.Name, h.Hardware.SystemInfo.Uuid, h.Summary.Hardware.Uuid)
	}
	var calls map[string]int
	s.fileJSON("calls.json", &calls)
	if calls["GET /downloads"] != 3 || calls["SyncFirmwareConfiguration"] != 1 || calls["BackupFirmwareConfiguration"] != 1 {
		t.Fatalf("calls %v", calls)
	}

	f := start(t, "-fail-download")
	res, err = methods.BackupFirmwareConfiguration(f.ctx, f.c, &types.BackupFirmwareConfiguration{This: fwr})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := f.do("GET", strings.TrimPrefix(res.Returnval, "http://*"), nil, true); code != 500 {
		t.Fatalf("-fail-download: %d", code)
	}

	// Without -uuid: one UUID in summary.hardware, hardware.systemInfo,
	// the state and the bundle's Manifest, as on a real host.
	if err := property.DefaultCollector(f.c.Client).RetrieveOne(f.ctx, f.hostRef, []string{"hardware.systemInfo", "summary.hardware"}, &h); err != nil {
		t.Fatal(err)
	}
	if h.Summary.Hardware.Uuid != h.Hardware.SystemInfo.Uuid || f.state().UUID != h.Summary.Hardware.Uuid {
		t.Fatalf("default identity: summary %s, systemInfo %s, state %s", h.Summary.Hardware.Uuid, h.Hardware.SystemInfo.Uuid, f.state().UUID)
	}
}

// SyncFirmwareConfiguration is not in govmomi's types: a hand-made request.
type rawSyncReq struct {
	This types.ManagedObjectReference `xml:"_this"`
}
type rawSync struct {
	Req    *rawSyncReq `xml:"urn:vim25 SyncFirmwareConfiguration,omitempty"`
	Res    *struct{}   `xml:"SyncFirmwareConfigurationResponse,omitempty"`
	Fault_ *soap.Fault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *rawSync) Fault() *soap.Fault { return b.Fault_ }

func TestFolderAndAutostart(t *testing.T) {
	s := start(t, "-vms", "3")
	p := "/folder/esxup/depot.zip?dcPath=ha-datacenter&dsName=LocalDS_0"
	if code, _ := s.do("PUT", p, []byte("payload"), false); code != 401 {
		t.Fatalf("PUT without cookie: %d", code)
	}
	if code, b := s.do("PUT", p, []byte("payload"), true); code != 200 && code != 201 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	if code, b := s.do("GET", p, nil, true); code != 200 || string(b) != "payload" {
		t.Fatalf("GET back: %d %q", code, b)
	}
	if code, _ := s.do("GET", p, nil, false); code != 401 {
		t.Fatalf("GET without cookie: %d", code)
	}
	var calls map[string]int
	s.fileJSON("calls.json", &calls)
	if calls["PUT /folder"] != 2 || calls["GET /folder"] != 2 {
		t.Fatalf("calls %v", calls)
	}
	code, b := s.do("GET", "/esxup-test/calls", nil, false)
	var viaHTTP map[string]int
	if code != 200 || json.Unmarshal(b, &viaHTTP) != nil || viaHTTP["PUT /folder"] != 2 {
		t.Fatalf("/esxup-test/calls: %d %s", code, b)
	}

	am := types.ManagedObjectReference{Type: "HostAutoStartManager", Value: "ha-autostart-mgr"}
	var m mo.HostAutoStartManager
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, am, []string{"config"}, &m); err != nil {
		t.Fatal(err)
	}
	st := s.state()
	pi := m.Config.PowerInfo
	if len(pi) != 2 || pi[0].Key.Value != st.VMs[1].ID || pi[0].StartOrder != 1 || pi[1].Key.Value != st.VMs[0].ID || pi[1].StartOrder != 2 {
		t.Fatalf("autostart powerInfo %+v (VMs %+v)", pi, st.VMs)
	}
	_, err := methods.ReconfigureAutostart(s.ctx, s.c, &types.ReconfigureAutostart{This: am, Spec: types.HostAutoStartManagerConfig{
		PowerInfo: []types.AutoStartPowerInfo{{Key: pi[1].Key, StartOrder: 3, StartDelay: -1, WaitForHeartbeat: "systemDefault", StartAction: "PowerOn", StopDelay: -1, StopAction: "SystemDefault"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var h mo.HostSystem
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, []string{"config.autoStart"}, &h); err != nil {
		t.Fatal(err)
	}
	if pi := h.Config.AutoStart.PowerInfo; len(pi) != 2 || pi[1].StartOrder != 3 {
		t.Fatalf("config.autoStart after reconfigure %+v", pi)
	}
}

// apiRegister reads a CPUID register as the API writes it ("0000:...:0100").
func apiRegister(t *testing.T, s string) uint32 {
	t.Helper()
	bits := strings.Replace(s, ":", "", -1)
	var v uint32
	if len(bits) != 32 {
		t.Fatalf("register %q: not 32 bits", s)
	}
	for _, c := range bits {
		v <<= 1
		if c == '1' {
			v |= 1
		} else if c != '0' {
			t.Fatalf("register %q", s)
		}
	}
	return v
}

// leaf finds CPUID leaf level (0x80000001 is -2147483647 in the API).
func leaf(t *testing.T, fs []types.HostCpuIdInfo, level uint32) types.HostCpuIdInfo {
	t.Helper()
	for _, f := range fs {
		if uint32(f.Level) == level {
			return f
		}
	}
	t.Fatalf("no CPUID leaf %#x in %v", level, fs)
	return types.HostCpuIdInfo{}
}

func TestHardwareFlags(t *testing.T) {
	props := []string{"hardware.cpuInfo", "hardware.cpuPkg", "hardware.cpuFeature", "hardware.memorySize", "hardware.numaInfo", "summary.hardware"}

	// Default: the simulator's template (Sandy Bridge EP E5-1620, 4 GiB).
	d := start(t, "-mode", "esx", "-product", "7.0.3")
	var h mo.HostSystem
	if err := property.DefaultCollector(d.c.Client).RetrieveOne(d.ctx, d.hostRef, props, &h); err != nil {
		t.Fatal(err)
	}
	if eax := apiRegister(t, leaf(t, h.Hardware.CpuFeature, 1).Eax); eax != 0x000206d7 || h.Hardware.MemorySize != 4294430720 {
		t.Fatalf("template: leaf 1 EAX %#x, memory %d", eax, h.Hardware.MemorySize)
	}

	s := start(t, "-mode", "esx", "-product", "7.0.3", "-cpu", "skylake-sp", "-memory-gib", "128")
	h = mo.HostSystem{}
	if err := property.DefaultCollector(s.c.Client).RetrieveOne(s.ctx, s.hostRef, props, &h); err != nil {
		t.Fatal(err)
	}
	hw, sum := h.Hardware, h.Summary.Hardware
	const brand = "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz"
	if hw.MemorySize != 128<<30 || sum.MemorySize != 128<<30 {
		t.Fatalf("memory: hardware %d, summary %d", hw.MemorySize, sum.MemorySize)
	}
	ci := hw.CpuInfo
	if ci.NumCpuPackages != 2 || ci.NumCpuCores != 32 || ci.NumCpuThreads != 64 || ci.Hz != 2100000000 {
		t.Fatalf("cpuInfo %+v", ci)
	}
	if sum.CpuModel != brand || sum.CpuMhz != 2100 || sum.NumCpuPkgs != 2 || sum.NumCpuCores != 32 || sum.NumCpuThreads != 64 {
		t.Fatalf("summary.hardware %+v", sum)
	}
	// As esxup's collector decodes them: vendor from leaf 0, family/model/
	// stepping and XSAVE from leaf 1, NX from 0x80000001.
	for i, fs := range [][]types.HostCpuIdInfo{hw.CpuFeature, hw.CpuPkg[0].CpuFeature, hw.CpuPkg[1].CpuFeature} {
		l0 := leaf(t, fs, 0)
		var vendor []byte
		for _, r := range []string{l0.Ebx, l0.Edx, l0.Ecx} {
			v := apiRegister(t, r)
			vendor = append(vendor, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		l1 := leaf(t, fs, 1)
		eax, ecx := apiRegister(t, l1.Eax), apiRegister(t, l1.Ecx)
		family, model, stepping := eax>>8&0xf, eax>>4&0xf|(eax>>16&0xf)<<4, eax&0xf
		nx := apiRegister(t, leaf(t, fs, 0x80000001).Edx)&(1<<20) != 0
		if string(vendor) != "GenuineIntel" || family != 6 || model != 0x55 || stepping != 4 || ecx&(1<<26) == 0 || !nx || ecx&(1<<31) != 0 {
			t.Fatalf("features %d: vendor %q family %d model %#x stepping %d ecx %#x nx %v", i, vendor, family, model, stepping, ecx, nx)
		}
		if apic := apiRegister(t, l1.Ebx) >> 24; i == 2 && apic != 0x40 || i < 2 && apic != 0 {
			t.Fatalf("features %d: initial APIC ID %#x", i, apic)
		}
	}
	if len(hw.CpuPkg) != 2 {
		t.Fatalf("cpuPkg %d", len(hw.CpuPkg))
	}
	for i, p := range hw.CpuPkg {
		if p.Index != int16(i) || p.Vendor != "intel" || p.Description != brand || len(p.ThreadId) != 32 || p.ThreadId[0] != int16(32*i) {
			t.Fatalf("cpuPkg[%d] %+v", i, p)
		}
	}
	if n := hw.NumaInfo; n == nil || n.NumNodes != 2 || n.NumaNode[1].MemoryRangeLength != 64<<30 || len(n.NumaNode[1].CpuID) != 32 {
		t.Fatalf("numaInfo %+v", hw.NumaInfo)
	}

	// Unknown CPU names and bad sizes are refused at start.
	for _, args := range [][]string{{"-cpu", "pentium"}, {"-memory-gib", "-1"}} {
		out, err := exec.Command(filepath.Join("bin", "esxup-vcsim"), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), args[0]) {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
}
