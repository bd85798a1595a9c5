package notify

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/render.golden")

// renderCases covers every kind, level and locale, a deadline on the
// same day and one on the next.
func renderCases() []Message {
	var out []Message
	for _, loc := range []Locale{LocaleZH, LocaleEN} {
		for level := 1; level <= 3; level++ {
			m := validMessage()
			m.Level, m.Locale = level, loc
			out = append(out, m)
		}
		un := validMessage()
		un.Kind, un.Locale = KindWarningUnclaimed, loc
		un.At = time.Date(2026, 3, 13, 23, 40, 0, 0, DisplayZone)
		out = append(out, un)

		for _, n := range []int{1, 12} {
			d := validMessage()
			d.Kind, d.Level, d.DueAt, d.Count, d.Locale = KindDigest, 0, time.Time{}, n, loc
			d.Link = "https://xinling.example/console/#/queue"
			out = append(out, d)
		}
		test := validMessage()
		test.Kind, test.Level, test.DueAt, test.Locale = KindTest, 0, time.Time{}, loc
		test.Link = "https://xinling.example/console/#/queue"
		out = append(out, test)
		for _, level := range []int{0, 2} {
			c := validMessage()
			c.Kind, c.Level, c.Locale = KindCallbackRequested, level, loc
			c.DueAt = time.Date(2026, 3, 15, 9, 0, 0, 0, DisplayZone)
			out = append(out, c)
		}
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	var b strings.Builder
	for _, m := range renderCases() {
		r, err := Render(m)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		fmt.Fprintf(&b, "# %s level=%d locale=%s count=%d\ntitle: %s\ntext:  %s\n\n", m.Kind, m.Level, m.locale(), m.Count, r.Title, r.Text)
	}
	const golden = "testdata/render.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("rendering differs from %s (go test ./notify -run TestRenderGolden -update to accept):\n%s", golden, b.String())
	}
}

func TestRenderExample(t *testing.T) {
	r, err := Render(validMessage())
	if err != nil {
		t.Fatal(err)
	}
	want := "【一级预警】青山街道心理服务站 有一条一级（红色）预警待处理，请于 02:15 前认领。查看：https://xinling.example/console/#/queue/q_7f3a9c"
	if r.Text != want {
		t.Errorf("Text = %q\nwant   %q", r.Text, want)
	}
	if r.Title != "【一级预警】青山街道心理服务站" {
		t.Errorf("Title = %q", r.Title)
	}
}

// The templates can reach the view's fields and nothing else, and the
// view holds nothing but what is derived from the allowed Message
// fields. So no rendering can include anything but those fields.
func TestTemplatesUseOnlyViewFields(t *testing.T) {
	viewFields := map[string]bool{}
	vt := reflect.TypeFor[view]()
	for i := range vt.NumField() {
		viewFields[vt.Field(i).Name] = true
	}
	wantView := []string{"At", "Count", "Due", "Level", "LevelShort", "Link", "Unit"}
	got := make([]string, 0, len(viewFields))
	for f := range viewFields {
		got = append(got, f)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantView) {
		t.Errorf("view fields = %v, want %v", got, wantView)
	}

	for loc, tmpl := range templates {
		names := map[string]bool{}
		for _, tt := range tmpl.Templates() {
			names[tt.Name()] = true
			if tt.Tree == nil {
				continue
			}
			walk(tt.Tree.Root, func(n parse.Node) {
				switch n := n.(type) {
				case *parse.FieldNode:
					if len(n.Ident) != 1 || !viewFields[n.Ident[0]] {
						t.Errorf("%s/%s uses .%s, which is not a view field", loc, tt.Name(), strings.Join(n.Ident, "."))
					}
				case *parse.VariableNode, *parse.ChainNode:
					t.Errorf("%s/%s uses %s; templates may use view fields only", loc, tt.Name(), n)
				case *parse.IdentifierNode:
					if n.Ident != "ne" {
						t.Errorf("%s/%s calls %s; only ne is needed", loc, tt.Name(), n.Ident)
					}
				case *parse.TemplateNode:
					t.Errorf("%s/%s includes another template", loc, tt.Name())
				}
			})
		}
		for _, k := range Kinds {
			for _, part := range []string{".title", ".text"} {
				if !names[string(k)+part] {
					t.Errorf("%s has no template %s%s", loc, k, part)
				}
			}
		}
	}
}

func walk(n parse.Node, f func(parse.Node)) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			walk(c, f)
		}
	case *parse.ActionNode:
		walk(n.Pipe, f)
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			walk(c, f)
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			walk(c, f)
		}
	case *parse.IfNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.RangeNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	case *parse.WithNode:
		walk(n.Pipe, f)
		walk(n.List, f)
		walk(n.ElseList, f)
	}
}

// Whatever the unit is called, the rest of the text stays the same: the
// rendering takes the name in and adds nothing about anyone.
func TestRenderVariesOnlyWithFields(t *testing.T) {
	for _, m := range renderCases() {
		a, b := m, m
		a.UnitName, b.UnitName = "甲单位", "乙单位"
		a.Link, b.Link = "https://x.example/a", "https://x.example/b"
		ra, _ := Render(a)
		rb, _ := Render(b)
		norm := func(s, unit, link string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, unit, "<unit>"), link, "<link>")
		}
		if norm(ra.Text, a.UnitName, a.Link) != norm(rb.Text, b.UnitName, b.Link) {
			t.Errorf("%s/%s: text depends on more than the unit and link:\n%s\n%s", m.Kind, m.locale(), ra.Text, rb.Text)
		}
		if !strings.Contains(ra.Text, a.Link) || !strings.Contains(ra.Text, a.UnitName) || !strings.Contains(ra.Title, a.UnitName) {
			t.Errorf("%s/%s: the unit or the link is missing: %q", m.Kind, m.locale(), ra.Text)
		}
		if strings.ContainsAny(ra.Text+ra.Title, "\r\n") {
			t.Errorf("%s/%s: a line break in %q", m.Kind, m.locale(), ra.Text)
		}
	}
}

func TestRenderRefusesInvalid(t *testing.T) {
	m := validMessage()
	m.Level = 0
	if _, err := Render(m); err == nil {
		t.Error("Render accepted an invalid message")
	}
	if _, err := SMSParams(m); err == nil {
		t.Error("SMSParams accepted an invalid message")
	}
}

func TestSMSParams(t *testing.T) {
	names := func(ps []SMSParam) (out []string) {
		for _, p := range ps {
			out = append(out, p.Name+"="+p.Value)
		}
		return out
	}
	for _, c := range []struct {
		m    func(*Message)
		want []string
	}{
		{func(*Message) {}, []string{"level=一级", "unit=青山街道心理服务站", "deadline=02:15"}},
		{func(m *Message) { m.Kind, m.Level = KindWarningUnclaimed, 2 }, []string{"level=二级", "unit=青山街道心理服务站", "deadline=02:15"}},
		{func(m *Message) { m.Kind, m.Level, m.DueAt, m.Count = KindDigest, 0, time.Time{}, 7 }, []string{"time=3月14日 01:15", "unit=青山街道心理服务站", "count=7"}},
		{func(m *Message) { m.Kind, m.DueAt = KindCallbackRequested, testDue.Add(24*time.Hour) }, []string{"unit=青山街道心理服务站", "deadline=3月15日 02:15"}},
		{func(m *Message) { m.Locale = LocaleEN }, []string{"level=Level 1", "unit=青山街道心理服务站", "deadline=02:15"}},
	} {
		m := validMessage()
		c.m(&m)
		ps, err := SMSParams(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(ps); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", m.Kind, got, c.want)
		}
	}
}
