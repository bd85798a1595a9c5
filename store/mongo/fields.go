package mongo

import (
	"fmt"
	"reflect"
	"strings"
)

// Field names. The documents embed the store records inline, so a field's
// name is what the driver makes of the Go field: its bson tag, or else its
// Go name in lower case. Names are derived from the document types here,
// once, rather than spelled in queries by hand, so that a renamed Go field
// fails at start (and in TestFieldNames, which marshals every document type
// and looks each declared name up in it) instead of silently matching
// nothing.

// declaredName is one derived name, for TestFieldNames.
type declaredName struct {
	doc    reflect.Type
	goPath string
	name   string
}

var declared []declaredName

// bsonPath returns the dotted BSON path of a Go field path ("History.Note")
// in document type t: through inline embedded structs, pointers and
// slices, as the driver encodes them.
func bsonPath(t reflect.Type, goPath string) (string, error) {
	var out []string
	for _, seg := range strings.Split(goPath, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return "", fmt.Errorf("%s: %s is not a document", goPath, t)
		}
		f, ok := findField(t, seg)
		if !ok {
			return "", fmt.Errorf("%s has no field %s", t, seg)
		}
		out = append(out, keyOf(f))
		t = f.Type
	}
	return strings.Join(out, "."), nil
}

// findField finds a field by Go name in t or in a struct t inlines.
func findField(t reflect.Type, name string) (reflect.StructField, bool) {
	if f, ok := t.FieldByName(name); ok && len(f.Index) == 1 {
		return f, true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if inline(f) {
			if g, ok := findField(f.Type, name); ok {
				return g, true
			}
		}
	}
	return reflect.StructField{}, false
}

func inline(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("bson"), ",")
	return f.Anonymous && strings.Contains(","+opts+",", ",inline,")
}

// keyOf is the driver's key for a field: the tag's name, or the Go name in
// lower case.
func keyOf(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("bson"), ","); name != "" {
		return name
	}
	return strings.ToLower(f.Name)
}

// field returns the BSON path of a Go field path in document type D and
// records it for TestFieldNames. It panics on a path D does not have: a
// programming error that every test of the package shows at once.
func field[D any](goPath string) string {
	return fieldOf(reflect.TypeFor[D](), goPath)
}

func fieldOf(t reflect.Type, goPath string) string {
	name, err := bsonPath(t, goPath)
	if err != nil {
		panic("mongo: field name: " + err.Error())
	}
	declared = append(declared, declaredName{doc: t, goPath: goPath, name: name})
	return name
}
