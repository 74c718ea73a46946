package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

var updateOpenAPI = flag.Bool("update", false, "rewrite server/testdata/openapi.{json,yaml} from the generator")

// TestOpenAPIGolden keeps server/testdata/openapi.json and openapi.yaml equal to the
// generated document (`go test -tags duckdb_arrow ./server -run OpenAPIGolden -update`
// rewrites them); make lint-openapi lints those files.
func TestOpenAPIGolden(t *testing.T) {
	js, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	ya, err := OpenAPIYAML()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"openapi.json": js, "openapi.yaml": ya} {
		path := filepath.Join("testdata", name)
		if *updateOpenAPI {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generated document; run `go test -tags duckdb_arrow ./server -run OpenAPIGolden -update` and review the diff", path)
		}
	}
}

// TestOpenAPIDeterministic builds the document twice and compares the encodings.
func TestOpenAPIDeterministic(t *testing.T) {
	a, err := encodeJSONDoc(OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, _ := encodeJSONDoc(OpenAPIDocument())
		if !bytes.Equal(a, b) {
			t.Fatal("two builds of the document differ")
		}
		y1, _ := encodeYAMLDoc(OpenAPIDocument())
		y2, _ := encodeYAMLDoc(OpenAPIDocument())
		if !bytes.Equal(y1, y2) {
			t.Fatal("two YAML encodings differ")
		}
	}
}

