package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"xinling/assess"
)

// bodyTypes is every request body the API decodes, by type name.
// TestFuzzCoversEveryBodyType keeps it complete.
var bodyTypes = []struct {
	name string
	new  func() any
}{
	{"createSessionRequest", func() any { return new(createSessionRequest) }},
	{"answerRequest", func() any { return new(answerRequest) }},
	{"batchRequest", func() any { return new(batchRequest) }},
	{"loginRequest", func() any { return new(loginRequest) }},
	{"passwordRequest", func() any { return new(passwordRequest) }},
	{"newStaffRequest", func() any { return new(newStaffRequest) }},
	{"newUnitRequest", func() any { return new(newUnitRequest) }},
	{"renameUnitRequest", func() any { return new(renameUnitRequest) }},
	{"newCampaignRequest", func() any { return new(newCampaignRequest) }},
	{"transitionRequest", func() any { return new(transitionRequest) }},
	{"releaseRequest", func() any { return new(releaseRequest) }},
	{"assignRequest", func() any { return new(assignRequest) }},
	{"newCaseRequest", func() any { return new(newCaseRequest) }},
	{"updateCaseRequest", func() any { return new(updateCaseRequest) }},
	{"referRequest", func() any { return new(referRequest) }},
	{"activityRequest", func() any { return new(activityRequest) }},
	{"erasureRequest", func() any { return new(erasureRequest) }},
	{"documentRequest", func() any { return new(documentRequest) }},
	{"permissionsRequest", func() any { return new(permissionsRequest) }},
	{"publicRequest", func() any { return new(publicRequest) }},
	{"tryRequest", func() any { return new(tryRequest) }},
	{"rescoreRequest", func() any { return new(rescoreRequest) }},
	{"callbackRequest", func() any { return new(callbackRequest) }},
	{"bookRequest", func() any { return new(bookRequest) }},
	{"slotRequest", func() any { return new(slotRequest) }},
	{"bookingOutcomeRequest", func() any { return new(bookingOutcomeRequest) }},
	{"linkBookingRequest", func() any { return new(linkBookingRequest) }},
	{"callbackStateRequest", func() any { return new(callbackStateRequest) }},
	{"settingsIn", func() any { return new(settingsIn) }},
	{"notifyTestRequest", func() any { return new(notifyTestRequest) }},
	{"absenceRequest", func() any { return new(absenceRequest) }},
	{"newMeetingRequest", func() any { return new(newMeetingRequest) }},
	{"followUpRequest", func() any { return new(followUpRequest) }},
}

// FuzzDecode feeds arbitrary bytes to the strict decoder as each request
// body type. It must never panic, and every rejection must be an
// assess.Error whose code the error table maps to a 4xx status, with a
// message: a bad body is the caller's fault, never a 500.
//
// `make fuzz` runs it with -tags fuzzdecode, which leaves out the API's
// HTTP tests (package api_test, tagged !fuzzdecode): they bring in the
// SQLite store, and fuzzing instruments every package it compiles, so a
// fresh machine spent about a minute building an instrumented SQLite that
// this target never calls. A new api_test file wants the same tag.
//
// The seed corpus, testdata/fuzz/FuzzDecode/<type>-<n>, holds real bodies
// from the API tests and docs/api.md: the first byte of an input picks the
// body type by its index in bodyTypes, the rest is the body.
func FuzzDecode(f *testing.F) {
	for _, hostile := range []string{"", "{", "null", "[]", `{"a":1}`, "{}\x00", `{"login":"a","login":"b","password":"x"}`,
		`{"value":1e400,"seq":1}`, `{"note":"\ud800"}`, "\xff\xfe{}", strings.Repeat("[", 10000)} {
		f.Add(append([]byte{0}, hostile...))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		bt := bodyTypes[int(data[0])%len(bodyTypes)]
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.SetBody(data[1:])
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		err := decode(c, bt.new())
		if err == nil {
			return
		}
		ae, ok := err.(*assess.Error)
		if !ok {
			t.Fatalf("%s: error %T %v is not an assess.Error", bt.name, err, err)
		}
		status, known := statusOf[ae.Code]
		if !known || status < 400 || status >= 500 || ae.Message == "" {
			t.Fatalf("%s: code %q (status %d) message %q", bt.name, ae.Code, status, ae.Message)
		}
		if status != http.StatusBadRequest {
			t.Fatalf("%s: a body error answers %d, not 400", bt.name, status)
		}
	})
}

// TestFuzzCoversEveryBodyType finds every `var x T` that a handler
// passes to decode and checks that FuzzDecode knows T and has a seed.
func TestFuzzCoversEveryBodyType(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	found := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				return true
			}
			if fn.Name.Name == "decodeAnswer" {
				return false // it hands its caller's variable on to decode
			}
			vars := map[string]string{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					if id, ok := n.Type.(*ast.Ident); ok {
						for _, v := range n.Names {
							vars[v.Name] = id.Name
						}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "decode" || id.Name == "decodeAnswer") && len(n.Args) == 2 {
						var arg *ast.Ident
						if u, ok := n.Args[1].(*ast.UnaryExpr); ok {
							arg, _ = u.X.(*ast.Ident)
						}
						if arg == nil || vars[arg.Name] == "" {
							t.Errorf("%s: decode of something other than a declared local variable", fset.Position(n.Pos()))
							return true
						}
						found[vars[arg.Name]] = true
					}
				}
				return true
			})
			return false
		})
	}
	known := map[string]bool{}
	app := fiber.New()
	for i, bt := range bodyTypes {
		known[bt.name] = true
		seeds, _ := filepath.Glob("testdata/fuzz/FuzzDecode/" + bt.name + "-*")
		if len(seeds) == 0 {
			t.Errorf("%s has no seed in testdata/fuzz/FuzzDecode", bt.name)
		}
		for _, name := range seeds {
			data := readSeed(t, name)
			if len(data) == 0 || int(data[0]) != i {
				t.Errorf("%s: first byte does not pick %s (index %d)", name, bt.name, i)
				continue
			}
			fctx := &fasthttp.RequestCtx{}
			fctx.Request.SetBody(data[1:])
			c := app.AcquireCtx(fctx)
			if err := decode(c, bt.new()); err != nil {
				t.Errorf("%s: a real example does not decode: %v", name, err)
			}
			app.ReleaseCtx(c)
		}
		if !found[bt.name] {
			t.Errorf("%s is in the fuzz table but no handler decodes it", bt.name)
		}
	}
	var missing []string
	for name := range found {
		if !known[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(found) < 10 {
		t.Fatalf("body types decoded but not fuzzed: %v (found %d)", missing, len(found))
	}
}

// readSeed reads a one-value []byte corpus file in `go test fuzz v1` form.
func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lit, ok := strings.CutPrefix(strings.TrimSpace(string(raw)), "go test fuzz v1\n[]byte(")
	if !ok || !strings.HasSuffix(lit, ")") {
		t.Fatalf("%s is not a []byte corpus file", name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}
