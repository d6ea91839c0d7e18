// esxup-vcsim: a small test harness around govmomi's vSphere simulator
// (github.com/vmware/govmomi/simulator, Debian's golang-github-vmware-govmomi-dev,
// govmomi 0.24.2), built offline in GOPATH mode by testbed/vcsim/build.sh.
//
// It starts a standalone ESXi model (-mode esx) or a vCenter model (-mode vpx)
// with realistic products, VMs with snapshots, several hardware versions and
// Tools states, listens on 127.0.0.1 with its own TLS certificate (a fresh CA
// and a leaf certificate signed by it) and prints one JSON line on stdout:
//
//	{"url":"https://127.0.0.1:PORT/sdk","thumbprint":"AA:BB:...","thumbprint_sha1":"..","ca_file":"..",...}
//
// It exits when its stdin is closed (so a test that dies never leaks it) or
// on SIGTERM/SIGINT.
//
// What it changes in the simulator, and why (see README.md next to it):
//   - product version/build: esx.HostConfigInfo.Product and the service
//     content's About are set before model.Create(); after Create every host
//     gets its own copy of the product in config.product and
//     summary.config.product (all hosts share one summary value otherwise).
//   - VMs: config.version (vmx-13/14/19), guest.toolsVersionStatus2,
//     guest.toolsVersion and guest.guestId are set per VM; some VMs get
//     snapshots (created through the API, then aged).
//   - an slpd service entry is added to config.service (the simulator's ESX
//     template has none; real 6.7/7.0 hosts do).
//   - -cpu NAME / -memory-gib N: the hosts' CPU (cpuInfo, cpuPkg, cpuFeature
//     CPUID leaves, summary cpuModel) and memory size, e.g. a Skylake-SP
//     with 128 GiB that ESXi 8.0 accepts (hardware.go).
//   - -die-after N: the process exits abruptly while answering the Nth SOAP
//     request, to simulate a host that goes away mid-collection;
//     -hang-after N: from the Nth request on it accepts but never answers
//     (a host that stops responding), to exercise read timeouts.
//   - for `esxup run` (see README.md, "Runner support"): HostFirmwareSystem
//     (config backup + /downloads), HostServiceSystem, a HostFirewallSystem
//     that changes config.firewall, HostAutoStartManager, LicenseManager
//     UpdateLicense/DecodeLicense, RebootHost_Task with a down window,
//     UpgradeTools_Task, a stricter UpgradeVM_Task and ShutdownGuest, the
//     free-licence restrictions (-free-license), session-checked /folder and
//     /downloads, and the test control endpoints under /esxup-test/ (front.go,
//     host_ext.go, vm_ext.go, state.go).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// product is one ESXi release the harness can give a host.
type product struct {
	version string
	build   string
}

// Real releases (see /work/shared/research/README.md): ESXi 6.7 P05 (ESXi670-202103001,
// build 17700523) and ESXi 7.0 Update 3g (build 20328353).
var products = []product{
	{"6.7.0", "17700523"},
	{"7.0.3", "20328353"},
}

func aboutFor(p product) types.AboutInfo {
	about := esx.HostConfigInfo.Product
	about.Version = p.version
	about.Build = p.build
	about.FullName = fmt.Sprintf("VMware ESXi %s build-%s", p.version, p.build)
	return about
}

// tpmCapability gives a host the TPM part of HostCapability (the simulator
// leaves Capability nil). CONSTRUCTED: the 6.7 host has a TPM 1.2 (the
// servers of that era shipped with one), the 7.0 host a TPM 2.0; in vCenter
// mode every third host has no TPM at all. tpmVersion exists since vSphere
// API 6.7 (govmomi types: HostCapability.TpmVersion).
func tpmCapability(p product, i int, standalone bool) *types.HostCapability {
	supported := standalone || i%3 != 2
	c := &types.HostCapability{TpmSupported: &supported}
	if supported {
		c.TpmVersion = "2.0"
		if strings.HasPrefix(p.version, "6.") {
			c.TpmVersion = "1.2"
		}
	}
	return c
}