func decodedDoc(t *testing.T) map[string]any {
	t.Helper()
	js, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(js, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOpenAPIContent checks what the document takes from the catalog and Operations.
func TestOpenAPIContent(t *testing.T) {
	d := decodedDoc(t)
	if d["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", d["openapi"])
	}
	comps := d["components"].(map[string]any)
	schemas := comps["schemas"].(map[string]any)
	for _, ds := range query.Datasets {
		name := datasetSchemaName(ds)
		enum := schemas[name+"Field"].(map[string]any)["enum"].([]any)
		props := schemas[name+"Row"].(map[string]any)["properties"].(map[string]any)
		fields := query.Fields(ds)
		if len(enum) != len(fields) || len(props) != len(fields) {
			t.Errorf("%s: %d enum values, %d row properties, %d catalog fields", ds, len(enum), len(props), len(fields))
		}
		for i, f := range fields {
			if enum[i] != f.Name {
				t.Errorf("%s enum[%d] = %v, want %s", ds, i, enum[i], f.Name)
			}
			p, ok := props[f.Name].(map[string]any)
			if !ok || p["x-field-type"] != string(f.Type) || !strings.HasPrefix(p["description"].(string), f.Description) {
				t.Errorf("%s row property %s = %v", ds, f.Name, p)
			}
		}
	}
	paths := d["paths"].(map[string]any)
	for _, op := range Operations {
		item, _ := paths[OpenAPIPath(op.Path)].(map[string]any)
		o, _ := item[strings.ToLower(op.Method)].(map[string]any)
		if op.Planned {
			if o != nil {
				t.Errorf("planned %s %s is documented", op.Method, op.Path)
			}
			continue
		}
		if o == nil {
			t.Errorf("%s %s is not documented", op.Method, op.Path)
			continue
		}
		if o["operationId"] != op.ID || o["summary"] != op.Summary {
			t.Errorf("%s %s: operationId %v summary %v", op.Method, op.Path, o["operationId"], o["summary"])
		}
		sec := o["security"].([]any)
		if op.Permission == "" {
			if _, has := o["x-permission"]; has || len(sec) != 0 {
				t.Errorf("open %s %s has x-permission or security", op.Method, op.Path)
			}
			continue
		}
		if o["x-permission"] != op.Permission || len(sec) != 2 || !strings.Contains(o["description"].(string), "`"+op.Permission+"`") {
			t.Errorf("%s %s: x-permission %v, security %v", op.Method, op.Path, o["x-permission"], sec)
		}
		resp := o["responses"].(map[string]any)
		for _, code := range []string{"401", "403"} {
			if _, ok := resp[code]; !ok {
				t.Errorf("%s %s has no %s response", op.Method, op.Path, code)
			}
		}
		if op.Kind == KindList || op.Kind == KindQuery {
			ok200 := resp["200"].(map[string]any)["$ref"].(string)
			rows := comps["responses"].(map[string]any)[strings.TrimPrefix(ok200, "#/components/responses/")].(map[string]any)
			var mts []string
			for mt := range rows["content"].(map[string]any) {
				mts = append(mts, mt)
			}
			sort.Strings(mts)
			want := append(slices.Clone(offeredMIMEs), MIMEZip)
			sort.Strings(want)
			if !slices.Equal(mts, want) {
				t.Errorf("%s %s: 200 media types %v, want %v", op.Method, op.Path, mts, want)
			}
			for _, code := range []string{"400", "406", "413", "429", "503", "504", "507"} {
				if _, ok := resp[code]; !ok {
					t.Errorf("%s %s has no %s response", op.Method, op.Path, code)
				}
			}
		}
	}
	// Every GET list parameter the parser knows is documented.
	for _, p := range knownParams {
		if !slices.Contains(listParams, p) {
			t.Errorf("parameter %s is not documented", p)
		}
	}
	// Every $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				cur := any(d)
				for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
					m, _ := cur.(map[string]any)
					cur = m[part]
				}
				if cur == nil {
					t.Errorf("unresolved $ref %s", r)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(d)
}

// TestOperationsMatchRoutes builds the real application and checks that every route it
// registers is documented in Operations (and so in the OpenAPI document, unless planned),
// and that every operation that is not Planned is registered.
func TestOperationsMatchRoutes(t *testing.T) {
	app := New(newTestDB(t), Config{})
	registered := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == http.MethodConnect || r.Method == http.MethodTrace || r.Method == http.MethodOptions {
			continue
		}
		key := r.Method + " " + r.Path
		registered[key] = true
		op, ok := LookupOperation(r.Method, r.Path)
		switch {
		case !ok || op.Path != r.Path:
			t.Errorf("route %s is not in server.Operations", key)
		case op.Planned:
			t.Errorf("route %s is registered but still Planned in server.Operations: clear the flag", key)
		}
	}
	doc := decodedDoc(t)["paths"].(map[string]any)
	for _, op := range Operations {
		key := op.Method + " " + op.Path
		if op.Planned {
			continue
		}
		if !registered[key] {
			t.Errorf("operation %s (%s) is not registered by server.New", key, op.ID)
		}
		item, _ := doc[OpenAPIPath(op.Path)].(map[string]any)
		if _, ok := item[strings.ToLower(op.Method)]; !ok {
			t.Errorf("operation %s is not in the OpenAPI document", key)
		}
	}
}

func TestOperationsUnique(t *testing.T) {
	ids, routes := map[string]bool{}, map[string]bool{}
	perms := map[string]bool{"": true}
	for _, p := range Permissions {
		perms[p] = true
	}
	for _, op := range Operations {
		if ids[op.ID] || routes[op.Method+" "+op.Path] {
			t.Errorf("duplicate operation %s %s %s", op.ID, op.Method, op.Path)
		}
		ids[op.ID], routes[op.Method+" "+op.Path] = true, true
		if !perms[op.Permission] {
			t.Errorf("%s: unknown permission %q", op.ID, op.Permission)
		}
		if op.Summary == "" || op.Tag == "" || op.Kind == "" {
			t.Errorf("%s: summary, tag and kind are required", op.ID)
		}
		if (op.Kind == KindList || op.Kind == KindQuery) != (op.Dataset != "") {
			t.Errorf("%s: dataset %q with kind %s", op.ID, op.Dataset, op.Kind)
		}
	}
}

