// Host hardware flags: -cpu NAME and -memory-gib N give a host another CPU
// and memory size than the simulator's ESX template (a Sandy Bridge
// "Xeon E5-1620" with 4 GiB, which ESXi 8.0 refuses). See README.md,
// "Host hardware (-cpu, -memory-gib)".
package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// cpuidLeaf is one CPUID leaf: the four registers CPUID returns for
// EAX = level (ECX = 0).
type cpuidLeaf struct {
	level              uint32
	eax, ebx, ecx, edx uint32
}

// cpuProfile is a real CPU model as a host reports it over the API.
type cpuProfile struct {
	brand          string // CPUID brand string: summary.hardware.cpuModel, cpuPkg[].description
	vendor         string // cpuPkg[].vendor ("intel", "amd")
	packages       int    // sockets
	coresPerPkg    int
	threadsPerCore int
	hz             int64 // nominal clock
	busHz          int64
	leaves         []cpuidLeaf
	// apicStride: initial APIC ID of package i's first thread is i*apicStride
	// (CPUID leaf 1 EBX bits 31-24 in cpuPkg[i].cpuFeature).
	apicStride uint32
}

// cpuProfiles: the values of -cpu. Where each value comes from is in
// README.md ("Host hardware").
var cpuProfiles = map[string]cpuProfile{
	// Intel Xeon Gold 6130 (Skylake-SP, family 6 model 0x55 stepping 4,
	// 16 cores / 32 threads, 2.10 GHz), two sockets.
	"skylake-sp": {
		brand:          "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz",
		vendor:         "intel",
		packages:       2,
		coresPerPkg:    16,
		threadsPerCore: 2,
		hz:             2100000000,
		busHz:          100000000,
		apicStride:     0x40,
		leaves: []cpuidLeaf{
			// Leaves 0 and 1: InstLatx64 GenuineIntel0050654_SkylakeXeon_CPUID8.txt
			// as transcribed in google/cpu_features test/cpuinfo_x86_test.cc (SkyLakeXeon).
			{0x00000000, 0x00000016, 0x756E6547, 0x6C65746E, 0x49656E69}, // max leaf 0x16, "GenuineIntel"
			{0x00000001, 0x00050654, 0x00100800, 0x7FFEFBFF, 0xBFEBFBFF}, // 6/0x55/4; ECX: XSAVE, OSXSAVE, no hypervisor bit
			// Leaf 0x80000000: max extended leaf 0x80000008, as on every Intel
			// Core-era CPU (google/cpu_features Skylake i7-6500U "Branding" case).
			{0x80000000, 0x80000008, 0x00000000, 0x00000000, 0x00000000},
			// Leaf 0x80000001: a Xeon Platinum Id=0x50654 (FreeBSD 15.0 dmesg, KVM guest:
			// "AMD Features=0x2c100800<SYSCALL,NX,Page1GB,RDTSCP,LM>",
			// "AMD Features2=0x121<LAHF,ABM,Prefetch>").
			{0x80000001, 0x00000000, 0x00000000, 0x00000121, 0x2C100800},
			// Leaf 0x80000008: 46 physical / 48 linear address bits (EAX 0x302E),
			// the sizes Xeon Scalable reports. CONSTRUCTED: no capture at hand.
			{0x80000008, 0x0000302E, 0x00000000, 0x00000000, 0x00000000},
		},
	},
}

