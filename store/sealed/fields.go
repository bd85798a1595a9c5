package sealed

import (
	"reflect"

	"xinling/store"
)

// sealedRecords are the record types whose sealed fields this layer seals
// and opens from the inventory; WarningEvent notes are sealed by hand
// (they arrive as method arguments). TestSealsTheInventory checks that no
// other record has a sealed field.
var sealedRecords = []string{"Person", "Case", "Referral", "Activity", "Callback", "Booking", "Meeting", "NotifyEndpoint", "NotifyContact", "Absence"}

// sealFields seals, in place, every field of *rec that the inventory
// (store.Personal) marks sealed, bound to row.
func (s *Store) sealFields(rec any, row string) {
	v := reflect.ValueOf(rec).Elem()
	for _, f := range store.SealedFields(v.Type().Name()) {
		fv := v.FieldByName(f.Field)
		if fv.Kind() == reflect.String {
			fv.SetString(string(s.keys.Seal(f.Sealed, row, []byte(fv.String()))))
		} else {
			fv.SetBytes(s.keys.Seal(f.Sealed, row, fv.Bytes()))
		}
	}
}

// openFields opens, in place, every sealed field of *rec.
func (s *Store) openFields(rec any, row string) error {
	v := reflect.ValueOf(rec).Elem()
	for _, f := range store.SealedFields(v.Type().Name()) {
		fv := v.FieldByName(f.Field)
		var sealed []byte
		if fv.Kind() == reflect.String {
			sealed = []byte(fv.String())
		} else {
			sealed = fv.Bytes()
		}
		plain, err := s.keys.Open(f.Sealed, row, sealed)
		if err != nil {
			return err
		}
		if fv.Kind() == reflect.String {
			fv.SetString(string(plain))
		} else {
			fv.SetBytes(plain)
		}
	}
	return nil
}

// withPlain puts the caller's plaintext of every sealed field back into
// what a write returns.
func withPlain[R any](out, plain R) R {
	o, p := reflect.ValueOf(&out).Elem(), reflect.ValueOf(plain)
	for _, f := range store.SealedFields(o.Type().Name()) {
		o.FieldByName(f.Field).Set(p.FieldByName(f.Field))
	}
	return out
}
