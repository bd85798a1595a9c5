// Package engine turns instrument documents into compiled instruments and
// scores answers with them. It is pure: no I/O beyond the bytes it is given,
// no HTTP, no database.
package engine

// The types below mirror docs/instrument-format.md field for field. Pointers
// mark fields whose absence differs from their zero value.

// Text is a piece of text a person reads, by locale ("zh-CN", "en").
type Text map[string]string

// Locales the engine requires in every Text, the first being the default.
var Locales = []string{"zh-CN", "en"}

// Get returns the text in locale, falling back to the default locale.
func (t Text) Get(locale string) string {
	if s, ok := t[locale]; ok && s != "" {
		return s
	}
	return t[Locales[0]]
}

// Document is an instrument document as written.
type Document struct {
	ID           string   `yaml:"id" json:"id" validate:"required,ident"`
	Version      string   `yaml:"version" json:"version" validate:"required,semver"`
	Title        Text     `yaml:"title" json:"title" validate:"required,text"`
	ShortTitle   Text     `yaml:"short_title" json:"short_title,omitempty" validate:"omitempty,text"`
	Description  Text     `yaml:"description" json:"description,omitempty" validate:"omitempty,text"`
	Kind         string   `yaml:"kind" json:"kind" validate:"required,oneof=screening stress career personality"`
	Minutes      float64  `yaml:"minutes" json:"minutes" validate:"required,gt=0,lte=240"`
	Public       bool     `yaml:"public" json:"public"`
	Source       string   `yaml:"source" json:"source" validate:"required"`
	License      string   `yaml:"license" json:"license" validate:"required"`
	Translation  string   `yaml:"translation" json:"translation" validate:"required,oneof=validated unvalidated"`
	Instructions Text     `yaml:"instructions" json:"instructions" validate:"required,text"`
	Options      []Option `yaml:"options" json:"options,omitempty" validate:"omitempty,dive"`
	Items        []Item   `yaml:"items" json:"items" validate:"required,min=1,max=1000,dive"`
	Scoring      Scoring  `yaml:"scoring" json:"scoring"`
	Vectors      []Vector `yaml:"vectors" json:"vectors" validate:"required,min=1,dive"`
}

// Option is one response an item offers.
type Option struct {
	Value *float64 `yaml:"value" json:"value" validate:"required"`
	Score *float64 `yaml:"score" json:"score,omitempty"`
	Label Text     `yaml:"label" json:"label" validate:"required,text"`
}

// Item is one question.
type Item struct {
	ID      string   `yaml:"id" json:"id" validate:"required,ident"`
	Text    Text     `yaml:"text" json:"text" validate:"required,text"`
	Options []Option `yaml:"options" json:"options,omitempty" validate:"omitempty,dive"`
	Reverse bool     `yaml:"reverse" json:"reverse,omitempty"`
	When    string   `yaml:"when" json:"when,omitempty"`
	// Special marks an item that group reports count on its own; the one
	// kind is SpecialSuicide. See Instrument.SuicideRules.
	Special string `yaml:"special" json:"special,omitempty" validate:"omitempty,oneof=suicide"`
}

// SpecialSuicide marks an item that asks about thoughts of death, self-harm
// or suicide: its positive answers are counted on their own in reports.
const SpecialSuicide = "suicide"

// Scoring holds everything computed from the answers.
type Scoring struct {
	Missing  *Missing          `yaml:"missing" json:"missing,omitempty"`
	Scores   []ScoreDef        `yaml:"scores" json:"scores" validate:"required,min=1,dive"`
	Texts    []TextDef         `yaml:"texts" json:"texts,omitempty" validate:"omitempty,dive"`
	Bands    map[string][]Band `yaml:"bands" json:"bands,omitempty" validate:"omitempty,dive,min=1,dive"`
	Norms    []Norm            `yaml:"norms" json:"norms,omitempty" validate:"omitempty,dive"`
	Warnings []Rule            `yaml:"warnings" json:"warnings,omitempty" validate:"omitempty,dive"`
	Validity []Check           `yaml:"validity" json:"validity,omitempty" validate:"omitempty,dive"`
	// Statistics are published reference figures of scores, for reliable
	// change; Trends are warnings against the person's earlier results.
	Statistics []Statistic `yaml:"statistics" json:"statistics,omitempty" validate:"omitempty,dive"`
	Trends     []TrendRule `yaml:"trends" json:"trends,omitempty" validate:"omitempty,dive"`
	// Interpretations put a standing or a code into words (interpret.go).
	Interpretations []Interpretation `yaml:"interpretations" json:"interpretations,omitempty" validate:"omitempty,max=100,dive"`
}