func cpuProfileNames() string {
	var names []string
	for n := range cpuProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// cpuidRegister writes a CPUID register as the API does: 32 bits, MSB first, in
// groups of four separated by ':' ("0000:0000:0000:0101:0000:0110:0101:0100").
func cpuidRegister(v uint32) string {
	var b strings.Builder
	for i := 31; i >= 0; i-- {
		if v&(1<<uint(i)) != 0 {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
		if i%4 == 0 && i > 0 {
			b.WriteByte(':')
		}
	}
	return b.String()
}

// cpuFeature is the API form of the leaves; levels above 0x7fffffff are
// negative (HostCpuIdInfo.level is an xsd:int: 0x80000001 is -2147483647).
// apicID goes into leaf 1 EBX bits 31-24.
func cpuFeature(leaves []cpuidLeaf, apicID uint32) []types.HostCpuIdInfo {
	out := make([]types.HostCpuIdInfo, 0, len(leaves))
	for _, l := range leaves {
		ebx := l.ebx
		if l.level == 1 {
			ebx = ebx&0x00ffffff | apicID<<24
		}
		out = append(out, types.HostCpuIdInfo{
			Level:  int32(l.level),
			Vendor: "",
			Eax:    cpuidRegister(l.eax),
			Ebx:    cpuidRegister(ebx),
			Ecx:    cpuidRegister(l.ecx),
			Edx:    cpuidRegister(l.edx),
		})
	}
	return out
}

// applyHardware gives the host the CPU (nil: keep the template's) and the
// memory size (0: keep the template's). Every slice is new: the simulator's
// hosts share the template's CpuPkg/CpuFeature slices (a shallow copy).
func applyHardware(h *simulator.HostSystem, cpu *cpuProfile, memGiB int64) {
	hw := h.Hardware
	sum := h.Summary.Hardware
	if hw == nil || sum == nil {
		return
	}
	if cpu != nil {
		cores := cpu.packages * cpu.coresPerPkg
		threads := cores * cpu.threadsPerCore
		hw.CpuInfo = types.HostCpuInfo{
			NumCpuPackages: int16(cpu.packages),
			NumCpuCores:    int16(cores),
			NumCpuThreads:  int16(threads),
			Hz:             cpu.hz,
		}
		perPkg := cpu.coresPerPkg * cpu.threadsPerCore
		var pkgs []types.HostCpuPackage
		for i := 0; i < cpu.packages; i++ {
			var ids []int16
			for t := 0; t < perPkg; t++ {
				ids = append(ids, int16(i*perPkg+t))
			}
			pkgs = append(pkgs, types.HostCpuPackage{
				Index:       int16(i),
				Vendor:      cpu.vendor,
				Hz:          cpu.hz,
				BusHz:       cpu.busHz,
				Description: cpu.brand,
				ThreadId:    ids,
				CpuFeature:  cpuFeature(cpu.leaves, uint32(i)*cpu.apicStride),
			})
		}
		hw.CpuPkg = pkgs
		hw.CpuFeature = cpuFeature(cpu.leaves, 0)
		sum.CpuModel = cpu.brand
		sum.CpuMhz = int32(cpu.hz / 1000000)
		sum.NumCpuPkgs = int16(cpu.packages)
		sum.NumCpuCores = int16(cores)
		sum.NumCpuThreads = int16(threads)
	}
	if memGiB > 0 {
		hw.MemorySize = memGiB << 30
		sum.MemorySize = memGiB << 30
	}
	if cpu != nil || memGiB > 0 {
		hw.NumaInfo = numaInfo(hw)
	}
}

// numaInfo: one NUMA node per CPU package, holding that package's threads
// and an equal share of the memory (CONSTRUCTED layout; the template's one
// node with 1 GiB at 4 GiB does not match its own 4 GiB host either).
func numaInfo(hw *types.HostHardwareInfo) *types.HostNumaInfo {
	n := len(hw.CpuPkg)
	if n == 0 {
		n = 1
	}
	share := hw.MemorySize / int64(n)
	info := &types.HostNumaInfo{Type: "NUMA", NumNodes: int32(n)}
	for i := 0; i < n; i++ {
		var ids []int16
		if i < len(hw.CpuPkg) {
			ids = append(ids, hw.CpuPkg[i].ThreadId...)
		}
		info.NumaNode = append(info.NumaNode, types.HostNumaNode{
			TypeId:            byte(i),
			CpuID:             ids,
			MemoryRangeBegin:  int64(i) * share,
			MemoryRangeLength: share,
		})
	}
	return info
}

// parseHardwareFlags checks -cpu and -memory-gib.
func parseHardwareFlags(cpuName string, memGiB int64) (*cpuProfile, error) {
	if memGiB < 0 || memGiB > 24*1024 {
		return nil, fmt.Errorf("-memory-gib %d: want 1 to 24576 (0: the template's 4 GiB)", memGiB)
	}
	if cpuName == "" || cpuName == "template" {
		return nil, nil
	}
	p, ok := cpuProfiles[strings.ToLower(cpuName)]
	if !ok {
		return nil, fmt.Errorf("-cpu %q: unknown CPU (known: template, %s)", cpuName, cpuProfileNames())
	}
	return &p, nil
}
