// The HTTP front of the harness: every request passes here before it reaches
// govmomi's simulator. It counts calls, takes the host down during a reboot,
// refuses state-changing calls under the free licence, checks the session
// cookie on /folder and /downloads, answers the SOAP methods the simulator
// lacks or gets wrong on HostSystem/VirtualMachine (vm_ext.go, state.go),
// and serves the test control endpoints under /esxup-test/.
package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	vxml "github.com/vmware/govmomi/vim25/xml"
)

type harness struct {
	srv        *simulator.Server
	inner      http.Handler // the simulator's own handler
	standalone bool
	host       *simulator.HostSystem // esx: the host; vpx: the first host by name
	lm         *licenseManager       // esx only

	rebootDown   time.Duration
	neverBack    bool
	failDownload bool
	callsFile    string
	stateFile    string
	eventsFile   string

	mu            sync.Mutex
	calls         map[string]int
	sessions      map[string]bool // session keys handed out (Set-Cookie)
	down          bool
	rebootPending bool
	pending       *product // image installed by /esxup-test/install, active after the reboot
	reboots       int
	bundles       map[string][]byte // "<uuid>/<file>" -> config bundle

	fileMu sync.Mutex
}

func newHarness(s *simulator.Server, standalone bool) *harness {
	return &harness{
		srv:        s,
		standalone: standalone,
		calls:      map[string]int{},
		sessions:   map[string]bool{},
		bundles:    map[string][]byte{},
	}
}

// readOnly: the methods a host with the free licence still answers (the spec's
// whitelist); everything else gets RestrictedVersion.
var readOnly = map[string]bool{
	"RetrieveServiceContent": true, "Login": true, "Logout": true,
	"RetrieveProperties": true, "RetrievePropertiesEx": true,
	"ContinueRetrievePropertiesEx": true, "CancelRetrievePropertiesEx": true,
	"CreateContainerView": true, "DestroyView": true, "CreateFilter": true,
	"DestroyPropertyFilter": true, "WaitForUpdatesEx": true, "CurrentTime": true,
	"QueryAssignedLicenses": true, "DecodeLicense": true, "SessionIsActive": true,
	"TerminateSession": true,
}

// changesPower: after these, guest.toolsRunningStatus follows the power state.
var changesPower = map[string]bool{
	"PowerOnVM_Task": true, "PowerOffVM_Task": true, "ResetVM_Task": true,
	"SuspendVM_Task": true, "ShutdownGuest": true, "RebootGuest": true,
	"StandbyGuest": true, "PowerOnMultiVM_Task": true,
}

func (h *harness) count(key string) {
	h.mu.Lock()
	h.calls[key]++
	h.mu.Unlock()
}

func (h *harness) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}

// serveHTTP is the front handler (after -die-after / -hang-after).
func (h *harness) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/esxup-test/") {
		h.serveControl(w, r)
		return
	}
	if h.isDown() {
		hangUp(w)
		return
	}
	// The answer is buffered so that -calls-file and -state-file are
	// written before the client sees it: a test that reads them right after
	// a call sees that call.
	rec := httptest.NewRecorder()
	switch {
	case strings.HasPrefix(r.URL.Path, "/folder/") || r.URL.Path == "/folder":
		h.serveFolder(rec, r)
	case strings.HasPrefix(r.URL.Path, "/downloads/"):
		h.serveDownload(rec, r)
	case r.URL.Path == vim25.Path || r.URL.Path == vim25.Path+"/vimService":
		h.serveSDK(rec, r)
	default:
		h.inner.ServeHTTP(rec, r)
	}
	call := rec.Header().Get(eventHeader)
	rec.Header().Del(eventHeader)
	if call == "" && !strings.HasPrefix(r.URL.Path, "/sdk") {
		call = r.Method + " " + r.URL.Path
	}
	h.writeFiles()
	h.appendEvent(call)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// hangUp closes the connection without an answer (a host that is down).
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	http.Error(w, "", http.StatusServiceUnavailable)
}

// ---------------------------------------------------------------------------
// SOAP

func (h *harness) serveSDK(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.inner.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	name, this := scanSOAP(body)
	if name == "" {
		h.count("(unparsable SOAP)")
	} else {
		h.count(name)
	}
	// For the -events-file line of this request (removed before the answer).
	w.Header().Set(eventHeader, name)

	if name != "" && !readOnly[name] && h.restricted() && h.sessionValid(r) {
		writeSOAP(w, faultBody(simulator.Fault(msgRestricted, &types.RestrictedVersion{})))
		return
	}
	if res, handled := h.intercept(r, name, this, body); handled {
		writeSOAP(w, res)
		return
	}

	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	h.inner.ServeHTTP(w, r)
	h.trackSessions(w.Header())
	if changesPower[name] {
		h.syncTools(this)
	}
}

