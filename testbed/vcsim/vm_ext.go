// VirtualMachine methods answered by the harness front (front.go): ShutdownGuest
// needs running Tools, UpgradeTools_Task (missing in govmomi 0.24.2), and an
// UpgradeVM_Task that checks power state, the current version and the host's
// maximum hardware version. Also keeps guest.toolsRunningStatus in step with
// the power state.
package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// upgradedToolsVersion is what UpgradeTools_Task leaves in guest.toolsVersion:
// 12352 = 12.2.0 in the API's encoding (major*1024 + minor*32 + patch).
// CONSTRUCTED: any current-looking value; real hosts report the version of
// the Tools ISO they ship.
const upgradedToolsVersion = "12352"

// toolsRunning derives guest.toolsRunningStatus and guest.toolsStatus from
// the power state and the Tools state: Tools run in a powered-on VM that has
// them installed.
func toolsRunning(vm *mo.VirtualMachine) (string, types.VirtualMachineToolsStatus) {
	installed := vm.Guest.ToolsVersionStatus2 != string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled)
	running := installed && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	rs := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	if running {
		rs = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	}
	switch {
	case !installed:
		return rs, types.VirtualMachineToolsStatusToolsNotInstalled
	case !running:
		return rs, types.VirtualMachineToolsStatusToolsNotRunning
	case vm.Guest.ToolsVersionStatus2 == string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent),
		vm.Guest.ToolsVersionStatus2 == string(types.VirtualMachineToolsVersionStatusGuestToolsUnmanaged):
		return rs, types.VirtualMachineToolsStatusToolsOk
	default:
		return rs, types.VirtualMachineToolsStatusToolsOld
	}
}

// syncToolsLocked updates guest.toolsRunningStatus/toolsStatus; the caller holds the VM's lock.
func syncToolsLocked(vm *simulator.VirtualMachine) {
	rs, ts := toolsRunning(&vm.VirtualMachine)
	if vm.Guest.ToolsRunningStatus != rs || vm.Guest.ToolsStatus != ts {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "guest.toolsRunningStatus", Val: rs},
			{Name: "guest.toolsStatus", Val: ts},
		})
	}
}

// syncTools after a power operation on ref (a VM; anything else: every VM).
func (h *harness) syncTools(ref types.ManagedObjectReference) {
	var vms []*simulator.VirtualMachine
	if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
		vms = append(vms, vm)
	} else {
		for _, e := range simulator.Map.All("VirtualMachine") {
			vms = append(vms, e.(*simulator.VirtualMachine))
		}
	}
	for _, vm := range vms {
		simulator.Map.WithLock(vm, func() { syncToolsLocked(vm) })
	}
}

// runTask creates and runs a task on e. info.name is the SOAP method
// (RebootHost_Task) and info.descriptionId "<Type>.<vmodl method>", as real
// hosts report them (the simulator's own tasks use other forms); a failure
// gets a real-looking localizedMessage instead of the simulator's Go type name.
func runTask(e mo.Entity, method, descID string, run func() (types.BaseMethodFault, string)) types.ManagedObjectReference {
	var msg string
	task := simulator.CreateTask(e, method, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		f, m := run()
		msg = m
		return nil, f
	})
	task.Info.Name = method
	task.Info.DescriptionId = descID
	task.Info.EntityName = e.Entity().Name
	ref := task.Run()
	if task.Info.Error != nil && msg != "" {
		simulator.Map.Update(task, []types.PropertyChange{{Name: "info.error", Val: types.LocalizedMethodFault{
			Fault: task.Info.Error.Fault, LocalizedMessage: msg,
		}}})
	}
	return ref
}

func powerFault(vm *simulator.VirtualMachine, want types.VirtualMachinePowerState) (types.BaseMethodFault, string) {
	return &types.InvalidPowerState{RequestedState: want, ExistingState: vm.Runtime.PowerState},
		msgPowerState(vm.Runtime.PowerState)
}

// shutdownGuestCheck: ShutdownGuest needs running Tools (ToolsUnavailable
// otherwise, as real hosts answer). A powered-off VM is left to the
// simulator (InvalidPowerState). nil: the simulator answers.
func (h *harness) shutdownGuestCheck(body interface{}) soap.HasFault {
	req := body.(*types.ShutdownGuest)
	vm := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		if rs, _ := toolsRunning(&vm.VirtualMachine); rs != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
			res = &methods.ShutdownGuestBody{Fault_: simulator.Fault(msgToolsNotRun, &types.ToolsUnavailable{})}
		}
	})
	return res
}