func main() {
	mode := flag.String("mode", "esx", "esx (standalone host) or vpx (vCenter)")
	hosts := flag.Int("hosts", 3, "vpx: number of standalone hosts")
	clusters := flag.Int("clusters", 0, "vpx: number of clusters (DC0_C0, DC0_C1, ...)")
	clusterHosts := flag.Int("cluster-hosts", 0, "vpx: hosts in each cluster")
	vms := flag.Int("vms", 6, "total number of VMs")
	snapEvery := flag.Int("snapshot-every", 3, "every Nth VM gets snapshots (0: none)")
	user := flag.String("user", "root", "login user")
	password := flag.String("password", "esxup-test", "login password")
	productFlag := flag.String("product", "6.7.0", "esx: product version of the host (6.7.0 or 7.0.3)")
	dieAfter := flag.Int64("die-after", 0, "exit abruptly while answering the Nth SOAP request (0: never)")
	hangAfter := flag.Int64("hang-after", 0, "stop answering from the Nth SOAP request on, connection left open (0: never)")
	certDir := flag.String("cert-dir", "", "where to write ca.pem (default: a temp dir)")
	rebootDown := flag.Duration("reboot-down", 2*time.Second, "esx: how long the host stays down after RebootHost_Task or /esxup-test/install")
	neverBack := flag.Bool("never-back", false, "esx: after a reboot the host stays down forever")
	failDownload := flag.Bool("fail-download", false, "GET /downloads/... answers HTTP 500 (a config backup download that fails)")
	freeLicense := flag.Bool("free-license", false, "esx: the host has the free vSphere Hypervisor licence (state-changing API calls refused)")
	callsFile := flag.String("calls-file", "", "write the per-method call counters (JSON) here after every request")
	eventsFile := flag.String("events-file", "", "append one JSON line per request here (time, host, call, maintenance mode after it)")
	stateFile := flag.String("state-file", "", "write the host state (JSON) here after every request and state change")
	uuidFlag := flag.String("uuid", "", "esx: hardware UUID of the host (default: the simulator's)")
	hostnameFlag := flag.String("hostname", "", "esx: host name (default: the simulator's, localhost.localdomain)")
	cpuFlag := flag.String("cpu", "template", "CPU of every host: template (the simulator's Sandy Bridge Xeon E5-1620) or "+cpuProfileNames())
	memGiB := flag.Int64("memory-gib", 0, "memory of every host in GiB (0: the template's 4 GiB)")
	flag.Parse()
	log.SetOutput(ioutil.Discard)
	cpu, err := parseHardwareFlags(*cpuFlag, *memGiB)
	if err != nil {
		fatal("%v", err)
	}

	var m *simulator.Model
	standalone := *mode == "esx"
	hostProduct := products[0]
	for _, p := range products {
		if p.version == *productFlag {
			hostProduct = p
		}
	}
	// Before Create(): the host template and (ESX) the service content's About.
	esx.HostConfigInfo.Product = aboutFor(hostProduct)
	if standalone {
		m = simulator.ESX()
		m.Machine = *vms
		about := aboutFor(hostProduct)
		m.ServiceContent.About = about
		esx.ServiceContent.About = about
	} else {
		m = simulator.VPX()
		m.Datacenter = 1
		m.Cluster = *clusters
		m.ClusterHost = *clusterHosts
		m.Host = *hosts
		m.Portgroup = 0
		// The simulator creates Machine VMs in every resource pool (one per
		// standalone host, one per cluster): spread the total over them.
		if all := *hosts + *clusters; all > 0 {
			m.Machine = (*vms + all - 1) / all
		}
	}
	m.Autostart = false
	if err := m.Create(); err != nil {
		fatal("create model: %v", err)
	}
	defer m.Remove()

	// After Create(): per-host products (each its own copy) and services.
	for i, ref := range simulator.Map.All("HostSystem") {
		h := simulator.Map.Get(ref.Reference()).(*simulator.HostSystem)
		p := hostProduct
		if !standalone {
			p = products[i%len(products)]
		}
		about := aboutFor(p)
		h.Config.Product = about
		summaryAbout := about
		h.Summary.Config.Product = &summaryAbout
		addSlpd(&h.HostSystem, p)
		setCIMSLP(&h.HostSystem, p)
		h.Capability = tpmCapability(p, i, standalone)
		applyHardware(h, cpu, *memGiB)
		if !standalone && i%5 == 4 {
			h.Runtime.InMaintenanceMode = true
		}
	}

	// TLS: a CA and a leaf certificate for 127.0.0.1 / localhost.
	dir := *certDir
	if dir == "" {
		d, err := ioutil.TempDir("", "esxup-vcsim")
		if err != nil {
			fatal("temp dir: %v", err)
		}
		dir = d
	}
	if *certDir == "" {
		defer os.RemoveAll(dir)
	}
	leaf, caPEM, err := makeCerts()
	if err != nil {
		fatal("certificates: %v", err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := ioutil.WriteFile(caFile, caPEM, 0o644); err != nil {
		fatal("write %s: %v", caFile, err)
	}
	m.Service.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(*user, *password)}

	s := m.Service.NewServer()
	defer s.Close()

	if err := customizeVMs(s.URL, *user, *password, *snapEvery); err != nil {
		fatal("customize VMs: %v", err)
	}

	// Runner support: per-host managed objects, licence, identity (host_ext.go).
	h := newHarness(s, standalone)
	h.rebootDown, h.neverBack, h.failDownload = *rebootDown, *neverBack, *failDownload
	h.callsFile, h.stateFile, h.eventsFile = *callsFile, *stateFile, *eventsFile
	if err := h.setup(*uuidFlag, *hostnameFlag, *freeLicense); err != nil {
		fatal("runner support: %v", err)
	}

	// Count SOAP requests; with -die-after, exit while answering the Nth one.
	var calls int64
	inner := s.Config.Handler
	h.inner = inner
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sdk") {
			n := atomic.AddInt64(&calls, 1)
			if *dieAfter > 0 && n >= *dieAfter {
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						_ = conn.Close()
					}
				}
				os.Exit(3)
			}
			if *hangAfter > 0 && n >= *hangAfter {
				<-r.Context().Done() // until the client gives up
				return
			}
		}
		h.serveHTTP(w, r)
	})
	h.writeFiles()

	sum256 := sha256.Sum256(leaf.Certificate[0])
	sum1 := sha1.Sum(leaf.Certificate[0])
	u := *s.URL
	u.User = nil
	out := map[string]interface{}{
		"url":             u.String(),
		"thumbprint":      colonHex(sum256[:]),
		"thumbprint_sha1": colonHex(sum1[:]),
		"ca_file":         caFile,
		"user":            *user,
		"hosts":           len(simulator.Map.All("HostSystem")),
		"vms":             len(simulator.Map.All("VirtualMachine")),
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	_ = os.Stdout.Sync()

	done := make(chan struct{})
	go func() {
		// Exit when stdin closes (the test that started us is gone).
		_, _ = ioutil.ReadAll(bufio.NewReader(os.Stdin))
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case <-sig:
	}
}

