package mongo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// filled returns a value of type t with every field set to a non-zero
// value (one element in each slice and map), so that marshalling it shows
// every key the driver writes, omitempty ones included.
func filled(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if depth > 8 {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(filled(t.Elem(), depth+1).Addr())
	case reflect.Slice:
		v.Set(reflect.Append(v, filled(t.Elem(), depth+1)))
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(filled(t.Key(), depth+1), filled(t.Elem(), depth+1))
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)))
			break
		}
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(filled(t.Field(i).Type, depth+1))
			}
		}
	}
	return v
}

// has reports whether the dotted path exists in doc, looking into every
// element of an array on the way.
func has(doc bson.Raw, path string) bool {
	seg, rest, nested := strings.Cut(path, ".")
	v, err := doc.LookupErr(seg)
	if err != nil {
		return false
	}
	if !nested {
		return true
	}
	var docs []bson.Raw
	if arr, ok := v.ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, e := range vals {
			if d, ok := e.DocumentOK(); ok {
				docs = append(docs, d)
			}
		}
	} else if d, ok := v.DocumentOK(); ok {
		docs = append(docs, d)
	}
	for _, d := range docs {
		if has(d, rest) {
			return true
		}
	}
	return false
}

// TestFieldNames: every field name the package derives (fields.go) is in
// the BSON the driver writes for its document type.
func TestFieldNames(t *testing.T) {
	if len(declared) == 0 {
		t.Fatal("no field names declared")
	}
	raw := map[reflect.Type]bson.Raw{}
	for _, d := range declared {
		doc, ok := raw[d.doc]
		if !ok {
			b, err := bson.Marshal(filled(d.doc, 0).Interface())
			if err != nil {
				t.Fatalf("%s: %v", d.doc, err)
			}
			doc = b
			raw[d.doc] = doc
		}
		if !has(doc, d.name) {
			t.Errorf("%s: %q (%s) is not in its BSON: %s", d.doc, d.name, d.goPath, doc)
		}
	}
}

func TestBSONPath(t *testing.T) {
	for _, c := range []struct {
		doc          reflect.Type
		goPath, want string
	}{
		{reflect.TypeFor[warningDoc](), "Key", "_id"},
		{reflect.TypeFor[warningDoc](), "UnitPath", "unitpath"},
		{reflect.TypeFor[warningDoc](), "History.Note", "history.note"},
		{reflect.TypeFor[warningDoc](), "PendingReferral.CreatedAt", "pendingreferral.createdat"},
		{reflect.TypeFor[sessionDoc](), "Pending.At", "pending.at"},
		{reflect.TypeFor[resultDoc](), "PendingRescore.Result.ID", "pendingrescore.result.id"},
		{reflect.TypeFor[personDoc](), "RosterKey", "rosterkey"},
	} {
		if got, err := bsonPath(c.doc, c.goPath); err != nil || got != c.want {
			t.Errorf("bsonPath(%s, %s) = %q, %v; want %q", c.doc, c.goPath, got, err, c.want)
		}
	}
	if _, err := bsonPath(reflect.TypeFor[warningDoc](), "History.Nope"); err == nil {
		t.Error("a missing field was found")
	}
}

// TestNoFieldNamesByHand: the package's queries, updates, indexes and
// lookups use the derived names (fields.go), never a field name spelled as
// a string: a key of bson.E/bson.D that is not an operator, a string given
// to a filter or index helper, an aggregation field reference ("$unitid"),
// or a bson tag on a struct declared inside a function. Document types,
// declared at package level, are where names are declared.
func TestNoFieldNamesByHand(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	helpers := map[string]bool{"eq": true, "subtree": true, "after": true, "timeRange": true, "byTime": true, "ix": true,
		"sparse": true, "Lookup": true, "LookupErr": true}
	commands := map[string]bool{`"buildInfo"`: true} // database commands, not fields
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		literal := func(e ast.Expr) (string, bool) {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return "", false
			}
			v, _ := strconv.Unquote(lit.Value)
			return v, !commands[lit.Value]
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Body != nil {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if st, ok := m.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								if fl.Tag != nil && strings.Contains(fl.Tag.Value, "bson:") {
									t.Errorf("%s: a bson tag on a struct inside a function: decode into a document type", fset.Position(fl.Pos()))
								}
							}
						}
						return true
					})
				}
			case *ast.KeyValueExpr:
				k, ok := n.Key.(*ast.Ident)
				if !ok {
					break
				}
				v, isLit := literal(n.Value)
				switch {
				case k.Name == "Key" && isLit && !strings.HasPrefix(v, "$"):
					t.Errorf("%s: field name %q spelled by hand (use the names in fields.go)", fset.Position(n.Pos()), v)
				case k.Name == "Value" && isLit && len(v) > 1 && v[0] == '$' && strings.ToLower(v) == v && !strings.ContainsAny(v, " ."):
					t.Errorf("%s: field reference %q spelled by hand (use \"$\" + a name from fields.go)", fset.Position(n.Pos()), v)
				}
			case *ast.CallExpr:
				fn := ""
				switch f := n.Fun.(type) {
				case *ast.Ident:
					fn = f.Name
				case *ast.SelectorExpr:
					fn = f.Sel.Name
				case *ast.IndexExpr:
					if id, ok := f.X.(*ast.Ident); ok {
						fn = id.Name
					}
				}
				if !helpers[fn] {
					break
				}
				for _, a := range n.Args {
					if v, isLit := literal(a); isLit && v != "" {
						t.Errorf("%s: field name %q given to %s by hand (use the names in fields.go)", fset.Position(a.Pos()), v, fn)
					}
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}
