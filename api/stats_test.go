//go:build !fuzzdecode

package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"xinling/store"
)

func TestMonthlyStatistics(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t) // entries in school A and school B this month
	day := time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	for _, a := range []map[string]any{
		{"unit_id": "schoolA", "date": day, "type": "lecture", "reached": 120, "materials": 50},
		{"unit_id": "schoolA", "date": day, "type": "publicity", "reached": 300},
		{"unit_id": "schoolB", "date": day, "type": "clinic", "reached": 40, "materials": 10},
	} {
		c := o.psychA
		if a["unit_id"] == "schoolB" {
			c = o.psychB
		}
		if r := c.do("POST", "/api/v1/activities", a); r.status != 201 {
			t.Fatal(r.raw)
		}
	}
	o.psychA.do("POST", "/api/v1/activities", map[string]any{"unit_id": "schoolB", "date": day, "type": "lecture"}).expectError(t, 404, "not_found")
	o.teacherA.do("POST", "/api/v1/activities", map[string]any{"unit_id": "schoolA", "date": day, "type": "lecture"}).expectError(t, 403, "forbidden")

	r := o.counsellor.do("GET", "/api/v1/stats/monthly?unit=county&month=2026-11", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	rows := map[string]map[string]any{}
	for _, row := range r.body["rows"].([]any) {
		rows[row.(map[string]any)["unit_id"].(string)] = row.(map[string]any)
	}
	total := r.body["total"].(map[string]any)
	if rows["schoolA"]["lectures"] != 1.0 || rows["schoolA"]["lecture_attendees"] != 120.0 || rows["schoolA"]["publicity_reached"] != 300.0 ||
		rows["schoolB"]["clinics"] != 1.0 || total["materials"] != 60.0 || total["warnings_by_level"].(map[string]any)["2"] != 2.0 {
		t.Fatalf("monthly table: %s", r.raw)
	}
	if r := o.counsellor.do("GET", "/api/v1/stats/monthly?unit=county&month=2026-10", nil); r.body["total"].(map[string]any)["lectures"] != 0.0 {
		t.Fatalf("October counted November: %s", r.raw)
	}
	o.counsellor.do("GET", "/api/v1/stats/monthly?unit=county&month=11/2026", nil).expectError(t, 400, "validation_failed")
	o.psychA.do("GET", "/api/v1/stats/monthly?unit=county&month=2026-11", nil).expectError(t, 404, "not_found")

	req, _ := http.NewRequest("GET", o.s.base+"/api/v1/stats/monthly.xlsx?unit=county&month=2026-11", nil)
	resp, err := o.counsellor.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("export is not a workbook: %v (%d bytes, status %d)", err, len(data), resp.StatusCode)
	}
	header, _ := f.GetCellValue("月统计表", "B2")
	lectures, _ := f.GetCellValue("月统计表", "E5") // rows: own, school A, school B, total
	if header != "辅导人次数" || lectures == "" {
		t.Fatalf("export layout: B2=%q E5=%q", header, lectures)
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "export"}, store.Page{}); len(entries) != 1 || entries[0].TargetKind != "monthly_stats" {
		t.Fatalf("export audit: %+v", entries)
	}
}