// addSlpd adds the SLP daemon to the host's service list: running with
// policy "on" on 6.7 (the default before the KB 76372 workaround), stopped
// with policy "off" on 7.0.3 (as after the workaround).
func addSlpd(h *mo.HostSystem, p product) {
	if h.Config == nil {
		return
	}
	svc := &types.HostServiceInfo{}
	if h.Config.Service != nil {
		svc.Service = append(svc.Service, h.Config.Service.Service...)
	}
	running, policy := true, "on"
	if strings.HasPrefix(p.version, "7.") {
		running, policy = false, "off"
	}
	svc.Service = append(svc.Service, types.HostService{
		Key:           "slpd",
		Label:         "slpd",
		Required:      false,
		Uninstallable: false,
		Running:       running,
		Ruleset:       []string{"CIMSLP"},
		Policy:        policy,
	})
	h.Config.Service = svc
}

type vmLook struct {
	version string
	status  string
	tools   string
	guest   string
}

// A spread of hardware versions and Tools states. toolsVersion values are the
// API's integer encoding (major*1024 + minor*32 + patch): 10346 = 10.3.10,
// 11365 = 11.3.5, 12320 = 12.1.0.
var looks = []vmLook{
	{"vmx-13", "guestToolsSupportedOld", "10346", "rhel7_64Guest"},
	{"vmx-14", "guestToolsCurrent", "11365", "windows9Server64Guest"},
	{"vmx-19", "guestToolsCurrent", "12320", "ubuntu64Guest"},
	{"vmx-14", "guestToolsNotInstalled", "0", "otherGuest"},
	{"vmx-13", "guestToolsTooOld", "9349", "sles12_64Guest"},
	{"vmx-19", "guestToolsUnmanaged", "2147483647", "centos8_64Guest"},
}

