package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// configSetting is one key of a config file, with where it was written so
// that a bad value can be pointed at.
type configSetting struct {
	value string
	line  int
}

// readConfigFile reads a flat YAML file whose keys are serve's flag names
// (addr: 0.0.0.0:8080, session-idle: 72h). A list is accepted wherever a
// flag takes a comma-separated value (sla, cors-origins).
func readConfigFile(path string) (map[string]configSetting, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, usagef("--config %s: not valid YAML: %v", path, err)
	}
	out := map[string]configSetting{}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		m, ok := doc.Body.(*ast.MappingNode)
		if !ok {
			return nil, usagef("%s:%d: a config file is a list of `setting: value` lines", path, doc.Body.GetToken().Position.Line)
		}
		for _, mv := range m.Values {
			key, line := mv.Key.String(), mv.Key.GetToken().Position.Line
			v, err := scalarText(mv.Value)
			if err != nil {
				return nil, usagef("%s:%d: %s: %v", path, line, key, err)
			}
			out[key] = configSetting{value: v, line: line}
		}
	}
	return out, nil
}

func scalarText(n ast.Node) (string, error) {
	switch v := n.(type) {
	case *ast.NullNode:
		return "", nil
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return v.GetToken().Value, nil
	case *ast.SequenceNode:
		parts := make([]string, len(v.Values))
		for i, e := range v.Values {
			s, err := scalarText(e)
			if err != nil {
				return "", err
			}
			if _, nested := e.(*ast.SequenceNode); nested {
				return "", fmt.Errorf("a list may not hold lists")
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("want a single value or a list of values, not %s", n.Type())
}

// applyConfigFile sets, from the file, every flag that neither the command
// line nor the environment set: flag > environment > file > default.
func (e *envDefaults) applyConfigFile(path string, explicit map[string]bool) error {
	settings, err := readConfigFile(path)
	if err != nil {
		return err
	}
	if e.sources == nil {
		e.sources = map[string]string{}
	}
	keys := slices.SortedFunc(maps.Keys(settings), func(a, b string) int { return settings[a].line - settings[b].line })
	var errs []string
	for _, key := range keys {
		s := settings[key]
		where := fmt.Sprintf("%s:%d", path, s.line)
		f := e.fs.Lookup(key)
		if f == nil || key == "config" {
			errs = append(errs, fmt.Sprintf("%s: unknown setting %q (xinling serve --help lists them)", where, key))
			continue
		}
		if explicit[key] {
			continue
		}
		if _, _, ok := e.lookup(key); ok {
			continue
		}
		if err := e.fs.Set(key, s.value); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s: %q %s", where, key, s.value, expectation(f)))
			continue
		}
		e.sources[key] = where
	}
	if len(errs) > 0 {
		return usagef("%s", strings.Join(errs, "; "))
	}
	return nil
}

// expectation says what a flag's value should look like.
func expectation(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int:
			return "is not a whole number"
		case time.Duration:
			return "is not a duration such as 72h"
		}
	}
	return "is not accepted"
}

// source names where a setting's value came from, for error messages.
func (e *envDefaults) source(name string, explicit map[string]bool) string {
	switch {
	case explicit[name]:
		return "--" + name
	case e.sources[name] != "":
		return e.sources[name]
	}
	if env, _, ok := e.lookup(name); ok {
		return env
	}
	return "the default of --" + name
}
