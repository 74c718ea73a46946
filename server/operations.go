package server

import (
	"strings"

	"github.com/cipherscope/cipherscope/query"
)

// Permissions a role may grant (DESIGN section 4). An empty Operation.Permission marks
// an open route that needs no API key.
const (
	PermDTARead     = "dta:read"
	PermIngestWrite = "ingest:write"
	PermKeysAdmin   = "keys:admin"
	PermRolesAdmin  = "roles:admin"
	PermAuditRead   = "audit:read"
)

// Permissions lists every permission in a stable order.
var Permissions = []string{PermDTARead, PermIngestWrite, PermKeysAdmin, PermRolesAdmin, PermAuditRead}

// Operation kinds: they decide the parameters, request body and responses of an
// operation in the OpenAPI document.
const (
	// KindList is GET /dta_<dataset>: the dataset parameters in the query string.
	KindList = "list"
	// KindQuery is POST /dta_<dataset>/query: the dataset parameters as a JSON body.
	KindQuery = "query"
	// KindHealth is /healthz and /readyz.
	KindHealth = "health"
	// KindDocs is the OpenAPI document and the docs page.
	KindDocs = "docs"
	// KindKeys, KindRoles and KindAudit are the API key administration routes.
	KindKeys  = "keys"
	KindRoles = "roles"
	KindAudit = "audit"
	// KindIngest is POST /ingest: files uploaded as multipart/form-data or a raw body,
	// streamed to disk (not JSON, not subject to Config.BodyLimit).
	KindIngest = "ingest"
)

// Operation is one route of the API: the single source of truth for its OpenAPI entry
// (operationId, summary, tag, parameters) and for the permission the auth middleware
// demands. Path is the fiber route pattern ("/api/v1/api_keys/:keyId").
type Operation struct {
	Method, Path, ID, Summary, Permission string
	// Description is the longer text of the OpenAPI operation.
	Description string
	// Tag groups operations in the OpenAPI document and on the docs page.
	Tag string
	// Kind selects the parameters, body and responses (Kind* constants).
	Kind string
	// Dataset is the dataset of KindList and KindQuery operations.
	Dataset query.Dataset
	// Planned marks a route that is specified here but not yet registered by New; it is
	// left out of the OpenAPI document. Whoever registers the route clears the flag
	// (TestOperationsMatchRoutes fails while a registered route is still Planned).
	Planned bool
}

// Base is the path prefix of the versioned API.
const Base = "/api/v1"

