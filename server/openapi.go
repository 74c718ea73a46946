package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

// APIVersion is info.version of the OpenAPI document: the version of the REST contract.
const APIVersion = "1.0.0"

// MIMEYAML is the media type of /api/v1/openapi.yaml (RFC 9512).
const MIMEYAML = "application/yaml"

// doc is a node of the OpenAPI document. Maps are written with sorted keys (encoding/json
// does so, and so does writeYAML), so the output is deterministic.
type doc = map[string]any

// OpenAPIDocument builds the OpenAPI 3.1 document of the API from Operations (paths,
// operation ids, summaries, permissions) and the field catalog of package query (field
// enums and row schemas). Planned operations are left out. Every call builds a new tree.
func OpenAPIDocument() map[string]any {
	b := &openAPIBuilder{}
	return b.build()
}

var (
	openAPIOnce       sync.Once
	openAPIJSON       []byte
	openAPIYAML       []byte
	errOpenAPIEncoder error
)

// OpenAPIJSON returns the document as indented JSON (keys sorted, trailing newline).
func OpenAPIJSON() ([]byte, error) {
	encodeOpenAPI()
	return openAPIJSON, errOpenAPIEncoder
}

// OpenAPIYAML returns the document as YAML 1.2 (keys sorted, strings double-quoted).
func OpenAPIYAML() ([]byte, error) {
	encodeOpenAPI()
	return openAPIYAML, errOpenAPIEncoder
}

func encodeOpenAPI() {
	openAPIOnce.Do(func() {
		d := OpenAPIDocument()
		openAPIJSON, errOpenAPIEncoder = encodeJSONDoc(d)
		if errOpenAPIEncoder == nil {
			openAPIYAML, errOpenAPIEncoder = encodeYAMLDoc(d)
		}
	})
}

func encodeJSONDoc(d doc) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type openAPIBuilder struct{}

// datasetSchemaName is the prefix of a dataset's component names: "Discovery", "Cert".
func datasetSchemaName(ds query.Dataset) string {
	s := string(ds)
	return strings.ToUpper(s[:1]) + s[1:]
}

func ref(kind, name string) doc { return doc{"$ref": "#/components/" + kind + "/" + name} }

func (b *openAPIBuilder) build() doc {
	ops := documentedOperations()
	paths := doc{}
	tagsUsed := map[string]bool{}
	for _, op := range ops {
		p := OpenAPIPath(op.Path)
		item, _ := paths[p].(doc)
		if item == nil {
			item = doc{}
			paths[p] = item
		}
		item[strings.ToLower(op.Method)] = b.operation(op)
		tagsUsed[op.Tag] = true
	}
	var tags []any
	for _, t := range openAPITags {
		if tagsUsed[t.name] {
			tags = append(tags, doc{"name": t.name, "description": t.description})
		}
	}
	return doc{
		"openapi": "3.1.0",
		"info": doc{
			"title":       "cipherscope API",
			"version":     APIVersion,
			"summary":     "TLS and certificate analytics: observed communications and certificates, queried with a PostgreSQL-like filter language.",
			"description": infoDescription,
		},
		"servers":    []any{doc{"url": "/", "description": "the server that serves this document"}},
		"tags":       tags,
		"paths":      paths,
		"components": b.components(),
	}
}

// documentedOperations are the operations of the document: Operations less the planned.
func documentedOperations() []Operation {
	var out []Operation
	for _, op := range Operations {
		if !op.Planned {
			out = append(out, op)
		}
	}
	return out
}

var openAPITags = []struct{ name, description string }{
	{"dta", "Query the datasets: discovery (observed communications, rolled up per flow) and cert (certificates)."},
	{"ingest", "Load data: upload Zeek logs, certificates or native files into the datasets, all or nothing."},
	{"api_keys", "API keys: create, import, list, edit, lock, unlock, delete."},
	{"roles", "Roles and the permissions they grant."},
	{"audit", "The signed, hash-chained audit log."},
	{"meta", "Health, readiness and this documentation."},
}

const infoDescription = `cipherscope stores observed TLS traffic and certificates and answers questions about them.
The REST surface follows the Keyfactor CipherInsights Analytics Hub API (DTA Discovery, DTA Cert).

**Authentication.** Send an API key in the ` + "`x-api-key`" + ` header or as ` + "`Authorization: Bearer <key>`" + `.
Each operation names the permission its key's roles must grant (` + "`x-permission`" + `); open routes need no key.
401 means no or a bad key, 403 a key whose roles lack the permission.

**Filters** use PostgreSQL WHERE-clause syntax with one field on the left of each predicate:
` + "`cipherKex = 'ECDHE' AND byteVolume > 1000000`, `serviceName ~* 'mysql'`, `serverIp <<= INET '10.10.0.0/16'`" + `.

**Formats** are chosen with ` + "`Accept`" + `: JSON (default), CSV, NDJSON, Arrow IPC stream, Parquet; a zip archive with ` + "`returnAsZipFile=true`" + `.

**Errors** are RFC 7807 ` + "`application/problem+json`" + ` documents; parameter errors list each problem with its position.
Every response carries ` + "`X-Request-Id`" + ` (the problem's ` + "`traceId`" + `) and ` + "`Cache-Control: no-cache`" + `.`

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