// intercept answers the methods the harness implements on HostSystem and
// VirtualMachine (those objects are the simulator's own types, so they cannot
// be wrapped without breaking the simulator's type assertions).
func (h *harness) intercept(r *http.Request, name string, this types.ManagedObjectReference, body []byte) (soap.HasFault, bool) {
	var fn func(interface{}) soap.HasFault
	switch {
	case name == "RebootHost_Task" && this.Type == "HostSystem" && h.standalone:
		fn = h.rebootHost
	case name == "UpgradeTools_Task" && this.Type == "VirtualMachine":
		fn = h.upgradeTools
	case name == "UpgradeVM_Task" && this.Type == "VirtualMachine":
		fn = h.upgradeVM
	case name == "ShutdownGuest" && this.Type == "VirtualMachine":
		fn = h.shutdownGuestCheck
	case name == "SyncFirmwareConfiguration" && this.Type == "HostFirmwareSystem":
		// Real hosts have it (hostd's vim.host.FirmwareSystem.syncConfiguration,
		// what `vim-cmd hostsvc/firmware/sync_config` calls) but it is not in
		// the public WSDL, so govmomi has no type to decode it into.
		fn = func(interface{}) soap.HasFault { return &syncFirmwareBody{Res: &SyncFirmwareConfigurationResponse{}} }
	default:
		return nil, false
	}
	if !h.sessionValid(r) {
		return faultBody(simulator.Fault("", &types.NotAuthenticated{
			NoPermission: types.NoPermission{Object: this, PrivilegeId: "System.View"},
		})), true
	}
	if simulator.Map.Get(this) == nil {
		return faultBody(simulator.Fault(fmt.Sprintf("managed object not found: %s", this),
			&types.ManagedObjectNotFound{Obj: this})), true
	}
	var req interface{}
	if name != "SyncFirmwareConfiguration" {
		m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
		if err != nil {
			return faultBody(simulator.Fault(err.Error(), &types.InvalidRequest{})), true
		}
		req = m.Body
	}
	res := fn(req)
	if res == nil { // precheck passed: the simulator answers
		return nil, false
	}
	return res, true
}

// SyncFirmwareConfigurationResponse is the (empty) answer element.
type SyncFirmwareConfigurationResponse struct{}

type syncFirmwareBody struct {
	Res *SyncFirmwareConfigurationResponse
}

func (b *syncFirmwareBody) Fault() *soap.Fault { return nil }

// scanSOAP finds the method (first element in the Body) and its _this.
func scanSOAP(body []byte) (string, types.ManagedObjectReference) {
	var ref types.ManagedObjectReference
	d := xml.NewDecoder(bytes.NewReader(body))
	depth, bodyDepth, method := 0, -1, ""
	for {
		tok, err := d.Token()
		if err != nil {
			return method, ref
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case bodyDepth < 0 && t.Name.Local == "Body":
				bodyDepth = depth
			case bodyDepth > 0 && depth == bodyDepth+1 && method == "":
				method = t.Name.Local
			case method != "" && depth == bodyDepth+2:
				if t.Name.Local != "_this" {
					return method, ref
				}
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "type" {
						ref.Type = a.Value
					}
				}
				var text struct {
					V string `xml:",chardata"`
				}
				_ = d.DecodeElement(&text, &t)
				ref.Value = strings.TrimSpace(text.V)
				return method, ref
			}
		case xml.EndElement:
			depth--
		}
	}
}

// sessionValid asks the simulator whether the request's session cookie is a
// live session (a CurrentTime call with that cookie, not counted).
func (h *harness) sessionValid(r *http.Request) bool {
	c, err := r.Cookie(soap.SessionCookieName)
	if err != nil || c.Value == "" {
		return false
	}
	const probe = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, vim25.Path, strings.NewReader(probe))
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("User-Agent", r.UserAgent())
	req.AddCookie(&http.Cookie{Name: soap.SessionCookieName, Value: c.Value})
	rec := httptest.NewRecorder()
	h.inner.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

func (h *harness) trackSessions(hdr http.Header) {
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == soap.SessionCookieName && c.Value != "" {
			h.mu.Lock()
			h.sessions[c.Value] = true
			h.mu.Unlock()
		}
	}
}

// dropSessions ends every session handed out so far (a host that rebooted
// has forgotten them: clients get NotAuthenticated and log in again).
func (h *harness) dropSessions() {
	h.mu.Lock()
	keys := make([]string, 0, len(h.sessions))
	for k := range h.sessions {
		keys = append(keys, k)
	}
	h.sessions = map[string]bool{}
	h.mu.Unlock()
	sm := simulator.Map.SessionManager()
	ctx := &simulator.Context{Session: &simulator.Session{UserSession: types.UserSession{Key: "esxup-harness-reboot"}}}
	for _, k := range keys {
		_ = sm.TerminateSession(ctx, &types.TerminateSession{SessionId: []string{k}})
	}
}

