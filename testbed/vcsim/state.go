// Host state for the tests (/esxup-test/state, -state-file), the call
// counters (/esxup-test/calls, -calls-file), and the reboot: RebootHost_Task
// and /esxup-test/install take the host down for -reboot-down, then bring it
// back with new sessions, a new boot time, every VM off and (after an
// install) the new product.
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// rebootDelay: how long after a successful RebootHost_Task (or install) the
// host goes down, so that the client sees the task succeed first.
const rebootDelay = 300 * time.Millisecond

// restricted: the host runs on the free licence (state-changing calls refused).
func (h *harness) restricted() bool {
	if h.lm == nil {
		return false
	}
	return strings.HasPrefix(h.lm.current().EditionKey, "esx.hypervisor")
}

// productVersion: the host's current product version (config.product.version).
func (h *harness) productVersion() string {
	return hostVersion(h.host)
}

func hostVersion(host *simulator.HostSystem) string {
	var v string
	simulator.Map.WithLock(host, func() { v = host.Config.Product.Version })
	return v
}

// productVersionOf: the product version of the host running vm (vCenter
// hosts differ).
func (h *harness) productVersionOf(vm *simulator.VirtualMachine) string {
	var ref *types.ManagedObjectReference
	simulator.Map.WithLock(vm, func() { ref = vm.Runtime.Host })
	if ref != nil {
		if host, ok := simulator.Map.Get(*ref).(*simulator.HostSystem); ok {
			return hostVersion(host)
		}
	}
	return h.productVersion()
}

func (h *harness) callsSnapshot() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.calls))
	for k, v := range h.calls {
		out[k] = v
	}
	return out
}

type vmState struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Power       string `json:"power"`
	ToolsStatus string `json:"tools_status"`
	ToolsRun    string `json:"tools_running"`
	ToolsVer    string `json:"tools_version"`
	HW          string `json:"hw"`
	Snapshots   int    `json:"snapshots"`
}

type serviceState struct {
	Running bool   `json:"running"`
	Policy  string `json:"policy"`
}

type hostState struct {
	Build       string        `json:"build"`
	Version     string        `json:"version"`
	FullName    string        `json:"full_name"`
	MM          bool          `json:"in_maintenance_mode"`
	BootTime    string        `json:"boot_time"`
	Down        bool          `json:"down"`
	UUID        string        `json:"uuid"`
	Name        string        `json:"name"`
	VMs         []vmState     `json:"vms"`
	LicenseKey  string        `json:"license_key"`
	LicenseName string        `json:"license_name"`
	Slpd        *serviceState `json:"slpd"`
	CIMSLP      *bool         `json:"cimslp_enabled"`
	Pending     *string       `json:"pending_image"`
	Reboots     int           `json:"reboots"`
}

func countSnapshots(tree []types.VirtualMachineSnapshotTree) int {
	n := 0
	for _, t := range tree {
		n += 1 + countSnapshots(t.ChildSnapshotList)
	}
	return n
}

// state reads the host (esx: the host; vpx: the first host by name).
func (h *harness) state() hostState {
	var st hostState
	h.mu.Lock()
	st.Down, st.Reboots = h.down, h.reboots
	if h.pending != nil {
		p := h.pending.version + " build " + h.pending.build
		st.Pending = &p
	}
	h.mu.Unlock()

	host := h.host
	var vmRefs []types.ManagedObjectReference
	simulator.Map.WithLock(host, func() {
		st.Build, st.Version, st.FullName = host.Config.Product.Build, host.Config.Product.Version, host.Config.Product.FullName
		st.MM = host.Runtime.InMaintenanceMode
		if host.Runtime.BootTime != nil {
			st.BootTime = host.Runtime.BootTime.UTC().Format(time.RFC3339Nano)
		}
		st.UUID, st.Name = host.Hardware.SystemInfo.Uuid, host.Name
		if host.Config.Service != nil {
			for _, s := range host.Config.Service.Service {
				if s.Key == "slpd" {
					st.Slpd = &serviceState{s.Running, s.Policy}
				}
			}
		}
		if host.Config.Firewall != nil {
			for _, r := range host.Config.Firewall.Ruleset {
				if r.Key == "CIMSLP" {
					e := r.Enabled
					st.CIMSLP = &e
				}
			}
		}
		vmRefs = append(vmRefs, host.Vm...)
	})
	var vms []mo.Entity
	for _, ref := range vmRefs {
		if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
			vms = append(vms, vm)
		}
	}
	sortEntities(vms)
	st.VMs = []vmState{}
	for _, e := range vms {
		vm := e.(*simulator.VirtualMachine)
		simulator.Map.WithLock(vm, func() {
			s := vmState{ID: vm.Self.Value, Name: vm.Name, Power: string(vm.Runtime.PowerState), HW: vm.Config.Version}
			if vm.Guest != nil {
				s.ToolsStatus, s.ToolsRun, s.ToolsVer = vm.Guest.ToolsVersionStatus2, vm.Guest.ToolsRunningStatus, vm.Guest.ToolsVersion
			}
			if vm.Snapshot != nil {
				s.Snapshots = countSnapshots(vm.Snapshot.RootSnapshotList)
			}
			st.VMs = append(st.VMs, s)
		})
	}
	if h.lm != nil {
		l := h.lm.current()
		st.LicenseKey, st.LicenseName = l.LicenseKey, l.Name
	}
	return st
}