func TestLookupOperation(t *testing.T) {
	for _, tt := range []struct {
		method, path, id string
	}{
		{"GET", "/api/v1/dta_discovery", "listDiscovery"},
		{"HEAD", "/api/v1/dta_cert", "listCert"},
		{"post", "/api/v1/dta_cert/query", "queryCert"},
		{"GET", "/api/v1/api_keys/:keyId", "getApiKey"},
		{"GET", "/api/v1/api_keys/k_123", "getApiKey"},
		{"PATCH", "/api/v1/api_keys/k_123", "editApiKey"},
		{"POST", "/api/v1/api_keys/k_123/lock", "lockApiKey"},
		{"POST", "/api/v1/api_keys/bulk", "bulkApiKeys"},
		{"POST", "/api/v1/api_keys/import", "importApiKey"},
		{"DELETE", "/api/v1/roles/Auditor", "deleteRole"},
		{"GET", "/healthz", "healthz"},
		{"GET", "/docs/assets/docs.js", "getDocsAsset"},
		{"GET", "/api/v1/nope", ""},
		{"GET", "/api/v1/api_keys/", ""},
		{"POST", "/api/v1/dta_discovery", ""},
		{"GET", "/api/v1/dta_discovery/", ""},
	} {
		op, ok := LookupOperation(tt.method, tt.path)
		if ok != (tt.id != "") || op.ID != tt.id {
			t.Errorf("LookupOperation(%s, %s) = %q, %v; want %q", tt.method, tt.path, op.ID, ok, tt.id)
		}
	}
	if op, _ := LookupOperation("GET", "/api/v1/api_keys"); op.Permission != PermKeysAdmin {
		t.Errorf("api_keys permission %q", op.Permission)
	}
	if op, _ := LookupOperation("GET", "/api/v1/openapi.json"); op.Permission != "" {
		t.Errorf("openapi.json is not open: %q", op.Permission)
	}
}

// TestOpenAPIServed fetches the document and the docs page from the application.
func TestOpenAPIServed(t *testing.T) {
	app := New(newTestDB(t), Config{})
	js, _ := OpenAPIJSON()
	ya, _ := OpenAPIYAML()
	for _, tt := range []struct {
		target, ctype string
		status        int
		body          []byte
		contains      string
	}{
		{target: "/api/v1/openapi.json", ctype: "application/json; charset=utf-8", status: 200, body: js},
		{target: "/api/v1/openapi.yaml", ctype: "application/yaml; charset=utf-8", status: 200, body: ya},
		{target: "/docs", ctype: "text/html; charset=utf-8", status: 200, contains: "/api/v1/openapi.json"},
		{target: "/docs/assets/docs.js", ctype: "text/javascript; charset=utf-8", status: 200, contains: "/api/v1/openapi.json"},
		{target: "/docs/assets/swagger-ui-bundle.js", ctype: "text/javascript; charset=utf-8", status: 200, contains: "SwaggerUIBundle"},
		{target: "/docs/assets/swagger-ui.css", ctype: "text/css; charset=utf-8", status: 200, contains: ".swagger-ui"},
		{target: "/docs/assets/..%2Fdocs.go", ctype: ProblemContentType, status: 404},
		{target: "/docs/assets/nope.js", ctype: ProblemContentType, status: 404},
	} {
		r := get(t, app, tt.target)
		if r.status != tt.status || r.header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: %d %s", tt.target, r.status, r.header.Get("Content-Type"))
		}
		if tt.body != nil && r.body != string(tt.body) {
			t.Errorf("%s: body differs from the generated document", tt.target)
		}
		if !strings.Contains(r.body, tt.contains) {
			t.Errorf("%s: body lacks %q", tt.target, tt.contains)
		}
	}
}

