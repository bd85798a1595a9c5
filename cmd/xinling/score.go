package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"xinling/engine"
)

// scoreOutput is the JSON the score command prints; labels are in one locale.
type scoreOutput struct {
	Scale    string                `json:"scale"`
	Version  string                `json:"version"`
	Hash     string                `json:"hash"`
	Complete bool                  `json:"complete"`
	Missing  []string              `json:"missing,omitempty"`
	Prorated []string              `json:"prorated,omitempty"`
	Scores   map[string]float64    `json:"scores"`
	Texts    map[string]string     `json:"texts"`
	Bands    map[string]bandOutput `json:"bands"`
	Norms    map[string]normOutput `json:"norms,omitempty"`
	Warnings []warningOutput       `json:"warnings"`
	Validity []flagOutput          `json:"validity"`
}

type bandOutput struct {
	Code     string `json:"code"`
	Label    string `json:"label"`
	Feedback string `json:"feedback,omitempty"`
}

type normOutput struct {
	Group      string   `json:"group"`
	T          float64  `json:"t"`
	Percentile *float64 `json:"percentile,omitempty"`
}

type warningOutput struct {
	Level    int    `json:"level"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
	FollowUp string `json:"follow_up,omitempty"`
}

type flagOutput struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func scoreCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score", stderr)
	scale := fs.String("scale", "", "instrument id (required)")
	version := fs.String("version", "", "document version (default: latest)")
	file := fs.String("file", "", "score with this document instead of the built-in one")
	answers := fs.String("answers", "", `response codes of the shown items, in order: "0,1,2,..."`)
	answersJSON := fs.String("answers-json", "", `answers by item id: '{"q1":0,"q2":3}'`)
	sex := fs.String("sex", "", "respondent sex: f or m")
	age := fs.Float64("age", 0, "respondent age in years")
	locale := fs.String("locale", "zh-CN", "locale of labels: zh-CN or en")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *scale == "" {
		return usagef("--scale is required")
	}
	if (*answers == "") == (*answersJSON == "") {
		return usagef("give exactly one of --answers and --answers-json")
	}
	if *locale != "zh-CN" && *locale != "en" {
		return usagef("--locale must be zh-CN or en, not %q", *locale)
	}
	if *sex != "" && *sex != "f" && *sex != "m" {
		return usagef("--sex must be f or m, not %q", *sex)
	}
	if math.IsNaN(*age) || *age < 0 || *age > 150 {
		return usagef("--age must be between 0 and 150")
	}

	in, err := findInstrument(*scale, *version, *file)
	if err != nil {
		return err
	}
	var byID map[string]float64
	if *answers != "" {
		values, err := parseAnswerList(*answers)
		if err != nil {
			return err
		}
		if byID, err = in.AnswersInOrder(values, *sex, *age); err != nil {
			return inputError(err)
		}
	} else if byID, err = parseAnswerJSON(*answersJSON); err != nil {
		return err
	}
	res, err := in.Score(engine.Input{Answers: byID, Sex: *sex, Age: *age})
	if err != nil {
		return inputError(err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(render(res, *locale))
}

func findInstrument(id, version, file string) (*engine.Instrument, error) {
	if file != "" {
		d := loadFile(file)
		if d.inst == nil {
			return nil, usagef("%s is not a valid instrument document:\n%s", file, d.problems.Error())
		}
		if d.inst.ID() != id {
			return nil, usagef("%s defines %q, not %q", file, d.inst.ID(), id)
		}
		if version != "" && d.inst.Version() != version {
			return nil, usagef("%s is version %s, not %s", file, d.inst.Version(), version)
		}
		return d.inst, nil
	}
	lib, err := builtins()
	if err != nil {
		return nil, err
	}
	in, ok := lib.Get(id, version)
	if !ok {
		var ids []string
		for _, l := range lib.Latest() {
			ids = append(ids, l.ID())
		}
		if _, any := lib.Get(id, ""); any {
			return nil, usagef("scale %q has no version %q", id, version)
		}
		return nil, usagef("unknown scale %q (built in: %s)", id, strings.Join(ids, ", "))
	}
	return in, nil
}

func parseAnswerList(s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	values := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, usagef("answer %d (%q) is not a number", i+1, strings.TrimSpace(p))
		}
		values[i] = v
	}
	return values, nil
}

func parseAnswerJSON(s string) (map[string]float64, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	var m map[string]float64
	if err := dec.Decode(&m); err != nil {
		return nil, usagef("--answers-json is not a JSON object of item ids to numbers: %v", err)
	}
	if dec.More() {
		return nil, usagef("--answers-json has trailing data after the object")
	}
	if m == nil {
		return nil, usagef("--answers-json must be a JSON object")
	}
	return m, nil
}

// inputError shows the engine's explanation of bad answers as a usage error.
func inputError(err error) error {
	var ie *engine.InputError
	if errors.As(err, &ie) {
		return usagef("%s", ie.Message)
	}
	return fmt.Errorf("scoring failed: %w", err)
}

func render(res *engine.Result, locale string) scoreOutput {
	out := scoreOutput{
		Scale: res.Instrument, Version: res.Version, Hash: res.Hash, Complete: res.Complete,
		Missing: res.Missing, Prorated: res.Prorated,
		Scores: map[string]float64{}, Texts: map[string]string{}, Bands: map[string]bandOutput{},
		Warnings: []warningOutput{}, Validity: []flagOutput{},
	}
	for _, s := range res.Scores {
		out.Scores[s.ID] = s.Value
	}
	for _, t := range res.Texts {
		out.Texts[t.ID] = t.Value
	}
	for _, b := range res.Bands {
		out.Bands[b.Score] = bandOutput{Code: b.Code, Label: b.Label.Get(locale), Feedback: b.Feedback.Get(locale)}
	}
	for _, n := range res.Norms {
		if out.Norms == nil {
			out.Norms = map[string]normOutput{}
		}
		out.Norms[n.Score] = normOutput{Group: n.Group.Get(locale), T: n.T, Percentile: n.Percentile}
	}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, warningOutput{Level: w.Level, Rule: w.Rule, Reason: w.Reason.Get(locale), FollowUp: w.FollowUp})
	}
	for _, f := range res.Validity {
		out.Validity = append(out.Validity, flagOutput{ID: f.ID, Message: f.Message.Get(locale)})
	}
	return out
}
