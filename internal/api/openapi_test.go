package api

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPI checks that the served document is valid JSON, describes
// exactly the routes of the route table, resolves every $ref, and lists
// every error code the package can produce.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	r := e.request("GET", "/api/v1/openapi.json", "", nil)
	expect(t, "openapi.json", r, http.StatusOK, "")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %v", doc["openapi"])
	}

	// Routes and documented operations match one to one.
	paths, _ := doc["paths"].(map[string]any)
	documented := map[string]bool{}
	opIDs := map[string]bool{}
	for p, item := range paths {
		for m, o := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			op := o.(map[string]any)
			documented[strings.ToUpper(m)+" "+p] = true
			id, _ := op["operationId"].(string)
			if id == "" || opIDs[id] {
				t.Errorf("%s %s: missing or duplicate operationId %q", m, p, id)
			}
			opIDs[id] = true
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s %s: no responses", m, p)
			}
		}
	}
	for _, key := range allRoutes() {
		if !documented[key] {
			t.Errorf("route %s is not in openapi.json", key)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("openapi.json documents %s, which is not a route", key)
	}

	// Every $ref resolves.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("unresolved $ref %q", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)

	// The Error schema's code enum is exactly the codes in the source.
	enum, _ := resolve(doc, "#/components/schemas/Error/properties/error/properties/code/enum").([]any)
	var got []string
	for _, c := range enum {
		got = append(got, c.(string))
	}
	slices.Sort(got)
	if want := sourceCodes(t); !slices.Equal(got, want) {
		t.Errorf("error codes in openapi.json:\n%v\nin the source:\n%v", got, want)
	}
}

// TestAPIDoc checks that docs/api.md mentions every route and error code.
func TestAPIDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatalf("docs/api.md: %v", err)
	}
	md := string(b)
	for _, key := range allRoutes() {
		if !strings.Contains(md, key) {
			t.Errorf("docs/api.md does not mention %s", key)
		}
	}
	for _, c := range sourceCodes(t) {
		if !strings.Contains(md, "`"+c+"`") {
			t.Errorf("docs/api.md does not mention the error code %s", c)
		}
	}
}

// allRoutes returns "METHOD PATTERN" for the route table and the external
// routes; it fails on a duplicate (an external route the table serves too).
func allRoutes() []string {
	var out []string
	a := &API{}
	for _, rt := range a.routes() {
		out = append(out, rt.method+" "+rt.pattern)
	}
	for _, rt := range ExternalRoutes() {
		out = append(out, rt.Method+" "+rt.Pattern)
	}
	return out
}

// TestExternalRoutes checks that the external routes are under /api/v1/,
// are valid mux patterns, and do not collide with the route table.
func TestExternalRoutes(t *testing.T) {
	seen := map[string]bool{}
	for _, key := range allRoutes() {
		if seen[key] {
			t.Errorf("route %s is listed twice", key)
		}
		seen[key] = true
	}
	mux := http.NewServeMux()
	for _, rt := range ExternalRoutes() {
		if !strings.HasPrefix(rt.Pattern, "/api/v1/") || rt.Owner == "" {
			t.Errorf("external route %+v: want a pattern under /api/v1/ and an owner", rt)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("external route %+v: %v", rt, r)
				}
			}()
			mux.HandleFunc(rt.Method+" "+rt.Pattern, func(http.ResponseWriter, *http.Request) {})
		}()
	}
}

// resolve follows a local JSON pointer ("#/a/b") in doc.
func resolve(doc map[string]any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// sourceCodes returns the error codes written by the package's non-test
// source, sorted.
func sourceCodes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:Code:\s*|WriteError\(w, [^,]+, )"([a-z_]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	var out []string
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	if len(out) < 10 {
		t.Fatalf("found only %d codes in the source: %v", len(out), out)
	}
	return out
}