// faultBody wraps a fault as a method body.
type faultOnly struct{ f *soap.Fault }

func (b faultOnly) Fault() *soap.Fault { return b.f }

func faultBody(f *soap.Fault) soap.HasFault { return faultOnly{f} }

// The SOAP envelope as the simulator writes it (simulator.go: soapEnvelope,
// soapFault, faultDetail, response), so answers from the front look the same.
type envelope struct {
	XMLName vxml.Name   `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Body    interface{} `xml:"soapenv:Body"`
}

type faultDetail struct{ Fault types.AnyType }

func (d *faultDetail) MarshalXML(e *vxml.Encoder, start vxml.StartElement) error {
	kind := reflect.TypeOf(d.Fault).Elem().Name()
	start.Name.Local = kind + "Fault"
	start.Attr = append(start.Attr,
		vxml.Attr{Name: vxml.Name{Local: "xmlns"}, Value: "urn:" + vim25.Namespace},
		vxml.Attr{Name: vxml.Name{Local: "xsi:type"}, Value: kind})
	return e.EncodeElement(d.Fault, start)
}

type soapFault struct {
	XMLName vxml.Name `xml:"soapenv:Fault"`
	Code    string    `xml:"faultcode"`
	String  string    `xml:"faultstring"`
	Detail  struct {
		Fault *faultDetail
	} `xml:"detail"`
}

type resBody struct{ body soap.HasFault }

func (r *resBody) MarshalXML(e *vxml.Encoder, start vxml.StartElement) error {
	val := reflect.ValueOf(r.body).Elem().FieldByName("Res")
	if !val.IsValid() || val.IsNil() {
		return fmt.Errorf("%T: no Res", r.body)
	}
	res := vxml.StartElement{Name: vxml.Name{Space: "urn:" + vim25.Namespace, Local: val.Elem().Type().Name()}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeElement(val.Interface(), res); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func writeSOAP(w http.ResponseWriter, res soap.HasFault) {
	var body interface{}
	status := http.StatusOK
	if f := res.Fault(); f != nil {
		status = http.StatusInternalServerError
		sf := &soapFault{Code: f.Code, String: f.String}
		sf.Detail.Fault = &faultDetail{f.Detail.Fault}
		body = struct{ Fault *soapFault }{sf}
	} else {
		body = &resBody{res}
	}
	var out bytes.Buffer
	out.WriteString(vxml.Header)
	e := vxml.NewEncoder(&out)
	err := e.Encode(&envelope{
		Enc:  "http://schemas.xmlsoap.org/soap/encoding/",
		Env:  "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:  "http://www.w3.org/2001/XMLSchema",
		XSI:  "http://www.w3.org/2001/XMLSchema-instance",
		Body: body,
	})
	if err == nil {
		err = e.Flush()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// ---------------------------------------------------------------------------
// /folder and /downloads

func (h *harness) serveFolder(w http.ResponseWriter, r *http.Request) {
	h.count(r.Method + " /folder")
	if !h.sessionValid(r) {
		unauthorized(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && h.restricted() {
		http.Error(w, msgRestricted, http.StatusForbidden)
		return
	}
	h.inner.ServeHTTP(w, r)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="VMware HTTP server"`)
	http.Error(w, "", http.StatusUnauthorized)
}

func (h *harness) putBundle(key string, data []byte) {
	h.mu.Lock()
	h.bundles[key] = data
	h.mu.Unlock()
}

func (h *harness) serveDownload(w http.ResponseWriter, r *http.Request) {
	h.count(r.Method + " /downloads")
	if !h.sessionValid(r) {
		unauthorized(w)
		return
	}
	if h.restricted() {
		http.Error(w, msgRestricted, http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	if h.failDownload {
		http.Error(w, "", http.StatusInternalServerError)
		return
	}
	h.mu.Lock()
	data, ok := h.bundles[strings.TrimPrefix(r.URL.Path, "/downloads/")]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// ---------------------------------------------------------------------------
// /esxup-test/: calls, state, install

var (
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	buildRE   = regexp.MustCompile(`^[0-9]+$`)
)

func (h *harness) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/esxup-test/calls":
		writeJSON(w, http.StatusOK, h.callsSnapshot())
	case "/esxup-test/state":
		writeJSON(w, http.StatusOK, h.state())
	case "/esxup-test/install":
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		if !h.standalone {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "install needs -mode esx"})
			return
		}
		v, b := r.URL.Query().Get("version"), r.URL.Query().Get("build")
		if !versionRE.MatchString(v) || !buildRE.MatchString(b) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?version=X.Y.Z&build=N"})
			return
		}
		if err := h.startReboot(&product{v, b}); err != nil {
			writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		h.writeFiles()
		writeJSON(w, http.StatusOK, map[string]interface{}{"ok": true, "version": v, "build": b})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown test endpoint"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
