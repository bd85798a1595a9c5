package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// storeTypes returns every struct type of this package that crosses the
// Store interface or one of the optional backend interfaces, as a
// parameter, a result, or inside one (fields, slices, maps, pointers).
func storeTypes() map[string]reflect.Type {
	pkg := reflect.TypeFor[Person]().PkgPath()
	found := map[string]reflect.Type{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			visit(t.Elem())
			return
		case reflect.Map:
			visit(t.Key())
			visit(t.Elem())
			return
		case reflect.Func:
			for i := range t.NumIn() {
				visit(t.In(i))
			}
			for i := range t.NumOut() {
				visit(t.Out(i))
			}
			return
		case reflect.Struct:
		default:
			return
		}
		if t.PkgPath() != pkg || found[t.Name()] != nil {
			return
		}
		found[t.Name()] = t
		for i := range t.NumField() {
			visit(t.Field(i).Type)
		}
	}
	for _, iface := range []reflect.Type{reflect.TypeFor[Store](), reflect.TypeFor[Resealer](),
		reflect.TypeFor[ChangeFeed](), reflect.TypeFor[Finisher](), reflect.TypeFor[Backuper]()} {
		for i := range iface.NumMethod() {
			visit(iface.Method(i).Type)
		}
	}
	return found
}

// TestInventory: every record type that crosses the Store interface is
// either in the inventory, with each of its fields declared personal or
// plain, or declared to hold no personal data. A new field, or a new
// record type, fails here until it is classified.
func TestInventory(t *testing.T) {
	types := storeTypes()
	if len(types) < 20 {
		t.Fatalf("found only %d record types: the walk is broken", len(types))
	}
	sealedType := reflect.TypeFor[Sealed]()
	for name, typ := range types {
		plain, inInventory := plainFields[name]
		if _, none := noPersonalData[name]; none {
			if inInventory {
				t.Errorf("%s is both in the inventory and declared to hold no personal data", name)
			}
			for i := range typ.NumField() {
				if typ.Field(i).Type == sealedType {
					t.Errorf("%s.%s is Sealed, but %s is declared to hold no personal data", name, typ.Field(i).Name, name)
				}
			}
			continue
		}
		if !inInventory {
			t.Errorf("record type %s crosses the Store interface but is neither in the personal-data inventory "+
				"(store/personal.go: Personal and plainFields) nor declared in noPersonalData", name)
			continue
		}
		declared := map[string]string{}
		for _, f := range strings.Fields(plain) {
			declared[f] = "plain"
		}
		for _, f := range PersonalFields(name) {
			if declared[f.Field] != "" {
				t.Errorf("%s is declared twice (%s and personal)", f.Name(), declared[f.Field])
			}
			declared[f.Field] = "personal"
		}
		for i := range typ.NumField() {
			sf := typ.Field(i)
			switch {
			case declared[sf.Name] == "":
				t.Errorf("%s.%s is not classified: add it to store.Personal (what sealing, erasure and the export do with it) "+
					"or to plainFields (it carries nothing personal)", name, sf.Name)
			case sf.Type == sealedType && declared[sf.Name] != "personal":
				t.Errorf("%s.%s is Sealed but not in the inventory", name, sf.Name)
			}
			delete(declared, sf.Name)
		}
		for f := range declared {
			t.Errorf("%s.%s is declared but %s has no such field", name, f, name)
		}
	}
	for name := range plainFields {
		if types[name] == nil {
			t.Errorf("the inventory lists %s, which does not cross the Store interface", name)
		}
		if personalTypes[name] != types[name] {
			t.Errorf("personalTypes[%q] = %v, want %v", name, personalTypes[name], types[name])
		}
	}
	if len(personalTypes) != len(plainFields) {
		t.Errorf("personalTypes has %d records, plainFields %d", len(personalTypes), len(plainFields))
	}
	for name := range noPersonalData {
		if types[name] == nil {
			t.Errorf("noPersonalData lists %s, which does not cross the Store interface", name)
		}
	}
}

// TestInventoryRules: the inventory is consistent with itself and with the
// sealing field names.
func TestInventoryRules(t *testing.T) {
	sealedType := reflect.TypeFor[Sealed]()
	seen := map[string]bool{}
	sealedNames := map[string]string{}
	types := storeTypes()
	for _, f := range Personal {
		typ := types[f.Record]
		if typ == nil {
			t.Errorf("%s: no record type %s", f.Name(), f.Record)
			continue
		}
		sf, ok := typ.FieldByName(f.Field)
		if !ok {
			t.Errorf("%s: no such field", f.Name())
			continue
		}
		if seen[f.Name()] {
			t.Errorf("%s is listed twice", f.Name())
		}
		seen[f.Name()] = true
		switch f.Erase {
		case EraseBlank, EraseDelete, EraseOnRequest, EraseKeep:
		case EraseToAge:
			if f.Name() != "Person.Age" {
				t.Errorf("%s: only Person.Age is replaced by the age at erasure (the backends do it by hand)", f.Name())
			}
		default:
			t.Errorf("%s: unknown erasure %q", f.Name(), f.Erase)
		}
		if f.Erase == EraseBlank {
			// The backends store a blank as NULL (bytes) or '' (text).
			if k := sf.Type.Kind(); k != reflect.String && !(k == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8) {
				t.Errorf("%s: a blanked field must be text or bytes, not %s", f.Name(), sf.Type)
			}
		}
		if r := RecordErasure(f.Record); (r == EraseDelete || r == EraseOnRequest) && f.Erase != r {
			t.Errorf("%s: erasure %s, but another field of %s deletes the whole record (%s)", f.Name(), f.Erase, f.Record, r)
		}
		if f.Sealed != "" {
			if prev := sealedNames[f.Sealed]; prev != "" {
				t.Errorf("%s and %s are both sealed as %s", prev, f.Name(), f.Sealed)
			}
			sealedNames[f.Sealed] = f.Name()
			if k := sf.Type.Kind(); k != reflect.String && sf.Type != sealedType {
				t.Errorf("%s: a sealed field must be Sealed or a string, not %s", f.Name(), sf.Type)
			}
		}
		if (f.Sealed == "" || f.Erase == EraseKeep || !f.Exported) && f.Why == "" {
			t.Errorf("%s: say why it is in clear, kept or not exported", f.Name())
		}
	}
	// Every Field* name of sealing.go is a sealed field of the inventory.
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "sealing.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range vs.Names {
			if !strings.HasPrefix(id.Name, "Field") || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok {
				continue
			}
			v, _ := strconv.Unquote(lit.Value)
			consts = append(consts, id.Name)
			if sealedNames[v] == "" {
				t.Errorf("%s (%q) is sealed by no field of the inventory", id.Name, v)
			}
		}
		return true
	})
	if len(consts) != len(sealedNames) {
		t.Errorf("sealing.go declares %d field names, the inventory seals %d fields", len(consts), len(sealedNames))
	}
}

// The inventory as a table, for docs/storage.md and reviewers:
// go test ./store -run TestInventoryTable -v
func TestInventoryTable(t *testing.T) {
	var rows []string
	for _, f := range Personal {
		sealed, exported := "clear", "no"
		if f.Sealed != "" {
			sealed = "sealed"
		}
		if f.Exported {
			exported = "yes"
		}
		rows = append(rows, "| "+f.Name()+" | "+sealed+" | "+string(f.Erase)+" | "+exported+" |")
	}
	t.Log("\n" + strings.Join(rows, "\n"))
}