// Operations lists every route of the API. Keep it in the order of the docs page.
var Operations = []Operation{
	{Method: "GET", Path: Base + "/dta_discovery", ID: "listDiscovery", Tag: "dta", Kind: KindList, Dataset: query.Discovery,
		Summary:     "dta_discovery: query observed communications",
		Description: "Rollups of observed TLS communications (one row per flow key) over the time frame, selected by `columns`, `filter`, `sorts` and paged by `limit`/`offset` or `cursor`.",
		Permission:  PermDTARead},
	{Method: "POST", Path: Base + "/dta_discovery/query", ID: "queryDiscovery", Tag: "dta", Kind: KindQuery, Dataset: query.Discovery,
		Summary:     "dta_discovery/query: query observed communications (JSON body)",
		Description: "The same as GET /dta_discovery with the parameters in a JSON body, for filters too long for a URL.",
		Permission:  PermDTARead},
	{Method: "GET", Path: Base + "/dta_cert", ID: "listCert", Tag: "dta", Kind: KindList, Dataset: query.Cert,
		Summary:     "dta_cert: query certificates",
		Description: "One row per distinct certificate (SHA-256 of the DER), selected by `columns`, `filter`, `sorts` and paged by `limit`/`offset` or `cursor`.",
		Permission:  PermDTARead},
	{Method: "POST", Path: Base + "/dta_cert/query", ID: "queryCert", Tag: "dta", Kind: KindQuery, Dataset: query.Cert,
		Summary:     "dta_cert/query: query certificates (JSON body)",
		Description: "The same as GET /dta_cert with the parameters in a JSON body, for filters too long for a URL.",
		Permission:  PermDTARead},
	{Method: "POST", Path: Base + "/ingest", ID: "ingestFiles", Tag: "ingest", Kind: KindIngest,
		Summary: "ingest: load uploaded Zeek logs, certificates or native files (all or nothing)",
		Description: "Uploads files and ingests them in one all-or-nothing run, as `cipherscope ingest`: Zeek conn/ssl/x509 logs " +
			"(TSV or JSON, plain or gzip; the logs of one upload are joined), certificates (PEM, DER, PKCS#7) and native CSV, " +
			"NDJSON or Parquet files; each file's kind is detected from its content. Re-uploading the same files adds no duplicates.\n\n" +
			"Body: `multipart/form-data` with one or more `file` parts (each part's filename names it in errors), or the raw " +
			"content of one file (`application/octet-stream`, `text/plain`, `text/csv`, `application/x-ndjson`, `application/gzip`, " +
			"`application/vnd.apache.parquet`, ...) named by the `name` query parameter (default `upload`). " +
			"Parameters, in the query string or as form fields: `format` (`auto`|`zeek`|`x509`|`native`, default `auto`) and " +
			"`skipInvalid` (`true`: skip malformed lines and count them in the summary instead of failing).\n\n" +
			"201: a JSON summary (`files`, `kinds`, `datasets` with rows read, inserted, updated and duplicates, `skipped`, " +
			"`examples`, `durationMs`). 422: a malformed line or an unrecognised file; `detail` is `file:line: field \"x\": value \"...\": reason` " +
			"and the members `file`, `line`, `field` locate it; nothing was stored. 413: the upload is over the server's maximum " +
			"(`serve --max-upload-bytes`, 1 GiB by default). 411: a raw body without Content-Length (multipart bodies may be chunked). " +
			"503 with `Retry-After`: another ingest is running (one at a time). 504: the upload, parsing and loading took longer than " +
			"`serve --ingest-timeout`. An `Idempotency-Key` replays the answer to the same parameters, file names and contents.",
		Permission: PermIngestWrite},

	{Method: "POST", Path: Base + "/api_keys", ID: "createApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys: create an API key (the secret is shown once)", Permission: PermKeysAdmin},
	{Method: "POST", Path: Base + "/api_keys/import", ID: "importApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/import: import an existing API key", Permission: PermKeysAdmin},
	{Method: "GET", Path: Base + "/api_keys", ID: "listApiKeys", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys: list API keys", Permission: PermKeysAdmin},
	{Method: "GET", Path: Base + "/api_keys/:keyId", ID: "getApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/{keyId}: get an API key", Permission: PermKeysAdmin},
	{Method: "PATCH", Path: Base + "/api_keys/:keyId", ID: "editApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/{keyId}: edit description, roles, reauthentication timeout", Permission: PermKeysAdmin},
	{Method: "POST", Path: Base + "/api_keys/:keyId/lock", ID: "lockApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/{keyId}/lock: lock an API key", Permission: PermKeysAdmin},
	{Method: "POST", Path: Base + "/api_keys/:keyId/unlock", ID: "unlockApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/{keyId}/unlock: unlock an API key", Permission: PermKeysAdmin},
	{Method: "DELETE", Path: Base + "/api_keys/:keyId", ID: "deleteApiKey", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/{keyId}: delete an API key", Permission: PermKeysAdmin},
	{Method: "POST", Path: Base + "/api_keys/bulk", ID: "bulkApiKeys", Tag: "api_keys", Kind: KindKeys,
		Summary: "api_keys/bulk: lock, unlock or delete several API keys", Permission: PermKeysAdmin},

	{Method: "GET", Path: Base + "/roles", ID: "listRoles", Tag: "roles", Kind: KindRoles,
		Summary: "roles: list roles and their permissions", Permission: PermRolesAdmin},
	{Method: "POST", Path: Base + "/roles", ID: "createRole", Tag: "roles", Kind: KindRoles,
		Summary: "roles: create a role", Permission: PermRolesAdmin},
	{Method: "PATCH", Path: Base + "/roles/:roleName", ID: "editRole", Tag: "roles", Kind: KindRoles,
		Summary: "roles/{roleName}: edit a role's permissions", Permission: PermRolesAdmin},
	{Method: "DELETE", Path: Base + "/roles/:roleName", ID: "deleteRole", Tag: "roles", Kind: KindRoles,
		Summary: "roles/{roleName}: delete a role", Permission: PermRolesAdmin},

	{Method: "GET", Path: Base + "/audit", ID: "listAudit", Tag: "audit", Kind: KindAudit,
		Summary: "audit: list the signed, hash-chained audit log", Permission: PermAuditRead},

	{Method: "GET", Path: Base + "/openapi.json", ID: "getOpenAPIJSON", Tag: "meta", Kind: KindDocs,
		Summary: "openapi.json: this OpenAPI document as JSON"},
	{Method: "GET", Path: Base + "/openapi.yaml", ID: "getOpenAPIYAML", Tag: "meta", Kind: KindDocs,
		Summary: "openapi.yaml: this OpenAPI document as YAML"},
	{Method: "GET", Path: "/docs", ID: "getDocs", Tag: "meta", Kind: KindDocs,
		Summary: "docs: the interactive API documentation page"},
	{Method: "GET", Path: "/docs/assets/:name", ID: "getDocsAsset", Tag: "meta", Kind: KindDocs,
		Summary: "docs/assets/{name}: a script or style sheet of the docs page"},
	{Method: "GET", Path: "/healthz", ID: "healthz", Tag: "meta", Kind: KindHealth,
		Summary: "healthz: liveness"},
	{Method: "GET", Path: "/readyz", ID: "readyz", Tag: "meta", Kind: KindHealth,
		Summary: "readyz: readiness (the database answers)"},
}

// LookupOperation returns the operation of method and path. path may be a fiber route
// pattern ("/api/v1/api_keys/:keyId", as c.Route().Path gives) or a concrete request path
// ("/api/v1/api_keys/k_123"); a literal route wins over a parameter route
// ("/api_keys/bulk" over "/api_keys/:keyId"). HEAD is looked up as GET.
func LookupOperation(method, path string) (Operation, bool) {
	method = strings.ToUpper(method)
	if method == "HEAD" {
		method = "GET"
	}
	for _, op := range Operations {
		if op.Method == method && op.Path == path {
			return op, true
		}
	}
	segs := strings.Split(path, "/")
	for _, op := range Operations {
		if op.Method != method {
			continue
		}
		if matchPattern(strings.Split(op.Path, "/"), segs) {
			return op, true
		}
	}
	return Operation{}, false
}

// matchPattern matches path segments against pattern segments, where ":name" matches
// any one non-empty segment.
func matchPattern(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		if strings.HasPrefix(p, ":") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if p != segs[i] {
			return false
		}
	}
	return true
}

// OpenAPIPath converts a fiber route pattern to an OpenAPI path template
// ("/api_keys/:keyId" -> "/api_keys/{keyId}").
func OpenAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + strings.TrimSuffix(s[1:], "?") + "}"
		}
	}
	return strings.Join(segs, "/")
}