// Statistic is a score's published standard deviation and reliability,
// with the direction that means worse, and where the figures come from.
type Statistic struct {
	Score       string  `yaml:"score" json:"score" validate:"required,ident"`
	SD          float64 `yaml:"sd" json:"sd" validate:"gt=0"`
	Reliability float64 `yaml:"reliability" json:"reliability" validate:"gt=0,lt=1"`
	Direction   string  `yaml:"direction" json:"direction" validate:"required,oneof=higher_is_worse higher_is_better"`
	Source      string  `yaml:"source" json:"source" validate:"required"`
}

// Trend rule kinds.
const (
	TrendReliableWorsening    = "reliable_worsening"
	TrendConsecutiveWorsening = "consecutive_worsening"
	TrendBandEntry            = "band_entry"
)

// TrendRule raises a warning from how a score moved against the same
// person's earlier results of the instrument.
type TrendRule struct {
	ID    string `yaml:"id" json:"id" validate:"required,ident"`
	Level int    `yaml:"level" json:"level" validate:"required,min=1,max=3"`
	Kind  string `yaml:"kind" json:"kind" validate:"required,oneof=reliable_worsening consecutive_worsening band_entry"`
	Score string `yaml:"score" json:"score" validate:"required,ident"`
	// Count is how many worsenings in a row consecutive_worsening needs.
	Count     int    `yaml:"count" json:"count,omitempty" validate:"gte=0,lte=20"`
	Reason    Text   `yaml:"reason" json:"reason" validate:"required,text"`
	Rationale string `yaml:"rationale" json:"rationale,omitempty"`
}

// Missing is the rule for unanswered items.
type Missing struct {
	Policy string `yaml:"policy" json:"policy" validate:"required,oneof=incomplete prorate"`
	Max    int    `yaml:"max" json:"max" validate:"gte=0"`
}

// ScoreDef is a named numeric score.
type ScoreDef struct {
	ID    string `yaml:"id" json:"id" validate:"required,ident"`
	Expr  string `yaml:"expr" json:"expr" validate:"required"`
	Label Text   `yaml:"label" json:"label,omitempty" validate:"omitempty,text"`
}

// TextDef is a named text output, such as a RIASEC code.
type TextDef struct {
	ID    string `yaml:"id" json:"id" validate:"required,ident"`
	Expr  string `yaml:"expr" json:"expr" validate:"required"`
	Label Text   `yaml:"label" json:"label,omitempty" validate:"omitempty,text"`
}

// Band is one cut-off range of a score. Min and Max are inclusive and are
// either numbers or float expressions; nil means unbounded.
type Band struct {
	Code     string       `yaml:"code" json:"code" validate:"required,ident"`
	Min      any          `yaml:"min" json:"min,omitempty"`
	Max      any          `yaml:"max" json:"max,omitempty"`
	Label    Text         `yaml:"label" json:"label" validate:"required,text"`
	Feedback Text         `yaml:"feedback" json:"feedback,omitempty" validate:"omitempty,text"`
	Warning  *BandWarning `yaml:"warning" json:"warning,omitempty"`
}

// BandWarning raises a warning when a score lands in its band.
type BandWarning struct {
	Level     int    `yaml:"level" json:"level" validate:"required,min=1,max=3"`
	Reason    Text   `yaml:"reason" json:"reason" validate:"required,text"`
	FollowUp  string `yaml:"follow_up" json:"follow_up,omitempty" validate:"omitempty,ident"`
	Rationale string `yaml:"rationale" json:"rationale,omitempty"`
}

