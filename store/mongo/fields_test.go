package mongo

import (
	"reflect"
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
