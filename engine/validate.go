package engine

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

var identPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

var (
	validateOnce sync.Once
	structCheck  *validator.Validate
)

func structValidator() *validator.Validate {
	validateOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		// Name fields as the document does, so a failure maps back to a YAML path.
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			return name
		})
		must(v.RegisterValidation("ident", func(fl validator.FieldLevel) bool {
			return identPattern.MatchString(fl.Field().String())
		}))
		must(v.RegisterValidation("text", func(fl validator.FieldLevel) bool {
			t, ok := fl.Field().Interface().(Text)
			if !ok {
				return false
			}
			for _, loc := range Locales {
				if strings.TrimSpace(t[loc]) == "" {
					return false
				}
			}
			return true
		}))
		structCheck = v
	})
	return structCheck
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// validateStruct reports every structural problem of doc at its location.
func (s *source) validateStruct(doc *Document) {
	err := structValidator().Struct(doc)
	if err == nil {
		return
	}
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		s.add(nil, "%v", err)
		return
	}
	for _, fe := range fes {
		s.add(namespacePath(fe.Namespace()), "%s", fieldMessage(fe))
	}
}

// namespacePath turns validator's "Document.items[3].text" into a path.
func namespacePath(ns string) path {
	var p path
	parts := strings.Split(ns, ".")
	for _, part := range parts[1:] {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			p = append(p, name)
		}
		for rest != "" {
			key, after, _ := strings.Cut(rest, "]")
			if i, err := strconv.Atoi(key); err == nil {
				p = append(p, i)
			} else {
				p = append(p, key)
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

func fieldMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "ident":
		return fmt.Sprintf("%q is not a valid id (a letter, then letters, digits or _)", fe.Value())
	case "text":
		return "needs non-empty text in both zh-CN and en"
	case "semver":
		return fmt.Sprintf("%q is not a semantic version such as 1.0.0", fe.Value())
	case "oneof":
		return fmt.Sprintf("%v is not one of: %s", fe.Value(), fe.Param())
	case "min":
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return fmt.Sprintf("needs at least %s entries", fe.Param())
		}
		return fmt.Sprintf("must be at least %s", fe.Param())
	case "max":
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return fmt.Sprintf("allows at most %s entries", fe.Param())
		}
		return fmt.Sprintf("must be at most %s", fe.Param())
	case "gt":
		return fmt.Sprintf("must be greater than %s", fe.Param())
	case "gte":
		return fmt.Sprintf("must be at least %s", fe.Param())
	case "lte":
		return fmt.Sprintf("must be at most %s", fe.Param())
	case "len":
		return fmt.Sprintf("must have exactly %s entries", fe.Param())
	}
	return fmt.Sprintf("fails check %q", fe.Tag())
}
