package assess

import (
	"fmt"
	"testing"
)

// cellsText shows cells in a fixed order, "-" for suppressed ones.
func cellsText(cells map[string]*int, keys ...string) string {
	s := ""
	for _, k := range keys {
		if _, ok := cells[k]; !ok {
			continue
		}
		if cells[k] == nil {
			s += k + ":- "
		} else {
			s += fmt.Sprintf("%s:%d ", k, *cells[k])
		}
	}
	return s
}

func TestProtectDistribution(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		counts map[string]int
		forced map[string]bool
		want   string
	}{
		// Nothing small: all visible, zero included.
		{map[string]int{"none": 20, "mild": 6, "severe": 0}, nil, "none:20 mild:6 severe:0 "},
		// One small cell would be total minus the others: the next smallest
		// goes too, so the hidden pair holds at least MinCell people.
		{map[string]int{"none": 20, "mild": 6, "severe": 1}, nil, "none:20 mild:- severe:- "},
		// Two small cells that together reach MinCell need no partner.
		{map[string]int{"none": 20, "mild": 3, "severe": 2}, nil, "none:20 mild:- severe:- "},
		// Two small cells below MinCell together: one more is hidden.
		{map[string]int{"none": 20, "mild": 9, "moderate": 1, "severe": 1}, nil, "none:20 mild:- moderate:- severe:- "},
		// A forced cell (suppressed in a class below) is hidden even when
		// large; on its own it already holds MinCell people.
		{map[string]int{"none": 20, "mild": 7}, map[string]bool{"mild": true}, "none:20 mild:- "},
	} {
		got := cellsText(protectDistribution(c.counts, c.forced), "none", "mild", "moderate", "severe")
		if got != c.want {
			t.Errorf("%v forced %v: got %q, want %q", c.counts, c.forced, got, c.want)
		}
	}
}

// TestProtectReportAcrossLevels: a class's suppressed cell cannot be
// recovered as grade minus the other class.
func TestProtectReportAcrossLevels(t *testing.T) {
	t.Parallel()
	classA := map[string]int{"none": 10, "severe": 1}
	classB := map[string]int{"none": 10, "severe": 6}
	grade := map[string]int{"none": 20, "severe": 7}
	mk := func(id string, n int, counts map[string]int) GroupReport {
		return GroupReport{UnitID: id, Instrument: "phq9", Results: n,
			Scores: []ScoreStats{{Score: "total", N: n, Mean: 5, Bands: visibleCounts(counts)}}}
	}
	rows := []GroupReport{mk("grade", 27, grade), mk("a", 11, classA), mk("b", 16, classB), mk("tiny", 2, map[string]int{"none": 2})}
	raw := []reportRow{
		{path: "/s/g/", bands: map[string]map[string]int{"total": grade}, warnings: map[string]int{"1": 7}},
		{path: "/s/g/a/", bands: map[string]map[string]int{"total": classA}, warnings: map[string]int{"1": 1}},
		{path: "/s/g/b/", bands: map[string]map[string]int{"total": classB}, warnings: map[string]int{"1": 6}},
		{path: "/s/g/tiny/", bands: map[string]map[string]int{"total": {"none": 2}}, warnings: map[string]int{"1": 0}},
	}
	protectReport(rows, raw)
	if rows[1].Scores[0].Bands["severe"] != nil || rows[1].Scores[0].Bands["none"] != nil {
		t.Errorf("class A: a lone small cell must be hidden with a partner: %v", cellsText(rows[1].Scores[0].Bands, "none", "severe"))
	}
	if rows[0].Scores[0].Bands["severe"] != nil {
		t.Errorf("grade severe = %d would give class A's as %d minus class B's 6", *rows[0].Scores[0].Bands["severe"], grade["severe"])
	}
	if rows[0].Warnings["1"] != nil || rows[1].Warnings["1"] != nil || rows[2].Warnings["1"] == nil {
		t.Errorf("warnings: grade %v, class A %v, class B %v", rows[0].Warnings["1"], rows[1].Warnings["1"], rows[2].Warnings["1"])
	}
	tiny := rows[3].Scores[0]
	if !tiny.Suppressed || tiny.Mean != 0 || tiny.Bands["none"] != nil {
		t.Errorf("a group of 2 must show no mean and no bands: %+v", tiny)
	}
	if !rows[0].Scores[0].Suppressed {
		t.Error("the grade's mean would give away the tiny class's mean")
	}
}

// A masked name keeps the first character only, whatever its length.
func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"张小明": "张**", "李四": "李*", "欧阳娜娜": "欧***", "王": "*", "": "—", "Ann Lee": "A******"} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}
