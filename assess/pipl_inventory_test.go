package assess_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
	"xinling/store/storetest"
)

// exportPaths says where the PIPL export (PersonExport's JSON) holds each
// field the personal-data inventory (store.Personal) marks as exported.
// Arrays on the way are walked element by element.
var exportPaths = map[string]string{
	"Person.Name":            "person.name",
	"Person.Phone":           "person.phone",
	"Person.StudentNo":       "person.student_no",
	"Person.BirthMonth":      "person.birth_month",
	"Person.Age":             "person.age",
	"Person.Sex":             "person.sex",
	"Person.UnitID":          "person.unit_id",
	"Person.SchoolID":        "roster.school_id",
	"Identity.Kind":          "identity_links.kind",
	"AccessCode.Code":        "access_codes.code",
	"Session.Sex":            "sessions.sex",
	"Session.Age":            "sessions.age",
	"Answer.Value":           "sessions.answers.value",
	"Result.Scores":          "sessions.results.scores",
	"Result.Bands":           "sessions.results.bands",
	"Result.Flags":           "sessions.results.flags",
	"Result.Payload":         "sessions.results.detail",
	"Warning.Level":          "warnings.level",
	"Warning.Outcome":        "warnings.outcome",
	"Reason.Rule":            "warnings.reasons.rule",
	"WarningEvent.Note":      "warnings.history.note",
	"WarningEvent.Outcome":   "warnings.history.outcome",
	"Case.SelfEvaluation":    "cases.self_evaluation",
	"Case.LifeEvents":        "cases.life_events",
	"Case.OtherProblems":     "cases.other_problems",
	"Case.Advice":            "cases.advice",
	"Case.Outcome":           "cases.outcome",
	"Case.GroupNotified":     "cases.group_notified",
	"Referral.Note":          "referrals.note",
	"Callback.Phone":         "callbacks.phone",
	"Callback.Note":          "callbacks.note",
	"Callback.PreferredFrom": "callbacks.preferred_from",
	"Callback.PreferredTo":   "callbacks.preferred_to",
	"Booking.Phone":          "bookings.phone",
	"Absence.Reason":         "absences.reason",
	"Meeting.Attendees":      "meetings.attendees",
	"Meeting.Agreed":         "meetings.agreed",
	"Meeting.Notes":          "meetings.notes",
	"Meeting.Decision":       "meetings.decision",
	"AuditEntry.Detail":      "audit.detail",
}

// TestExportHoldsTheInventory: the PIPL export holds, with its stored
// value, every field the inventory marks as exported, for every record of
// the person. A field marked there and left out of the export fails here.
func TestExportHoldsTheInventory(t *testing.T) {
	t.Parallel()
	lib, st, _, opts := fixture(t, time.Hour)
	ctx := context.Background()
	id := storetest.WritePersonal(t, st)
	stored := storetest.PersonalRecords(t, st, id)
	admin := &assess.Principal{StaffID: "admin", Role: store.RoleAdmin, UnitID: "city", UnitPath: "/city/"}
	out, err := assess.New(st, lib, opts).Records.Export(ctx, admin, id, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range store.Personal {
		path, ok := exportPaths[f.Name()]
		switch {
		case f.Exported && !ok:
			t.Errorf("%s is exported in the inventory: say where the export holds it (exportPaths)", f.Name())
			continue
		case !f.Exported && ok:
			t.Errorf("%s is in exportPaths, but the inventory does not export it", f.Name())
			continue
		case !ok:
			continue
		}
		found := valuesAt(doc, strings.Split(path, "."))
		checked := 0
		for _, rec := range stored[f.Record] {
			v := f.Of(rec)
			if storetest.Blank(v) {
				continue
			}
			checked++
			if !holds(found, v) {
				t.Errorf("%s: the export holds %v at %s, not the stored %v", f.Name(), found, path, v.Interface())
			}
		}
		if checked == 0 {
			t.Errorf("%s: the fixture stores no value to look for", f.Name())
		}
	}
	var paths []string
	for name := range exportPaths {
		paths = append(paths, name)
	}
	sort.Strings(paths)
	for _, name := range paths {
		record, field, _ := strings.Cut(name, ".")
		if !inInventory(store.PersonalFields(record), field) {
			t.Errorf("exportPaths names %s, which is not in the inventory", name)
		}
	}
}

func inInventory(fs []store.PersonalField, field string) bool {
	for _, f := range fs {
		if f.Field == field {
			return true
		}
	}
	return false
}

// valuesAt collects the values at a path of keys, through arrays.
func valuesAt(v any, path []string) []any {
	if len(path) == 0 {
		return []any{v}
	}
	if arr, ok := v.([]any); ok {
		var out []any
		for _, e := range arr {
			out = append(out, valuesAt(e, path)...)
		}
		return out
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return valuesAt(m[path[0]], path[1:])
}

// holds reports whether one of the exported values is the stored value:
// text (sealed fields are exported opened) or JSON (a result's payload)
// as it is, anything else as it encodes.
func holds(found []any, v reflect.Value) bool {
	var want []any
	switch {
	case v.Kind() == reflect.String:
		want = append(want, v.String())
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		want = append(want, string(v.Bytes()))
		var j any
		if json.Unmarshal(v.Bytes(), &j) == nil {
			want = append(want, j)
		}
	default:
		b, _ := json.Marshal(v.Interface())
		var j any
		_ = json.Unmarshal(b, &j)
		want = append(want, j)
	}
	for _, f := range found {
		for _, w := range want {
			if reflect.DeepEqual(f, w) {
				return true
			}
		}
	}
	return false
}
