package notify

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Every wording lives in templates/, one file per locale; this file is
// the only code that turns a Message into words.

//go:embed templates/*.tmpl
var templateFiles embed.FS

var templates = map[Locale]*template.Template{
	LocaleZH: template.Must(template.New("zh-CN").Option("missingkey=error").ParseFS(templateFiles, "templates/zh-CN.tmpl")),
	LocaleEN: template.Must(template.New("en").Option("missingkey=error").ParseFS(templateFiles, "templates/en.tmpl")),
}

// DisplayZone is the time zone in which times are written: China
// Standard Time, UTC+8 all year (China keeps no daylight saving time).
var DisplayZone = time.FixedZone("CST", 8*60*60)

// view is all that a template can see. Each field is derived from one
// field of Message; nothing else reaches a template.
type view struct {
	Level      string // 一级（红色） / level 1 (red); empty when Message.Level is 0
	LevelShort string // 一级 / Level 1
	Unit       string // Message.UnitName
	At         string // Message.At, written in DisplayZone
	Due        string // Message.DueAt, written in DisplayZone
	Count      int    // Message.Count
	Link       string // Message.Link
}

var levelNames = map[Locale][4][2]string{
	// [level] = {long, short}
	LocaleZH: {{}, {"一级（红色）", "一级"}, {"二级（橙色）", "二级"}, {"三级（黄色）", "三级"}},
	LocaleEN: {{}, {"level 1 (red)", "Level 1"}, {"level 2 (orange)", "Level 2"}, {"level 3 (yellow)", "Level 3"}},
}

func newView(m Message) view {
	loc := m.locale()
	v := view{Unit: m.UnitName, Count: m.Count, Link: m.Link}
	if m.Level >= 1 && m.Level <= 3 {
		v.Level = levelNames[loc][m.Level][0]
		v.LevelShort = levelNames[loc][m.Level][1]
	}
	v.At = formatTime(loc, m.At, time.Time{})
	if !m.DueAt.IsZero() {
		v.Due = formatTime(loc, m.DueAt, m.At)
	}
	return v
}

// formatTime writes t as a clock time, with the date unless t falls on
// the same day as ref.
func formatTime(loc Locale, t, ref time.Time) string {
	t = t.In(DisplayZone)
	if !ref.IsZero() {
		r := ref.In(DisplayZone)
		if t.Year() == r.Year() && t.YearDay() == r.YearDay() {
			return t.Format("15:04")
		}
	}
	if loc == LocaleEN {
		return t.Format("Jan 2 15:04")
	}
	return t.Format("1月2日 15:04")
}

// Rendered is a message in words.
type Rendered struct {
	// Title is a short headline: the e-mail subject.
	Title string
	// Text is the whole message on one line, link included.
	Text string
}

// Render validates m and writes it in its locale.
func Render(m Message) (Rendered, error) {
	if err := m.Validate(); err != nil {
		return Rendered{}, err
	}
	t := templates[m.locale()]
	v := newView(m)
	var r Rendered
	var err error
	if r.Title, err = execute(t, string(m.Kind)+".title", v); err != nil {
		return Rendered{}, err
	}
	if r.Text, err = execute(t, string(m.Kind)+".text", v); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

func execute(t *template.Template, name string, v view) (string, error) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, v); err != nil {
		return "", fmt.Errorf("notify: rendering %s: %w", name, err)
	}
	return b.String(), nil
}

// SMSParam is one variable of an SMS template.
type SMSParam struct {
	Name  string
	Value string
}

// The names of SMS template variables. A provider's templates are
// registered with the provider in advance and hold the fixed wording;
// only these variables change (see docs/notifications.md for the
// suggested templates).
const (
	SMSParamLevel    = "level"    // 一级 / Level 1
	SMSParamUnit     = "unit"     // the unit's display name
	SMSParamDeadline = "deadline" // DueAt, as in the rendered text
	SMSParamTime     = "time"     // At, for a digest
	SMSParamCount    = "count"    // Count, for a digest
)

// SMSParams validates m and returns the variables its kind's SMS
// template takes, in a fixed order. Values are not shortened: a provider
// applies its own length limit (see TruncateRunes).
func SMSParams(m Message) ([]SMSParam, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	v := newView(m)
	switch m.Kind {
	case KindWarningNew, KindWarningUnclaimed:
		return []SMSParam{{SMSParamLevel, v.LevelShort}, {SMSParamUnit, v.Unit}, {SMSParamDeadline, v.Due}}, nil
	case KindDigest:
		return []SMSParam{{SMSParamTime, v.At}, {SMSParamUnit, v.Unit}, {SMSParamCount, strconv.Itoa(v.Count)}}, nil
	case KindTest:
		return []SMSParam{{SMSParamUnit, v.Unit}}, nil
	default: // KindCallbackRequested; Validate admits no other kind
		return []SMSParam{{SMSParamUnit, v.Unit}, {SMSParamDeadline, v.Due}}, nil
	}
}

// TruncateRunes shortens s to at most n characters (runes), never
// cutting a character in two.
func TruncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