// TestOpenAPIIngest checks the operation of POST /ingest exactly: its tag, request body
// media types, parameters and responses, and that its schemas have the members of the
// Go types the handler encodes.
func TestOpenAPIIngest(t *testing.T) {
	d := decodedDoc(t)
	resolve := func(v any) map[string]any {
		t.Helper()
		m := v.(map[string]any)
		for m["$ref"] != nil {
			cur := any(d)
			for _, part := range strings.Split(strings.TrimPrefix(m["$ref"].(string), "#/"), "/") {
				cur = cur.(map[string]any)[part]
			}
			m = cur.(map[string]any)
		}
		return m
	}
	keys := func(m map[string]any) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	o := d["paths"].(map[string]any)["/api/v1/ingest"].(map[string]any)["post"].(map[string]any)
	if !reflect.DeepEqual(o["tags"], []any{"ingest"}) || o["operationId"] != "ingestFiles" || o["x-permission"] != PermIngestWrite {
		t.Errorf("tags %v, operationId %v, x-permission %v", o["tags"], o["operationId"], o["x-permission"])
	}
	var tagDeclared bool
	for _, tag := range d["tags"].([]any) {
		tagDeclared = tagDeclared || tag.(map[string]any)["name"] == "ingest" && tag.(map[string]any)["description"] != ""
	}
	if !tagDeclared {
		t.Error("tag ingest is not declared")
	}

	// Request body: multipart/form-data and every raw type the handler accepts.
	body := o["requestBody"].(map[string]any)
	content := body["content"].(map[string]any)
	wantTypes := append([]string{"multipart/form-data"}, rawUploadTypes...)
	sort.Strings(wantTypes)
	if body["required"] != true || !slices.Equal(keys(content), wantTypes) {
		t.Errorf("requestBody required %v, media types %v, want %v", body["required"], keys(content), wantTypes)
	}
	for _, mt := range []string{"application/octet-stream", "text/plain", "application/gzip", "application/vnd.apache.parquet", "application/x-ndjson"} {
		if content[mt] == nil {
			t.Errorf("requestBody lacks %s", mt)
		}
	}
	for _, mt := range rawUploadTypes {
		s := content[mt].(map[string]any)["schema"].(map[string]any)
		if s["type"] != "string" || s["contentMediaType"] != mt {
			t.Errorf("requestBody %s schema %v", mt, s)
		}
	}
	form := content["multipart/form-data"].(map[string]any)["schema"].(map[string]any)
	props := form["properties"].(map[string]any)
	file := props["file"].(map[string]any)
	if form["type"] != "object" || !reflect.DeepEqual(form["required"], []any{"file"}) || form["additionalProperties"] != false ||
		!slices.Equal(keys(props), []string{"file", "format", "skipInvalid"}) ||
		file["type"] != "array" || file["items"].(map[string]any)["type"] != "string" || file["items"].(map[string]any)["contentMediaType"] != "application/octet-stream" {
		t.Errorf("multipart/form-data schema %v", form)
	}
	if resolve(props["format"])["enum"] == nil || resolve(props["skipInvalid"])["type"] != "boolean" {
		t.Errorf("form fields format %v, skipInvalid %v", props["format"], props["skipInvalid"])
	}

	// Parameters, in order.
	var params []string
	byName := map[string]map[string]any{}
	for _, p := range o["parameters"].([]any) {
		pm := resolve(p)
		params = append(params, pm["in"].(string)+" "+pm["name"].(string))
		byName[pm["name"].(string)] = pm
	}
	if want := []string{"query format", "query skipInvalid", "query name", "header Idempotency-Key"}; !slices.Equal(params, want) {
		t.Errorf("parameters %v, want %v", params, want)
	}
	format := resolve(byName["format"]["schema"])
	if !reflect.DeepEqual(format["enum"], []any{"auto", "zeek", "x509", "native"}) || format["default"] != "auto" {
		t.Errorf("format schema %v", format)
	}
	for _, f := range format["enum"].([]any) {
		if _, err := ingest.ParseFormat(f.(string)); err != nil {
			t.Errorf("format %v: %v", f, err)
		}
	}
	if s := byName["skipInvalid"]["schema"].(map[string]any); s["type"] != "boolean" || s["default"] != false {
		t.Errorf("skipInvalid schema %v", s)
	}
	if s := byName["name"]["schema"].(map[string]any); s["type"] != "string" || s["default"] != "upload" || s["maxLength"] != float64(255) {
		t.Errorf("name schema %v", s)
	}

	// Responses.
	resp := o["responses"].(map[string]any)
	if want := []string{"201", "400", "401", "403", "409", "411", "413", "415", "422", "429", "500", "503", "504"}; !slices.Equal(keys(resp), want) {
		t.Errorf("responses %v, want %v", keys(resp), want)
	}
	for code, r := range resp {
		rm := resolve(r)
		if rm["description"] == "" || rm["headers"].(map[string]any)["X-Request-Id"] == nil {
			t.Errorf("response %s: %v", code, rm)
		}
		if code == "201" {
			continue
		}
		if s := resolve(rm["content"].(map[string]any)[ProblemContentType].(map[string]any)["schema"]); s["allOf"] == nil && s["required"] == nil {
			t.Errorf("response %s is not a problem: %v", code, s)
		}
	}
	for _, code := range []string{"429", "503"} {
		if resolve(resp[code])["headers"].(map[string]any)["Retry-After"] == nil {
			t.Errorf("response %s lacks Retry-After", code)
		}
	}

	// The schemas have the members of the Go types, with their JSON types.
	summary := resolve(resolve(resp["201"])["content"].(map[string]any)["application/json"].(map[string]any)["schema"])
	checkMembers(t, "IngestSummary", summary, reflect.TypeFor[ingestSummary](), true)
	checkMembers(t, "IngestSummary.files", summary["properties"].(map[string]any)["files"].(map[string]any)["items"].(map[string]any),
		reflect.TypeFor[uploadedFile](), true)
	datasets := summary["properties"].(map[string]any)["datasets"].(map[string]any)
	var dsNames []string
	for _, ds := range query.Datasets {
		dsNames = append(dsNames, string(ds))
	}
	sort.Strings(dsNames)
	if got := keys(datasets["properties"].(map[string]any)); !slices.Equal(got, dsNames) {
		t.Errorf("IngestSummary.datasets members %v, want %v", got, dsNames)
	}
	for _, ds := range dsNames {
		checkMembers(t, "IngestSummary.datasets."+ds, resolve(datasets["properties"].(map[string]any)[ds]), reflect.TypeFor[datasetCounts](), true)
	}
	p422 := resolve(resolve(resp["422"])["content"].(map[string]any)[ProblemContentType].(map[string]any)["schema"])
	allOf := p422["allOf"].([]any)
	if len(allOf) != 2 || allOf[0].(map[string]any)["$ref"] != "#/components/schemas/Problem" {
		t.Fatalf("422 schema %v", p422)
	}
	checkMembers(t, "IngestProblem", allOf[1].(map[string]any), reflect.TypeFor[ingestProblem](), false)
}

// checkMembers compares the properties of an object schema with the JSON members of a Go
// struct (embedded structs left out) and their JSON types; required: every member is.
func checkMembers(t *testing.T, what string, schema map[string]any, typ reflect.Type, required bool) {
	t.Helper()
	props := schema["properties"].(map[string]any)
	var want []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		want = append(want, name)
		var jt string
		switch f.Type.Kind() {
		case reflect.String:
			jt = "string"
		case reflect.Int, reflect.Int64:
			jt = "integer"
		case reflect.Slice:
			jt = "array"
		case reflect.Map, reflect.Struct:
			jt = "object"
		}
		p, _ := props[name].(map[string]any)
		if p == nil || p["type"] != jt {
			t.Errorf("%s.%s: schema %v, want type %s", what, name, p, jt)
		}
	}
	var got []string
	for k := range props {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s members %v, want %v", what, got, want)
	}
	if required {
		var req []string
		for _, r := range schema["required"].([]any) {
			req = append(req, r.(string))
		}
		sort.Strings(req)
		if !slices.Equal(req, want) || schema["additionalProperties"] != false {
			t.Errorf("%s required %v, additionalProperties %v", what, req, schema["additionalProperties"])
		}
	}
}