// upgradeTools: powered off -> InvalidPowerState; Tools not installed (or not
// running) -> ToolsUnavailable; OS-managed Tools (guestToolsUnmanaged) ->
// VmToolsUpgradeFault (CONSTRUCTED: the API cannot upgrade open-vm-tools);
// else Tools become current. Failures are task errors.
func (h *harness) upgradeTools(body interface{}) soap.HasFault {
	req := body.(*types.UpgradeTools_Task)
	vm := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(vm, func() {
		ref = runTask(vm, "UpgradeTools_Task", "VirtualMachine.upgradeTools", func() (types.BaseMethodFault, string) {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
				return powerFault(vm, types.VirtualMachinePowerStatePoweredOn)
			}
			switch vm.Guest.ToolsVersionStatus2 {
			case string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled):
				return &types.ToolsUnavailable{}, msgToolsNotRun
			case string(types.VirtualMachineToolsVersionStatusGuestToolsUnmanaged):
				return &types.VmToolsUpgradeFault{}, "VMware Tools in this virtual machine are managed by the guest operating system."
			}
			if rs, _ := toolsRunning(&vm.VirtualMachine); rs != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
				return &types.ToolsUnavailable{}, msgToolsNotRun
			}
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "guest.toolsVersionStatus2", Val: string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)},
				{Name: "guest.toolsVersionStatus", Val: string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)},
				{Name: "guest.toolsVersion", Val: upgradedToolsVersion},
			})
			syncToolsLocked(vm)
			return nil, ""
		})
	})
	return &methods.UpgradeTools_TaskBody{Res: &types.UpgradeTools_TaskResponse{Returnval: ref}}
}

// maxHardware is the newest VM hardware version a host product runs
// (research README "VM hardware versions": 13 = 6.5, 14 = 6.7, 15 = 6.7 U2,
// 17 = 7.0, 18 = 7.0 U1, 19 = 7.0 U2, 20 = 8.0, 21 = 8.0 U2). ESXi 6.7 U2 and
// later all report version 6.7.0, so 6.7.0 maps to 15 (the harness's 6.7
// host is P05, after U3).
func maxHardware(version string) int {
	switch {
	case strings.HasPrefix(version, "8.0.0"), strings.HasPrefix(version, "8.0.1"):
		return 20
	case strings.HasPrefix(version, "8."), strings.HasPrefix(version, "9."):
		return 21
	case strings.HasPrefix(version, "7.0.0"):
		return 17
	case strings.HasPrefix(version, "7.0.1"):
		return 18
	case strings.HasPrefix(version, "7."):
		return 19
	case strings.HasPrefix(version, "6.7"):
		return 15
	default:
		return 13
	}
}

func hwNumber(v string) (int, bool) {
	if !strings.HasPrefix(v, "vmx-") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "vmx-"))
	return n, err == nil && n > 0
}

// upgradeVM: powered on -> InvalidPowerState; version <= current ->
// AlreadyUpgraded; above the host's maximum -> NotSupported; no version ->
// the host's maximum. Failures are task errors.
func (h *harness) upgradeVM(body interface{}) soap.HasFault {
	req := body.(*types.UpgradeVM_Task)
	vm := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	max := maxHardware(h.productVersionOf(vm))
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(vm, func() {
		ref = runTask(vm, "UpgradeVM_Task", "VirtualMachine.upgradeVirtualHardware", func() (types.BaseMethodFault, string) {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
				return powerFault(vm, types.VirtualMachinePowerStatePoweredOff)
			}
			cur, _ := hwNumber(vm.Config.Version)
			want := max
			if req.Version != "" {
				n, ok := hwNumber(req.Version)
				if !ok {
					return &types.InvalidArgument{InvalidProperty: "version"},
						"A specified parameter was not correct: version"
				}
				want = n
			}
			if want <= cur {
				return &types.AlreadyUpgraded{}, msgAlreadyUpg
			}
			if want > max {
				return &types.NotSupported{}, msgNotSupported
			}
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.version", Val: fmt.Sprintf("vmx-%d", want)}})
			return nil, ""
		})
	})
	return &methods.UpgradeVM_TaskBody{Res: &types.UpgradeVM_TaskResponse{Returnval: ref}}
}