func customizeVMs(u *url.URL, user, password string, snapEvery int) error {
	ctx := context.Background()
	cu := *u
	cu.User = url.UserPassword(user, password)
	c, err := govmomi.NewClient(ctx, &cu, true)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	refs := simulator.Map.All("VirtualMachine")
	sortEntities(refs)
	for i, ref := range refs {
		vm := simulator.Map.Get(ref.Reference()).(*simulator.VirtualMachine)
		look := looks[i%len(looks)]
		vm.Config.Version = look.version
		vm.Config.GuestId = look.guest
		vm.Guest.GuestId = look.guest
		vm.Guest.ToolsVersionStatus2 = look.status
		vm.Guest.ToolsVersion = look.tools
		if i%2 == 0 {
			vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
			vm.Summary.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
		}
		vm.Guest.ToolsRunningStatus, vm.Guest.ToolsStatus = toolsRunning(&vm.VirtualMachine)
		if snapEvery > 0 && i%snapEvery == 0 {
			obj := object.NewVirtualMachine(c.Client, ref.Reference())
			for n := 0; n < 1+i%2; n++ {
				task, err := obj.CreateSnapshot(ctx, fmt.Sprintf("before-upgrade-%d", n), "", false, false)
				if err != nil {
					return err
				}
				if err := task.Wait(ctx); err != nil {
					return err
				}
			}
			// Age the snapshots: created 90 days (and 30 days) before now.
			if vm.Snapshot != nil {
				age(vm.Snapshot.RootSnapshotList, 90)
			}
		}
	}
	return nil
}

// sortEntities orders entities by name, shorter names first (VM2 before
// VM10), so that "the first VMs" are the same in every run (the registry is
// a map: its order changes from run to run).
func sortEntities(es []mo.Entity) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i].Entity().Name, es[j].Entity().Name
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
}

func age(tree []types.VirtualMachineSnapshotTree, days int) {
	for i := range tree {
		tree[i].CreateTime = time.Now().UTC().AddDate(0, 0, -days)
		age(tree[i].ChildSnapshotList, days/3)
	}
}

func makeCerts() (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "esxup test CA", Organization: []string{"esxup testbed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, caPEM, nil
}

func colonHex(b []byte) string {
	var buf bytes.Buffer
	for i, x := range b {
		if i > 0 {
			buf.WriteByte(':')
		}
		fmt.Fprintf(&buf, "%02X", x)
	}
	return buf.String()
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "esxup-vcsim: "+format+"\n", args...)
	os.Exit(1)
}
