//go:build !fuzzdecode

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

// TestIndividualReportsPDF: a class's individual reports are one PDF, a
// pupil's report per document, each in words with the school's next step;
// teachers may not print them; printing is audited.
func TestIndividualReportsPDF(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, people := screening(t, o)
	get := func(c *console, query string) response {
		req, _ := http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/individual-reports.pdf"+query, nil)
		return c.send(req)
	}
	r := get(o.psychA, "?unit=schoolA")
	if r.status != 200 || !strings.HasPrefix(r.raw, "%PDF-") {
		t.Fatalf("individual-reports.pdf: %d %.300s", r.status, r.raw)
	}
	text := pdfText(t, []byte(r.raw))
	for _, want := range []string{"个人测评报告", "李四", "学校下一步", "总分", "患者健康问卷抑郁量表", "不是诊断"} {
		if !strings.Contains(text, want) {
			t.Errorf("the class's reports lack %q:\n%s", want, text)
		}
	}
	if os.Getenv("XINLING_SHOW_PDF") != "" {
		t.Log(text)
	}
	if strings.Count(text, "学校下一步") < 2 {
		t.Errorf("not one report per pupil:\n%s", text)
	}
	if m := rawWords.FindString(text); m != "" {
		t.Errorf("an individual report prints a raw code %q:\n%s", m, text)
	}
	one := get(o.psychA, "?person="+people["李四"])
	if one.status != 200 {
		t.Fatalf("one pupil: %d %s", one.status, one.raw)
	}
	if text := pdfText(t, []byte(one.raw)); strings.Count(text, "学校下一步") != 1 || !strings.Contains(text, "李四") {
		t.Errorf("one pupil's report:\n%s", text)
	}
	get(o.teacherA, "?unit=schoolA").expectError(t, 403, "forbidden")
	get(o.psychA, "?locale=fr").expectError(t, 400, "locale_unknown")
	if r := o.admin.do("GET", "/api/v1/audit?action=export", nil); !strings.Contains(r.raw, "individual_reports:") || !strings.Contains(r.raw, "individual_report\"") {
		t.Errorf("printing individual reports is not audited: %s", r.raw)
	}
}