// Norm is a table of reference groups for one score.
type Norm struct {
	Score  string      `yaml:"score" json:"score" validate:"required,ident"`
	Groups []NormGroup `yaml:"groups" json:"groups" validate:"required,min=1,dive"`
}

// NormGroup is the reference distribution of one sex/age group.
type NormGroup struct {
	Label       Text        `yaml:"label" json:"label" validate:"required,text"`
	Sex         string      `yaml:"sex" json:"sex,omitempty" validate:"omitempty,oneof=m f"`
	AgeMin      *float64    `yaml:"age_min" json:"age_min,omitempty"`
	AgeMax      *float64    `yaml:"age_max" json:"age_max,omitempty"`
	Mean        float64     `yaml:"mean" json:"mean"`
	SD          float64     `yaml:"sd" json:"sd" validate:"gt=0"`
	Percentiles [][]float64 `yaml:"percentiles" json:"percentiles,omitempty" validate:"omitempty,dive,len=2"`
}

// Rule is a warning rule.
type Rule struct {
	ID       string `yaml:"id" json:"id" validate:"required,ident"`
	Level    int    `yaml:"level" json:"level" validate:"required,min=1,max=3"`
	When     string `yaml:"when" json:"when" validate:"required"`
	Reason   Text   `yaml:"reason" json:"reason" validate:"required,text"`
	FollowUp string `yaml:"follow_up" json:"follow_up,omitempty" validate:"omitempty,ident"`
	// Supersedes lists warnings this rule replaces when both fire.
	Supersedes []string `yaml:"supersedes" json:"supersedes,omitempty"`
	Rationale  string   `yaml:"rationale" json:"rationale,omitempty"`
}

// Check is a response-quality (validity) check.
type Check struct {
	ID      string `yaml:"id" json:"id" validate:"required,ident"`
	When    string `yaml:"when" json:"when" validate:"required"`
	Message Text   `yaml:"message" json:"message" validate:"required,text"`
}

// Vector is a worked example that the document must reproduce.
type Vector struct {
	Name        string             `yaml:"name" json:"name" validate:"required"`
	Answers     []float64          `yaml:"answers" json:"answers,omitempty"`
	AnswersByID map[string]float64 `yaml:"answers_by_id" json:"answers_by_id,omitempty"`
	Sex         string             `yaml:"sex" json:"sex,omitempty" validate:"omitempty,oneof=m f"`
	Age         float64            `yaml:"age" json:"age,omitempty" validate:"gte=0,lte=150"`
	Seconds     float64            `yaml:"seconds" json:"seconds,omitempty" validate:"gte=0"`
	// Earlier are the person's earlier results, oldest first, for trends.
	Earlier []EarlierResult `yaml:"earlier" json:"earlier,omitempty" validate:"omitempty,max=50,dive"`
	Expect  Expectation     `yaml:"expect" json:"expect"`
}

// EarlierResult is an earlier result of the same person, as a vector
// gives it.
type EarlierResult struct {
	Scores map[string]float64 `yaml:"scores" json:"scores,omitempty"`
	Bands  map[string]string  `yaml:"bands" json:"bands,omitempty"`
}

// Expectation is what a vector must produce.
type Expectation struct {
	Complete *bool              `yaml:"complete" json:"complete,omitempty"`
	Scores   map[string]float64 `yaml:"scores" json:"scores,omitempty"`
	Texts    map[string]string  `yaml:"texts" json:"texts,omitempty"`
	Bands    map[string]string  `yaml:"bands" json:"bands,omitempty"`
	Warnings []string           `yaml:"warnings" json:"warnings,omitempty"`
	Validity *[]string          `yaml:"validity" json:"validity,omitempty"`
	// Interpretations: a level code per score, the explained letters per text output.
	Interpretations map[string]string `yaml:"interpretations" json:"interpretations,omitempty"`
}