func (b *openAPIBuilder) operation(op Operation) doc {
	o := doc{
		"operationId": op.ID,
		"summary":     op.Summary,
		"tags":        []any{op.Tag},
	}
	desc := op.Description
	if desc != "" {
		desc += "\n\n"
	}
	if op.Permission != "" {
		desc += fmt.Sprintf("Required permission: `%s` (an API key in `x-api-key` or `Authorization: Bearer`).", op.Permission)
		o["x-permission"] = op.Permission
		o["security"] = []any{doc{"apiKey": []any{}}, doc{"bearerAuth": []any{}}}
	} else {
		desc += "Open route: no API key is needed."
		o["security"] = []any{}
	}
	o["description"] = desc

	var params []any
	for _, m := range pathParamRe.FindAllStringSubmatch(OpenAPIPath(op.Path), -1) {
		params = append(params, doc{"name": m[1], "in": "path", "required": true, "schema": doc{"type": "string"}})
	}
	errs := []int{}
	if op.Permission != "" {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
	}
	var responses doc
	switch op.Kind {
	case KindList, KindQuery:
		name := datasetSchemaName(op.Dataset)
		if op.Kind == KindList {
			for _, p := range listParams {
				if p == paramColumns {
					params = append(params, ref("parameters", name+"Columns"))
				} else if p == paramSorts {
					params = append(params, ref("parameters", name+"Sorts"))
				} else {
					params = append(params, ref("parameters", paramComponentName(p)))
				}
			}
		} else {
			o["requestBody"] = doc{
				"required":    true,
				"description": "The parameters of GET " + strings.TrimSuffix(OpenAPIPath(op.Path), "/query") + " as one JSON object.",
				"content":     doc{MIMEJSON: doc{"schema": ref("schemas", name+"Query")}},
			}
			errs = append(errs, http.StatusUnsupportedMediaType)
		}
		errs = append(errs, http.StatusBadRequest, http.StatusNotAcceptable, http.StatusRequestEntityTooLarge,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInsufficientStorage, http.StatusInternalServerError)
		responses = doc{"200": ref("responses", name+"Rows")}
	case KindHealth:
		responses = doc{"200": doc{
			"description": "The server is " + map[string]string{"healthz": "alive", "readyz": "ready"}[op.ID] + ".",
			"headers":     commonHeaderRefs(),
			"content":     doc{MIMEJSON: doc{"schema": ref("schemas", "Status")}},
		}}
		if op.ID == "readyz" {
			errs = append(errs, http.StatusServiceUnavailable)
		}
	case KindDocs:
		mt, schema := MIMEJSON, doc{"type": "object", "description": "An OpenAPI 3.1 document."}
		switch {
		case strings.HasSuffix(op.Path, ".yaml"):
			mt, schema = MIMEYAML, doc{"type": "string", "description": "An OpenAPI 3.1 document."}
		case strings.HasSuffix(op.Path, "/docs"):
			mt, schema = "text/html", doc{"type": "string", "description": "The docs page; it loads " + Base + "/openapi.json."}
		}
		content := doc{mt: doc{"schema": schema}}
		if strings.HasPrefix(op.Path, "/docs/assets/") {
			content = doc{}
			for _, name := range sortedAssetNames() {
				mt, _, _ := strings.Cut(docsAssets[name].mime, ";")
				content[mt] = doc{"schema": doc{"type": "string"}}
			}
			errs = append(errs, http.StatusNotFound)
		}
		responses = doc{"200": doc{
			"description": "The " + strings.TrimPrefix(op.Summary[strings.Index(op.Summary, ":")+1:], " ") + ".",
			"headers":     commonHeaderRefs(),
			"content":     content,
		}}
	case KindIngest:
		o["requestBody"] = ingestRequestBody()
		for _, p := range ingestParams {
			params = append(params, ref("parameters", ingestParamComponentName(p)))
		}
		params = append(params, ref("parameters", "IdempotencyKey"))
		// The generic problems; ingestProblems below have their own components.
		errs = append(errs, http.StatusConflict, http.StatusInternalServerError)
		responses = doc{"201": doc{
			"description": "The files were ingested: what was read and stored.",
			"headers":     commonHeaderRefs(),
			"content":     doc{MIMEJSON: doc{"schema": ref("schemas", "IngestSummary")}},
		}}
		for _, p := range ingestProblems {
			responses[strconv.Itoa(p.code)] = ref("responses", ingestProblemResponseName(p.code))
		}
	default:
		// API keys, roles, audit: JSON in, JSON out.
		if op.Method == http.MethodPost || op.Method == http.MethodPatch || op.Method == http.MethodPut {
			o["requestBody"] = doc{"required": true, "content": doc{MIMEJSON: doc{"schema": doc{"type": "object"}}}}
			errs = append(errs, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge,
				http.StatusConflict, http.StatusUnprocessableEntity)
		}
		if op.Method == http.MethodPost {
			params = append(params, ref("parameters", "IdempotencyKey"))
		}
		errs = append(errs, http.StatusBadRequest, http.StatusInternalServerError)
		if len(pathParamRe.FindAllString(OpenAPIPath(op.Path), -1)) > 0 {
			errs = append(errs, http.StatusNotFound)
		}
		ok := doc{
			"description": "Success.",
			"headers":     commonHeaderRefs(),
			"content":     doc{MIMEJSON: doc{"schema": doc{"type": "object"}}},
		}
		status := "200"
		switch {
		case op.Method == http.MethodDelete:
			status, ok = "204", doc{"description": "Deleted.", "headers": commonHeaderRefs()}
		case op.Method == http.MethodPost && !strings.Contains(op.Path, "/:") && !strings.HasSuffix(op.Path, "/bulk"):
			status = "201"
		}
		responses = doc{status: ok}
	}
	for _, code := range errs {
		responses[strconv.Itoa(code)] = ref("responses", problemResponseName(code))
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	o["responses"] = responses
	return o
}

// listParams are the query parameters of the GET dataset routes, in documentation order.
var listParams = []string{paramColumns, paramFilter, paramSorts, paramLimit, paramOffset, paramCursor,
	paramTimeFrameBegin, paramTimeFrameEnd, paramMaterialized, paramFilteredCount, paramTotalCount,
	paramReturnAsStream, paramReturnAsZipFile}

// paramComponentName turns "timeFrame[begin]" into "TimeFrameBegin".
func paramComponentName(p string) string {
	var sb strings.Builder
	up := true
	for _, r := range p {
		switch {
		case r == '[' || r == ']':
			up = true
		case up:
			sb.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// problemStatuses are the error statuses the server answers with a problem document.
var problemStatuses = []int{
	http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
	http.StatusNotAcceptable, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
	http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable,
	http.StatusGatewayTimeout, http.StatusInsufficientStorage,
}

var problemDescriptions = map[int]string{
	http.StatusBadRequest:            "Bad parameters, body or filter; `errors` lists each problem with its parameter and, for filters, its position.",
	http.StatusUnauthorized:          "No API key, or an unknown, locked or expired one.",
	http.StatusForbidden:             "The API key's roles lack the operation's permission.",
	http.StatusNotFound:              "No such resource.",
	http.StatusNotAcceptable:         "No acceptable media type; the detail lists what the route produces.",
	http.StatusConflict:              "The request conflicts with the stored state (a duplicate name), or an Idempotency-Key was reused with another body.",
	http.StatusUnprocessableEntity:   "The request body is well-formed JSON but its values are invalid.",
	http.StatusRequestEntityTooLarge: "The request body is over the size limit, or the query needs more memory than the server allows.",
	http.StatusUnsupportedMediaType:  "The request body is not `application/json`.",
	http.StatusTooManyRequests:       "Rate limit exceeded; retry after `Retry-After` seconds.",
	http.StatusInternalServerError:   "Internal error; the server log has the details under the `traceId`.",
	http.StatusServiceUnavailable:    "The server is running its maximum number of queries (retry after `Retry-After` seconds), the query was cancelled, or the database is not available.",
	http.StatusGatewayTimeout:        "The query did not finish within the query timeout.",
	http.StatusInsufficientStorage:   "`limit` is above the maximum page size; page with `offset` or `cursor`, or use `returnAsStream` or `returnAsZipFile`.",
}

func problemResponseName(code int) string {
	return strings.ReplaceAll(http.StatusText(code), " ", "")
}

// problemResponse is a problem response object: description, the common headers (and
// Retry-After for 429 and 503), and a problem document of the schema component schema.
func problemResponse(code int, description, schema string) doc {
	r := doc{
		"description": description,
		"headers":     commonHeaderRefs(),
		"content":     doc{ProblemContentType: doc{"schema": ref("schemas", schema)}},
	}
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		r["headers"].(doc)["Retry-After"] = ref("headers", "Retry-After")
	}
	return r
}

func commonHeaderRefs() doc {
	return doc{"X-Request-Id": ref("headers", "X-Request-Id"), "Cache-Control": ref("headers", "Cache-Control")}
}

func (b *openAPIBuilder) components() doc {
	schemas := doc{
		"Problem":      problemSchema(),
		"ProblemError": problemErrorSchema(),
		"Status": doc{
			"type": "object", "required": []any{"status"}, "additionalProperties": false,
			"properties": doc{"status": doc{"type": "string", "enum": []any{"ok", "ready"}}},
		},
		"Pagination": doc{
			"type":        "object",
			"description": "Offset pages have limit, offset and returned; cursor pages limit, returned and nextCursor; streamed exports returned only.",
			"required":    []any{"returned"}, "additionalProperties": false,
			"properties": doc{
				"limit":      doc{"type": "integer", "format": "int64", "description": "The page size."},
				"offset":     doc{"type": "integer", "format": "int64", "description": "The page number (in pages of limit)."},
				"returned":   doc{"type": "integer", "format": "int64", "description": "Rows in this response."},
				"nextCursor": doc{"type": []any{"string", "null"}, "description": "The cursor of the next page; null on the last page."},
			},
		},
	}
	responses := doc{}
	parameters := doc{}
	for _, p := range listParams {
		if p != paramColumns && p != paramSorts {
			parameters[paramComponentName(p)] = scalarParameter(p)
		}
	}
	for _, ds := range query.Datasets {
		name := datasetSchemaName(ds)
		fields := query.Fields(ds)
		names := make([]any, len(fields))
		props := doc{}
		for i, f := range fields {
			names[i] = f.Name
			props[f.Name] = fieldSchema(f)
		}
		schemas[name+"Field"] = doc{"type": "string", "enum": names, "description": "A field of the " + string(ds) + " dataset."}
		schemas[name+"Sort"] = doc{
			"type":        "string",
			"description": "`field asc` or `field desc` (direction required, case-insensitive); several may be comma-separated.",
			"pattern":     sortPattern(fields),
			"examples":    []any{fields[len(fields)-1].Name + " desc"},
		}
		schemas[name+"Row"] = doc{
			"type":                 "object",
			"description":          "One row of the " + string(ds) + " dataset with the requested columns (default: all, in this order). NULL values are null.",
			"additionalProperties": false,
			"properties":           props,
		}
		schemas[name+"Page"] = doc{
			"type": "object", "required": []any{"data", "pagination"}, "additionalProperties": false,
			"properties": doc{
				"data":          doc{"type": "array", "items": ref("schemas", name+"Row")},
				"pagination":    ref("schemas", "Pagination"),
				"filteredCount": doc{"type": "integer", "format": "int64", "description": "Rows matching the request over all pages (reportFilteredCount=true)."},
				"totalCount":    doc{"type": "integer", "format": "int64", "description": "Rows in the time frame without the filter (reportTotalCount=true)."},
			},
		}
		schemas[name+"Query"] = queryBodySchema(name)
		parameters[name+"Columns"] = doc{
			"name": paramColumns, "in": "query", "style": "form", "explode": true,
			"description": "Fields to return, in this order; repeat the parameter or separate names with commas. Default: every field of the dataset.",
			"schema":      doc{"type": "array", "items": ref("schemas", name+"Field")},
		}
		parameters[name+"Sorts"] = doc{
			"name": paramSorts, "in": "query", "style": "form", "explode": true,
			"description": "Sort order: `field asc|desc`, repeated or comma-separated; ties are broken stably.",
			"schema":      doc{"type": "array", "items": ref("schemas", name+"Sort")},
		}
		responses[name+"Rows"] = rowsResponse(name)
	}
	for _, code := range problemStatuses {
		responses[problemResponseName(code)] = problemResponse(code, problemDescriptions[code], "Problem")
	}
	addIngestComponents(schemas, parameters, responses)
	parameters["IdempotencyKey"] = doc{
		"name": HeaderIdempotencyKey, "in": "header",
		"description": "Makes the POST safe to retry: the same key and body within 24 hours get the stored response; another body gets 409.",
		"schema":      doc{"type": "string", "maxLength": maxIdempotencyKeyLen},
	}
	return doc{
		"schemas":    schemas,
		"parameters": parameters,
		"responses":  responses,
		"headers": doc{
			"X-Request-Id":  doc{"description": "The client's request id if it sent a short one of `[A-Za-z0-9._:/+=-]`, else a generated one; problems repeat it as `traceId`.", "schema": doc{"type": "string"}},
			"Cache-Control": doc{"description": "Always `no-cache`.", "schema": doc{"type": "string"}},
			"Retry-After":   doc{"description": "Seconds to wait before retrying.", "schema": doc{"type": "integer"}},
			"X-Total-Count": doc{"description": "Rows matching the request over all pages, whenever known (reportFilteredCount=true, or a short last page).", "schema": doc{"type": "integer", "format": "int64"}},
			"X-Next-Cursor": doc{"description": "The nextCursor of a cursor page (for formats without the JSON envelope).", "schema": doc{"type": "string"}},
			"Server-Timing": doc{"description": "Pages (not exports): where the server's time went, in milliseconds: " +
				"`queue;dur=` waiting for a query slot, `count;dur=` the requested counts (when asked for), `query;dur=` the query " +
				"up to its complete result, `encode;dur=` rendering the body. The rest of what a client measures is HTTP.", "schema": doc{"type": "string"}},
			"Content-Disposition": doc{"description": "Exports: `attachment; filename=\"dta_<dataset>_<UTC time>.<ext>\"`.", "schema": doc{"type": "string"}},
		},
		"securitySchemes": doc{
			"apiKey":     doc{"type": "apiKey", "in": "header", "name": "x-api-key", "description": "An API key."},
			"bearerAuth": doc{"type": "http", "scheme": "bearer", "description": "An API key as `Authorization: Bearer <key>`."},
		},
	}
}

func rowsResponse(name string) doc {
	binary := func(what string) doc {
		return doc{"schema": doc{"type": "string", "contentMediaType": what, "description": what}}
	}
	return doc{
		"description": "The rows, in the format chosen with Accept (JSON by default).",
		"headers": doc{
			"X-Request-Id":        ref("headers", "X-Request-Id"),
			"Cache-Control":       ref("headers", "Cache-Control"),
			"X-Total-Count":       ref("headers", "X-Total-Count"),
			"X-Next-Cursor":       ref("headers", "X-Next-Cursor"),
			"Server-Timing":       ref("headers", "Server-Timing"),
			"Content-Disposition": ref("headers", "Content-Disposition"),
		},
		"content": doc{
			MIMEJSON: doc{"schema": ref("schemas", name+"Page")},
			MIMECSV: doc{"schema": doc{"type": "string",
				"description": "RFC 4180 CSV with a header line; NULL is an empty field, lists are JSON arrays, timestamps RFC 3339 UTC."}},
			MIMENDJSON: doc{"schema": doc{"type": "string",
				"description": "One " + name + "Row JSON object per line."}},
			MIMEArrow:   binary("An Apache Arrow IPC stream (ip fields as text, timestamps timestamp[us, UTC])."),
			MIMEParquet: binary("A Parquet file (zstd), Arrow schema stored."),
			MIMEZip:     binary("With returnAsZipFile=true: a zip archive holding one file dta_<dataset>_<UTC time>.<ext>."),
		},
	}
}

// sortPattern is an ECMA-262 regular expression of a sorts value: field names from the
// catalog, a required direction, comma-separated.
func sortPattern(fields []query.Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = regexp.QuoteMeta(f.Name)
	}
	one := `\s*(` + strings.Join(names, "|") + `)\s+([aA][sS][cC]|[dD][eE][sS][cC])\s*`
	return "^" + one + "(," + one + ")*$"
}

// fieldSchema is the JSON Schema of a field's value in a JSON row.
func fieldSchema(f query.Field) doc {
	desc := f.Description
	if f.CI {
		desc += " (CipherInsights name.)"
	}
	s := doc{"description": desc, "x-field-type": string(f.Type), "x-field-role": string(f.Role)}
	switch f.Type {
	case query.Int:
		s["type"], s["format"] = []any{"integer", "null"}, "int64"
	case query.Float:
		s["type"], s["format"] = []any{"number", "null"}, "double"
	case query.Bool:
		s["type"] = []any{"boolean", "null"}
	case query.Timestamp:
		s["type"], s["format"] = []any{"string", "null"}, "date-time"
	case query.StringList:
		s["type"], s["items"] = []any{"array", "null"}, doc{"type": "string"}
	case query.IP:
		s["type"] = []any{"string", "null"}
		s["description"] = desc + " Canonical text form."
	default:
		s["type"] = []any{"string", "null"}
	}
	return s
}

// scalarParameter is the parameter object of a scalar list parameter.
func scalarParameter(p string) doc {
	boolean := func(desc string) doc {
		return doc{"name": p, "in": "query", "description": desc, "schema": doc{"type": "boolean", "default": false}}
	}
	switch p {
	case paramFilter:
		return doc{"name": p, "in": "query", "description": "The filter: PostgreSQL WHERE-clause syntax with one field on the left of each predicate.",
			"schema": doc{"type": "string"}, "examples": doc{
				"weak":   doc{"summary": "weak TLS versions", "value": "tlsVersion IN ('TLSv1.0', 'TLSv1.1') AND byteVolume > 100000"},
				"subnet": doc{"summary": "a subnet", "value": "serverIp <<= INET '10.0.0.0/8'"},
			}}
	case paramLimit:
		return doc{"name": p, "in": "query",
			"description": fmt.Sprintf("Page size, default %d, at most the server's maximum page (%d unless configured); a larger limit gets 507 unless returnAsStream or returnAsZipFile is set, where it caps the rows.", DefaultLimit, MaxLimit),
			"schema":      doc{"type": "integer", "format": "int64", "minimum": 1, "default": DefaultLimit}}
	case paramOffset:
		return doc{"name": p, "in": "query", "description": "Page number in pages of limit (as CipherInsights): offset=2&limit=50 returns rows 101..150. Not with cursor, returnAsStream, returnAsZipFile.",
			"schema": doc{"type": "integer", "format": "int64", "minimum": 0, "default": 0}}
	case paramCursor:
		return doc{"name": p, "in": "query", "allowEmptyValue": true,
			"description": "Keyset pagination: empty for the first page, then the nextCursor of each page. Signed and bound to the dataset, filter, sorts and time frame. Not with offset.",
			"schema":      doc{"type": "string"}}
	case paramTimeFrameBegin, paramTimeFrameEnd:
		which := "Start (inclusive)"
		if p == paramTimeFrameEnd {
			which = "End (exclusive)"
		}
		return doc{"name": p, "in": "query",
			"description": which + " of the time frame: " + timeSyntax + "; " + timeExamples + ". Default: all time. Not with timeFrame[materializedView].",
			"schema":      doc{"type": "string"}}
	case paramMaterialized:
		names := make([]any, len(materializedViewNames))
		for i, n := range materializedViewNames {
			names[i] = n
		}
		return doc{"name": p, "in": "query", "description": "A named time frame reaching back from now. Not with timeFrame[begin] or timeFrame[end].",
			"schema": doc{"type": "string", "enum": names}}
	case paramFilteredCount:
		return boolean("true adds filteredCount (rows matching the request, all pages) and X-Total-Count.")
	case paramTotalCount:
		return boolean("true adds totalCount (rows in the time frame without the filter).")
	case paramReturnAsStream:
		return boolean("true returns every matching row (an explicit limit caps them), streamed. Not with offset or cursor.")
	case paramReturnAsZipFile:
		return boolean("true returns every matching row in a zip archive (Accept chooses the format inside). Not with offset or cursor.")
	}
	panic("openapi: no parameter description for " + p)
}

func queryBodySchema(name string) doc {
	str := func(desc string) doc { return doc{"type": "string", "description": desc} }
	intish := func(desc string) doc { return doc{"type": []any{"integer", "string"}, "description": desc} }
	boolish := func(desc string) doc { return doc{"type": []any{"boolean", "string"}, "description": desc} }
	return doc{
		"type":                 "object",
		"description":          "The GET parameters as a JSON object. Scalars may be strings, numbers or booleans, read as the same text in a query string. Unknown fields are a 400.",
		"additionalProperties": false,
		"properties": doc{
			"columns": doc{"type": "array", "items": ref("schemas", name+"Field"), "description": "Fields to return, in this order."},
			"filter":  str("The filter expression."),
			"sorts":   doc{"type": "array", "items": ref("schemas", name+"Sort"), "description": "Sort order."},
			"timeFrame": doc{
				"type": "object", "additionalProperties": false,
				"properties": doc{
					"begin":            doc{"type": []any{"string", "integer"}, "description": "As timeFrame[begin]."},
					"end":              doc{"type": []any{"string", "integer"}, "description": "As timeFrame[end]."},
					"materializedView": str("As timeFrame[materializedView]."),
				},
			},
			"limit":               intish("As the limit parameter."),
			"offset":              intish("As the offset parameter."),
			"cursor":              str("As the cursor parameter."),
			"reportFilteredCount": boolish("As the reportFilteredCount parameter."),
			"reportTotalCount":    boolish("As the reportTotalCount parameter."),
			"returnAsStream":      boolish("As the returnAsStream parameter."),
			"returnAsZipFile":     boolish("As the returnAsZipFile parameter."),
		},
		"examples": []any{doc{
			"columns": []any{"serverName", "byteVolume"}, "filter": "byteVolume > 1000000", "sorts": []any{"byteVolume desc"},
			"timeFrame": doc{"begin": "now minus 7 days", "end": "now"}, "limit": 50, "reportFilteredCount": true,
		}},
	}
}

func problemSchema() doc {
	return doc{
		"type":        "object",
		"description": "An RFC 7807 problem document. type is always about:blank; the status says what kind of problem it is.",
		"required":    []any{"type", "title", "status", "detail", "instance", "traceId"},
		"properties": doc{
			"type":     doc{"type": "string", "description": "Always about:blank."},
			"title":    doc{"type": "string", "description": "The HTTP status phrase."},
			"status":   doc{"type": "integer", "description": "The HTTP status code."},
			"detail":   doc{"type": "string", "description": "What went wrong."},
			"instance": doc{"type": "string", "description": "The request path."},
			"traceId":  doc{"type": "string", "description": "The request id (X-Request-Id)."},
			"errors":   doc{"type": "array", "items": ref("schemas", "ProblemError"), "description": "Each problem with a request parameter (400)."},
		},
	}
}

func problemErrorSchema() doc {
	kinds := []any{}
	for _, k := range []query.ErrorKind{query.SyntaxError, query.TypeError, query.UnknownFieldError, query.LimitError, query.ValueError} {
		kinds = append(kinds, string(k))
	}
	return doc{
		"type":     "object",
		"required": []any{"kind", "param", "message"},
		"properties": doc{
			"kind":    doc{"type": "string", "enum": kinds},
			"param":   doc{"type": "string", "description": "The parameter (GET name, e.g. timeFrame[begin])."},
			"message": doc{"type": "string"},
			"hint":    doc{"type": "string", "description": "A suggestion, e.g. the closest field names."},
			"offset":  doc{"type": "integer", "description": "Byte offset (from 0) in the parameter's value (filter, sorts)."},
			"line":    doc{"type": "integer", "description": "Line (from 1)."},
			"column":  doc{"type": "integer", "description": "Column (from 1)."},
			"token":   doc{"type": "string", "description": "The offending token."},
		},
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m doc) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedAssetNames() []string {
	names := make([]string, 0, len(docsAssets))
	for n := range docsAssets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// POST /ingest (KindIngest): the parameters, body, summary and problems of ingest_api.go.

// ingestParams are the query parameters of POST /ingest, in documentation order; the
// components are named "Ingest" + paramComponentName.
var ingestParams = []string{paramFormat, paramSkipInvalid, paramName}

func ingestParamComponentName(p string) string { return "Ingest" + paramComponentName(p) }

// ingestFormats are the values of the format parameter (ingest.ParseFormat).
var ingestFormats = []ingest.Format{ingest.Auto, ingest.Zeek, ingest.X509, ingest.Native}

// ingestProblems are the problems of POST /ingest whose description differs from the
// generic one (problemDescriptions); their components are "Ingest" + problemResponseName.
// The 422 has the extension members of ingestProblem.
var ingestProblems = []struct {
	code        int
	description string
}{
	{http.StatusBadRequest, fmt.Sprintf("The request cannot be read: a bad, unknown or repeated parameter or form field (`errors` lists each with its parameter), "+
		"a form field over %d bytes, a multipart body without a boundary, malformed, without a `%s` part or with more than %d, an empty raw body, "+
		"an upload interrupted before its end, or an Idempotency-Key over %d characters. Nothing was stored.",
		maxFormValue, formFile, maxUploadFiles, maxIdempotencyKeyLen)},
	{http.StatusLengthRequired, "A raw body without `Content-Length` (chunked): a chunked raw body cut short between two chunks could not be told from a complete one. " +
		"Send the Content-Length, or multipart/form-data, which may be chunked (it ends with its closing boundary)."},
	{http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body, multipart framing included, is over the server's maximum upload size "+
		"(`serve --max-upload-bytes`, %d MiB by default), checked against Content-Length before anything is read, else while reading; "+
		"or loading needs more memory than the server allows. Nothing was stored.", DefaultMaxUploadBytes>>20)},
	{http.StatusUnsupportedMediaType, "The Content-Type is neither `" + fiber.MIMEMultipartForm + "` nor one of the raw media types of the request body " +
		"(the detail lists them), or is unreadable; or the Content-Encoding is not supported (a raw body may be `gzip`, a multipart body none: " +
		"upload gzip-compressed files as they are, they are recognised by their content)."},
	{http.StatusUnprocessableEntity, "The content is wrong, the request is not: a malformed line or certificate, or a file of no known format (or not of the " +
		"requested `format`). `detail` is the message with the uploaded file's name (`file:line: field \"x\": value \"...\": reason`); " +
		"`file`, `line` and `field` locate the error where known. Nothing was stored."},
	{http.StatusServiceUnavailable, fmt.Sprintf("Another ingest is running (one at a time: retry after `Retry-After`, %d seconds), the idempotency store is full, "+
		"the ingest was canceled because the server is shutting down, or the server has no database to load into. Nothing was stored.",
		int(ingestRetryAfter.Seconds()))},
	{http.StatusGatewayTimeout, fmt.Sprintf("The upload, parsing and loading did not finish within the ingest timeout (`serve --ingest-timeout`, %s by default). "+
		"Nothing was stored.", strings.TrimSuffix(strings.TrimSuffix(DefaultIngestTimeout.String(), "0s"), "0m"))},
}

func ingestProblemResponseName(code int) string { return "Ingest" + problemResponseName(code) }

// ingestRequestBody is multipart/form-data with file parts, or the raw content of one
// file as any of rawUploadTypes.
func ingestRequestBody() doc {
	content := doc{fiber.MIMEMultipartForm: doc{"schema": doc{
		"type":                 "object",
		"description":          "One `" + formFile + "` part per file, and the parameters as form fields (each given once, here or in the query string). Other fields are a 400.",
		"required":             []any{formFile},
		"additionalProperties": false,
		"properties": doc{
			formFile: doc{
				"type": "array", "minItems": 1, "maxItems": maxUploadFiles,
				"description": fmt.Sprintf("The files, in order; each part's filename names its file in errors and in the summary (default `%s`).", defaultUploadName),
				"items":       doc{"type": "string", "contentMediaType": fiber.MIMEOctetStream, "description": "The content of one file."},
			},
			paramFormat:      ref("schemas", "IngestFormat"),
			paramSkipInvalid: doc{"type": "boolean", "default": false, "description": "As the " + paramSkipInvalid + " parameter."},
		},
	}}}
	for _, mt := range rawUploadTypes {
		content[mt] = doc{"schema": doc{"type": "string", "contentMediaType": mt, "description": "The content of one file."}}
	}
	return doc{
		"required": true,
		"description": "`" + fiber.MIMEMultipartForm + "` with one `" + formFile + "` part per file, or the raw content of one file with a Content-Length, named by `" +
			paramName + "`. The media type only says \"a file\": each file's kind is detected from its content. A body without a Content-Type is taken as `" +
			fiber.MIMEOctetStream + "`; a raw body may be sent with `Content-Encoding: gzip`.",
		"content": content,
	}
}

// addIngestComponents adds the schemas, parameters and responses of POST /ingest.
func addIngestComponents(schemas, parameters, responses doc) {
	formats := make([]any, len(ingestFormats))
	for i, f := range ingestFormats {
		formats[i] = string(f)
	}
	schemas["IngestFormat"] = doc{
		"type": "string", "enum": formats, "default": string(ingest.Auto),
		"description": "Restricts how files are read, as `cipherscope ingest --format`: auto detects each file's kind from its content; " +
			"zeek: Zeek conn/ssl/x509 logs (TSV or JSON); x509: PEM or DER certificates and bundles; native: cipherscope's CSV, NDJSON or Parquet files.",
	}
	count := func(desc string) doc {
		return doc{"type": "integer", "format": "int64", "minimum": 0, "description": desc}
	}
	schemas["IngestDatasetCounts"] = doc{
		"type": "object", "required": []any{"rows", "inserted", "updated", "duplicates"}, "additionalProperties": false,
		"description": "What one dataset got from the ingest.",
		"properties": doc{
			"rows":       count("Rows read from the files."),
			"inserted":   count("New rows."),
			"updated":    count("Rows stored already and changed (a certificate seen again)."),
			"duplicates": count("Rows stored already, or repeated in the upload."),
		},
	}
	datasets, dsNames := doc{}, []any{}
	for _, ds := range query.Datasets {
		datasets[string(ds)] = ref("schemas", "IngestDatasetCounts")
		dsNames = append(dsNames, string(ds))
	}
	schemas["IngestSummary"] = doc{
		"type": "object", "additionalProperties": false,
		"description": "The answer to a successful ingest.",
		"required":    []any{"files", "kinds", "datasets", "skipped", "examples", "durationMs"},
		"properties": doc{
			"files": doc{"type": "array", "description": "The uploaded files, in order.", "items": doc{
				"type": "object", "required": []any{"name", "bytes"}, "additionalProperties": false,
				"properties": doc{
					"name":  doc{"type": "string", "description": "The file's name: the part's filename, or the name parameter."},
					"bytes": count("The file's size."),
				},
			}},
			"kinds": doc{"type": "object", "description": "Files per detected kind (zeek, pem, der, pkcs7, csv, ndjson, parquet).",
				"additionalProperties": doc{"type": "integer", "minimum": 0}},
			"datasets": doc{"type": "object", "description": "One member per dataset.", "required": dsNames,
				"additionalProperties": false, "properties": datasets},
			"skipped":    count("Malformed lines or certificates skipped (skipInvalid=true)."),
			"examples":   doc{"type": "array", "items": doc{"type": "string"}, "description": "The first of the skipped, quoted."},
			"durationMs": count("Milliseconds the server spent receiving, parsing and storing."),
		},
		"examples": []any{doc{
			"files":    []any{doc{"name": "conn.log", "bytes": 12961}, doc{"name": "ssl.log", "bytes": 8363}},
			"kinds":    doc{"zeek": 2},
			"datasets": doc{"discovery": doc{"rows": 10, "inserted": 10, "updated": 0, "duplicates": 0}, "cert": doc{"rows": 0, "inserted": 0, "updated": 0, "duplicates": 0}},
			"skipped":  0, "examples": []any{}, "durationMs": 61,
		}},
	}
	schemas["IngestProblem"] = doc{
		"description": "A problem document with the location of an input error, where known.",
		"allOf": []any{ref("schemas", "Problem"), doc{
			"type": "object",
			"properties": doc{
				"file":  doc{"type": "string", "description": "The uploaded file's name."},
				"line":  doc{"type": "integer", "minimum": 1, "description": "The line (from 1) of the malformed line, or of the certificate's PEM block (1 for DER)."},
				"field": doc{"type": "string", "description": "The field, e.g. id.resp_p."},
			},
		}},
	}

	parameters[ingestParamComponentName(paramFormat)] = doc{"name": paramFormat, "in": "query",
		"description": "How to read the files (default auto: detect each one). Also a form field of a multipart body.",
		"schema":      ref("schemas", "IngestFormat")}
	parameters[ingestParamComponentName(paramSkipInvalid)] = doc{"name": paramSkipInvalid, "in": "query",
		"description": "true skips malformed lines and certificates, counting them in `skipped` and quoting the first in `examples`, instead of failing with 422. Also a form field of a multipart body.",
		"schema":      doc{"type": "boolean", "default": false}}
	parameters[ingestParamComponentName(paramName)] = doc{"name": paramName, "in": "query",
		"description": fmt.Sprintf("The file name of a raw body, in errors and the summary: 1-%d bytes of UTF-8 without '/', '\\' or control characters, and not `.` or `..`. "+
			"Not with %s: each file part's filename names it.", maxUploadNameLen, fiber.MIMEMultipartForm),
		"schema": doc{"type": "string", "minLength": 1, "maxLength": maxUploadNameLen, "default": defaultUploadName}}

	for _, p := range ingestProblems {
		schema := "Problem"
		if p.code == http.StatusUnprocessableEntity {
			schema = "IngestProblem"
		}
		responses[ingestProblemResponseName(p.code)] = problemResponse(p.code, p.description, schema)
	}
}
