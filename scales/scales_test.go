package scales_test

import (
	"strings"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

// What every built-in document owes its readers, beyond scoring correctly.
func TestBuiltinDocumentsAreComplete(t *testing.T) {
	t.Parallel()
	lib, err := engine.LoadFS(scales.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, in := range lib.Latest() {
		ids[in.ID()] = true
		d := in.Doc
		t.Run(d.ID, func(t *testing.T) {
			if in.File != "scales/"+d.ID+".yaml" && in.File != d.ID+".yaml" {
				t.Errorf("document %s is in %s; name the file after the id", d.ID, in.File)
			}
			if len(d.Vectors) < 5 {
				t.Errorf("%d vectors, want at least 5", len(d.Vectors))
			}
			for field, text := range map[string]string{"source": d.Source, "license": d.License} {
				if len(strings.TrimSpace(text)) < 20 {
					t.Errorf("%s is too thin to cite: %q", field, text)
				}
			}
			for score, bands := range d.Scoring.Bands {
				for _, b := range bands {
					if len(b.Feedback) == 0 {
						t.Errorf("band %s.%s has no respondent feedback", score, b.Code)
					}
					if b.Warning != nil && strings.TrimSpace(b.Warning.Rationale) == "" {
						t.Errorf("band %s.%s raises a level %d warning without saying why", score, b.Code, b.Warning.Level)
					}
				}
			}
			for _, r := range d.Scoring.Warnings {
				if strings.TrimSpace(r.Rationale) == "" {
					t.Errorf("warning %s has no rationale", r.ID)
				}
			}
			// A vector for every band, so each cut-off is pinned by the document itself.
			for score, bands := range d.Scoring.Bands {
				for _, b := range bands {
					if !vectorReaches(d, score, b.Code) {
						t.Errorf("no vector lands in band %s.%s", score, b.Code)
					}
				}
			}
			if d.Kind == "personality" || d.Kind == "career" {
				checkProfileInterpretations(t, d)
			}
		})
	}
	for _, id := range []string{"phq9", "gad7", "phq15", "k10", "who5", "sds", "sas", "dass21", "pss10", "gds15", "asq", "riasec", "mini_ipip"} {
		if !ids[id] {
			t.Errorf("built-in %s is missing", id)
		}
	}
	if len(ids) != 13 {
		t.Errorf("%d built-ins, want 13", len(ids))
	}
}

func vectorReaches(d *engine.Document, score, code string) bool {
	for _, v := range d.Vectors {
		if v.Expect.Bands[score] == code {
			return true
		}
	}
	return false
}

// checkProfileInterpretations: a profile instrument has no bands to say
// what its numbers mean, so every score (or, for a code, its text output)
// needs interpretations, each cited, and every level pinned by a vector.
func checkProfileInterpretations(t *testing.T, d *engine.Document) {
	t.Helper()
	covered := map[string]bool{}
	for _, ip := range d.Scoring.Interpretations {
		covered[ip.Score] = true
		covered[ip.Text] = true
		if len(strings.TrimSpace(ip.Source)) < 40 {
			t.Errorf("interpretation of %s%s is too thinly cited: %q", ip.Score, ip.Text, ip.Source)
		}
		for _, l := range ip.Levels {
			if !vectorInterprets(d, ip.Score, l.Code) {
				t.Errorf("no vector lands in level %s.%s", ip.Score, l.Code)
			}
		}
		for _, l := range ip.Letters {
			if l.Fields == nil || l.Occupations == nil {
				t.Errorf("letter %s has no example fields of study or occupations", l.Letter)
			}
		}
	}
	anyText := false
	for _, tx := range d.Scoring.Texts {
		anyText = anyText || covered[tx.ID]
	}
	if anyText {
		return // a code's letters explain the profile
	}
	for _, sd := range d.Scoring.Scores {
		if !covered[sd.ID] {
			t.Errorf("profile score %s has no interpretation", sd.ID)
		}
	}
}

func vectorInterprets(d *engine.Document, id, code string) bool {
	for _, v := range d.Vectors {
		if v.Expect.Interpretations[id] == code {
			return true
		}
	}
	return false
}
