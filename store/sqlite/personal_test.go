package sqlite

import (
	"slices"
	"strings"
	"testing"

	"xinling/store"
)

func TestColumn(t *testing.T) {
	for field, want := range map[string]string{"Name": "name", "StudentNoIndex": "student_no_index", "SelfEvaluation": "self_evaluation",
		"TokenHash": "token_hash", "PersonID": "person_id", "IP": "ip", "HTTPStatus": "http_status"} {
		if got := column(field); got != want {
			t.Errorf("column(%s) = %s, want %s", field, got, want)
		}
	}
}

// TestErasureAndResealCoverInventory: ErasePerson reaches every record type
// the inventory erases, Reseal every one it seals, and every column they
// derive from a field exists.
func TestErasureAndResealCoverInventory(t *testing.T) {
	var targets []string
	for _, tg := range eraseTargets {
		targets = append(targets, tg.record)
		if store.RecordErasure(tg.record) == store.EraseKeep {
			t.Errorf("ErasePerson reaches %s, which the inventory erases nothing of", tg.record)
		}
	}
	for _, r := range store.ErasedRecords() {
		if r != "Person" && !slices.Contains(targets, r) {
			t.Errorf("the inventory erases %s records, but ErasePerson (eraseTargets) does not reach them", r)
		}
	}
	for _, f := range store.PersonalFields("Person") {
		if f.Erase == store.EraseDelete || f.Erase == store.EraseOnRequest {
			t.Errorf("%s: ErasePerson keeps the person's row, it cannot delete it", f.Name())
		}
	}
	for _, f := range store.Personal {
		if _, ok := sealedTables[f.Record]; f.Sealed != "" && !ok {
			t.Errorf("%s is sealed, but Reseal (sealedTables) does not walk %s records", f.Name(), f.Record)
		}
	}
	for r := range sealedTables {
		if len(store.SealedFields(r)) == 0 {
			t.Errorf("sealedTables walks %s, which has no sealed field", r)
		}
	}

	db := open(t).(*DB)
	has := func(table, col string) bool {
		rows, err := db.rdb.Query("SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			if name == col {
				return true
			}
		}
		return false
	}
	tables := map[string]string{"Person": "persons"}
	for _, tg := range eraseTargets {
		tables[tg.record] = tg.table
	}
	for r, table := range tables {
		for _, f := range store.ErasedFields(r) {
			if !has(table, column(f.Field)) {
				t.Errorf("%s: no column %s.%s to blank", f.Name(), table, column(f.Field))
			}
		}
	}
	for _, c := range sealedCols {
		if !has(c.table, c.col) {
			t.Errorf("no sealed column %s.%s", c.table, c.col)
		}
	}
	if got := eraseTargets[2].statement(false); !strings.Contains(got, "self_evaluation=NULL") || !strings.Contains(got, "outcome <> ''") {
		t.Errorf("case erasure = %s", got)
	}
}
