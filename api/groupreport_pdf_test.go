package api_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pdfText is a PDF's text as poppler's pdftotext reads it, white space
// dropped (it spaces runs of Chinese as the layout puts them).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("install Debian's poppler-utils (pdftotext): the printed reports are checked by reading them back")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return regexp.MustCompile(`\s+`).ReplaceAllString(string(out), "")
}

// rawWords finds an instrument, score, band, check or rule id of the
// screening as a word of a printed report.
var rawWords = regexp.MustCompile(`(^|[^A-Za-z0-9_])(phq9|asq|study_stress|total|positive|acute|minimal|mild|moderate|moderately_severe|severe|negative|same_answer|item9|following_up|claimed)([^A-Za-z0-9_]|$)`)

// TestGroupReportPDF: the psychologist's printed report has the sections
// and the appendices, in words; a teacher's has neither appendix nor name;
// printing is audited as an export.
func TestGroupReportPDF(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, _ := screening(t, o)
	get := func(c *console, query string) response {
		req, _ := http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/group-report.pdf"+query, nil)
		r := c.send(req)
		if r.status != 200 || !strings.HasPrefix(r.raw, "%PDF-") {
			t.Fatalf("group-report.pdf%s: %d %.200s", query, r.status, r.raw)
		}
		return r
	}
	text := pdfText(t, []byte(get(o.psychA, "?unit=schoolA").raw))
	for _, want := range []string{"心理健康测评团体报告", "内部资料注意保密", "本报告为心理筛查结果，不是诊断", "参与情况", "预警等级", "各量表结果",
		"自杀相关条目", "附录一重点关注名单", "附录二无效作答", "附录三未参加名单", "李*", "一级预警", "第1页/共"} {
		if !strings.Contains(text, want) {
			t.Errorf("the psychologist's PDF lacks %q:\n%s", want, text)
		}
	}
	if m := rawWords.FindString(text); m != "" {
		t.Errorf("the PDF prints a raw code %q:\n%s", m, text)
	}
	en := pdfText(t, []byte(get(o.psychA, "?unit=schoolA&locale=en").raw))
	if !strings.Contains(en, "Participation") || !strings.Contains(en, "A1Focuslist") || rawWords.MatchString(en) {
		t.Errorf("the English PDF:\n%s", en)
	}
	teacher := pdfText(t, []byte(get(o.teacherA, "?unit=schoolA").raw))
	for _, leak := range []string{"附录", "李*", "王*", "赵*"} {
		if strings.Contains(teacher, leak) {
			t.Errorf("the teacher's PDF holds %q:\n%s", leak, teacher)
		}
	}
	if !strings.Contains(teacher, "<5") {
		t.Errorf("the teacher's PDF shows small counts:\n%s", teacher)
	}
	if r := o.admin.do("GET", "/api/v1/audit?action=export", nil); !strings.Contains(r.raw, "campaign_group_report_pdf") {
		t.Errorf("printing is not audited: %s", r.raw)
	}
}