// writeFiles mirrors the counters and the state to -calls-file / -state-file
// (write a temp file next to it, then rename: readers never see half a file).
func (h *harness) writeFiles() {
	if h.callsFile == "" && h.stateFile == "" {
		return
	}
	h.fileMu.Lock()
	defer h.fileMu.Unlock()
	if h.callsFile != "" {
		writeAtomic(h.callsFile, h.callsSnapshot())
	}
	if h.stateFile != "" {
		writeAtomic(h.stateFile, h.state())
	}
}

func writeAtomic(path string, v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return
	}
	tmp, err := ioutil.TempFile(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// ---------------------------------------------------------------------------
// Reboot

// rebootHost: RebootHost_Task(force). Not in maintenance mode and force
// false -> InvalidState (a task error, as ESXi answers); a reboot already
// under way -> InvalidState too; otherwise the task succeeds and the host
// goes down rebootDelay later.
func (h *harness) rebootHost(body interface{}) soap.HasFault {
	req := body.(*types.RebootHost_Task)
	host := h.host
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(host, func() {
		ref = runTask(host, "RebootHost_Task", "HostSystem.reboot", func() (types.BaseMethodFault, string) {
			if !host.Runtime.InMaintenanceMode && !req.Force {
				return &types.InvalidState{}, msgInvalidState
			}
			if err := h.startReboot(nil); err != nil {
				return &types.InvalidState{}, msgInvalidState
			}
			return nil, ""
		})
	})
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: ref}}
}

// startReboot schedules the down window; image (may be nil) becomes the
// product when the host comes back. It may run under the host's lock: it
// must not call writeFiles (which takes it) before returning.
func (h *harness) startReboot(image *product) error {
	h.mu.Lock()
	if h.down || h.rebootPending {
		h.mu.Unlock()
		return fmt.Errorf("the host is rebooting")
	}
	h.rebootPending = true
	if image != nil {
		h.pending = image
	}
	h.mu.Unlock()
	go func() {
		time.Sleep(rebootDelay)
		h.mu.Lock()
		h.down = true
		h.mu.Unlock()
		h.srv.CloseClientConnections() // connections open now (long polls) drop too
		h.writeFiles()
		if h.neverBack {
			return
		}
		time.Sleep(h.rebootDown)
		h.boot()
		h.mu.Lock()
		h.down, h.rebootPending = false, false
		h.reboots++
		h.mu.Unlock()
		h.writeFiles()
	}()
	return nil
}

// boot: what the host looks like when it is back.
func (h *harness) boot() {
	h.dropSessions()

	h.mu.Lock()
	image := h.pending
	h.pending = nil
	h.mu.Unlock()

	host := h.host
	now := time.Now().UTC()
	var vmRefs []types.ManagedObjectReference
	simulator.Map.WithLock(host, func() {
		changes := []types.PropertyChange{
			{Name: "runtime.bootTime", Val: now},
			{Name: "summary.runtime.bootTime", Val: now},
		}
		if image != nil {
			about := aboutFor(*image)
			summaryAbout := about
			changes = append(changes,
				types.PropertyChange{Name: "config.product", Val: about},
				types.PropertyChange{Name: "summary.config.product", Val: &summaryAbout})
		}
		simulator.Map.Update(host, changes)
		vmRefs = append(vmRefs, host.Vm...)
	})
	if image != nil {
		si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
		simulator.Map.WithLock(si, func() { si.Content.About = aboutFor(*image) })
		if h.lm != nil {
			h.lm.afterUpgrade(image.version)
		}
	}
	for _, ref := range vmRefs {
		vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		simulator.Map.WithLock(vm, func() {
			off := types.VirtualMachinePowerStatePoweredOff
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "runtime.powerState", Val: off},
				{Name: "summary.runtime.powerState", Val: off},
				{Name: "runtime.bootTime", Val: nil},
				{Name: "summary.runtime.bootTime", Val: nil},
			})
			syncToolsLocked(vm)
		})
	}
}

// eventHeader carries a SOAP request's method name from serveSDK to the
// -events-file line; serveHTTP removes it before the answer leaves.
const eventHeader = "X-Esxup-Event-Call"

// event is one line of -events-file: a request as answered, with the host's
// maintenance mode after it. Several harness processes writing to their own
// files on one machine share the clock, so a test can merge their lines and
// see whether two hosts were ever in maintenance mode at the same time.
type event struct {
	TimeNs int64  `json:"t_ns"`
	Host   string `json:"host"`
	Call   string `json:"call"`
	MM     bool   `json:"in_maintenance_mode"`
}

// appendEvent appends one JSON line to -events-file (before the answer is
// sent, like -calls-file).
func (h *harness) appendEvent(call string) {
	if h.eventsFile == "" {
		return
	}
	var e event
	host := h.host
	simulator.Map.WithLock(host, func() {
		e = event{TimeNs: time.Now().UnixNano(), Host: host.Name, Call: call, MM: host.Runtime.InMaintenanceMode}
	})
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	h.fileMu.Lock()
	defer h.fileMu.Unlock()
	f, err := os.OpenFile(h.eventsFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	_, _ = f.Write(append(b, '\n'))
	_ = f.Close()
}
