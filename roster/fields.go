package roster

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

type field int

const (
	fStudentNo field = iota
	fName
	fSex
	fBirth
	fAge
	fClass
	nFields
)

// fields lists each column with its header aliases, already in the form
// headerKey produces.
var fields = [nFields]struct {
	key, zh, en string
	aliases     []string
}{
	fStudentNo: {"student_no", "学号", "student number", []string{"学号", "studentno", "studentnumber", "studentid"}},
	fName:      {"name", "姓名", "name", []string{"姓名", "name", "studentname"}},
	fSex:       {"sex", "性别", "sex", []string{"性别", "sex", "gender"}},
	fBirth:     {"birth_month", "出生年月", "birth month", []string{"出生年月", "出生日期", "birthmonth", "birthdate", "dateofbirth", "birthday", "dob"}},
	fAge:       {"age", "年龄", "age", []string{"年龄", "age"}},
	fClass:     {"class", "班级", "class", []string{"班级", "class", "classname"}},
}

var aliasField = func() map[string]field {
	m := make(map[string]field)
	for f, d := range fields {
		for _, a := range d.aliases {
			m[a] = field(f)
		}
	}
	return m
}()

// headerKey folds the ways people write a header: full-width letters, case,
// spaces and underscores, a "*" marking a required column, and a trailing
// note in brackets such as "学号（必填）".
func headerKey(s string) string {
	s = strings.ToLower(width.Narrow.String(clean(s)))
	if i := strings.IndexAny(s, "(（"); i > 0 {
		s = s[:i]
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '*' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// maxCols bounds the columns kept per row. A sheet may put a stray cell in
// column XFD; nothing past the first hundred columns can be a roster header.
const maxCols = 100

type columns struct {
	idx     [nFields]int // -1 when absent
	ignored []string
}

func (c *columns) pick(cells []string) [nFields]string {
	var out [nFields]string
	for f, i := range c.idx {
		if i >= 0 && i < len(cells) {
			out[f] = clean(cells[i])
		}
	}
	return out
}

// findHeader takes the first row, among the first few, that names at least
// two roster columns; a title row above the header names none.
func findHeader(rows []rawRow) (int, *columns, error) {
	best, bestN := -1, 0
	for i := 0; i < len(rows) && i < headerScan; i++ {
		n := 0
		for _, c := range rows[i].cells {
			if _, ok := aliasField[headerKey(c)]; ok {
				n++
			}
		}
		if n >= 2 {
			best = i
			break
		}
		if n > bestN || best < 0 {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return 0, nil, errorf(CodeEmpty, "文件中没有内容", "the file has no content")
	}
	cols := &columns{}
	for f := range cols.idx {
		cols.idx[f] = -1
	}
	var repeated []string
	for i, c := range rows[best].cells {
		f, ok := aliasField[headerKey(c)]
		switch {
		case ok && cols.idx[f] >= 0:
			repeated = append(repeated, fmt.Sprintf("%s（%s、%s）", fields[f].zh, colName(cols.idx[f]), colName(i)))
		case ok:
			cols.idx[f] = i
		case clean(c) != "":
			cols.ignored = append(cols.ignored, clean(c))
		}
	}
	if len(repeated) > 0 {
		return 0, nil, errorf(CodeColumns, "这些列出现了不止一次：%s", "these columns appear more than once: %s", strings.Join(repeated, "；"))
	}
	var zh, en []string
	for _, f := range []field{fStudentNo, fName, fSex, fClass} {
		if cols.idx[f] < 0 {
			zh, en = append(zh, fields[f].zh), append(en, fields[f].en)
		}
	}
	if cols.idx[fBirth] < 0 && cols.idx[fAge] < 0 {
		zh, en = append(zh, "出生年月或年龄"), append(en, "birth month or age")
	}
	if len(zh) > 0 {
		return 0, nil, &Error{Code: CodeColumns, Message: fmt.Sprintf(
			"缺少必需的列：%s（表头应包含 学号、姓名、性别、出生年月或年龄、班级） / missing required columns: %s (the header needs student number, name, sex, birth month or age, class)",
			strings.Join(zh, "、"), strings.Join(en, ", "))}
	}
	return best, cols, nil
}

func colName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name + " 列"
}

// clean trims the invisible characters that copying from web pages and
// WeChat leaves around cell values: the usual spaces plus the ideographic
// space, no-break space, zero-width space and a stray byte order mark.
func clean(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
	})
}

type validator struct {
	classes  map[string]string
	folded   map[string]string // class key → unit id; "" when two names collide
	now      time.Time
	date1904 bool
	unknown  map[string]int
	unkOrder []string
}

func newValidator(classes map[string]string, now time.Time, date1904 bool) *validator {
	v := &validator{classes: classes, folded: make(map[string]string), now: now,
		date1904: date1904, unknown: make(map[string]int)}
	for name, id := range classes {
		k := classKey(name)
		if prev, ok := v.folded[k]; ok && prev != id {
			v.folded[k] = "" // ambiguous once folded; only an exact match will do
			continue
		}
		v.folded[k] = id
	}
	return v
}

// classKey lets "七年级 1 班", "７-１" and "7-1" find the same class, since the
// file and the org tree were typed by different people.
func classKey(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, width.Narrow.String(s)))
}

func (v *validator) row(line int, c [nFields]string, hasAge, hasBirth bool) (Row, []Problem) {
	r := Row{Line: line, Name: c[fName], ClassName: c[fClass]}
	var ps []Problem
	add := func(f field, k Kind, zh, en string) { ps = append(ps, problem(line, f, k, zh, en)) }

	no, zh, en := studentNo(c[fStudentNo])
	switch {
	case c[fStudentNo] == "" || (no == "" && zh == ""):
		// A cell of only quoting (' or ="") is as empty as a blank one.
		add(fStudentNo, KindMissingStudentNo, "学号为空", "student number is empty")
	case zh != "":
		add(fStudentNo, KindBadStudentNo, zh, en)
	default:
		r.StudentNo = no
	}

	switch {
	case r.Name == "":
		add(fName, KindMissingName, "姓名为空", "name is empty")
	case utf8.RuneCountInString(r.Name) > 50:
		add(fName, KindBadName, "姓名超过 50 个字", "name is longer than 50 characters")
	case strings.IndexFunc(r.Name, unicode.IsControl) >= 0 || strings.ContainsRune(r.Name, utf8.RuneError):
		add(fName, KindBadName, "姓名含有无法显示的字符", "name contains unprintable characters")
	}

	switch s := sexCode(c[fSex]); {
	case c[fSex] == "":
		add(fSex, KindMissingSex, "性别为空", "sex is empty")
	case s == "":
		add(fSex, KindBadSex, fmt.Sprintf("性别“%s”无法识别，应为 男 或 女", short(c[fSex])),
			fmt.Sprintf("sex %q is not recognised; use 男/女 or M/F", short(c[fSex])))
	default:
		r.Sex = s
	}

	switch {
	case c[fBirth] != "":
		if bm, zh, en := v.birthMonth(c[fBirth]); zh != "" {
			add(fBirth, KindBadBirthMonth, zh, en)
		} else {
			r.BirthMonth = bm
		}
	case c[fAge] != "":
		if a, ok := age(c[fAge]); !ok {
			add(fAge, KindBadAge, fmt.Sprintf("年龄“%s”应为 5 到 100 之间的整数", short(c[fAge])),
				fmt.Sprintf("age %q must be a whole number from 5 to 100", short(c[fAge])))
		} else {
			r.Age = a
		}
	default:
		f := fBirth
		if !hasBirth {
			f = fAge
		}
		add(f, KindMissingBirth, "出生年月和年龄都为空", "birth month and age are both empty")
	}

	switch {
	case r.ClassName == "":
		add(fClass, KindMissingClass, "班级为空", "class is empty")
	default:
		if id := v.class(r.ClassName); id != "" {
			r.UnitID = id
		} else {
			if v.unknown[r.ClassName] == 0 {
				v.unkOrder = append(v.unkOrder, r.ClassName)
			}
			v.unknown[r.ClassName]++
			add(fClass, KindUnknownClass, fmt.Sprintf("班级“%s”不在本校的班级列表中", short(r.ClassName)),
				fmt.Sprintf("class %q is not one of this school's classes", short(r.ClassName)))
		}
	}
	return r, ps
}

func (v *validator) class(name string) string {
	if id, ok := v.classes[name]; ok && id != "" {
		return id
	}
	return v.folded[classKey(name)]
}

// unknownClassNotice sums up unknown classes, because one class missing
// from the org tree shows up as forty row problems.
func (v *validator) unknownClassNotice() string {
	if len(v.unkOrder) == 0 {
		return ""
	}
	parts := make([]string, len(v.unkOrder))
	for i, n := range v.unkOrder {
		parts[i] = fmt.Sprintf("%s（%d 行）", short(n), v.unknown[n])
	}
	return fmt.Sprintf("以下班级不在本校的班级列表中，请先在组织架构中添加或改正名单：%s / these classes are not in the school's org tree; add them or correct the file: %s",
		strings.Join(parts, "、"), strings.Join(parts, ", "))
}

// short keeps an echoed cell value from flooding a message.
func short(s string) string {
	if utf8.RuneCountInString(s) <= 20 {
		return s
	}
	return string([]rune(s)[:20]) + "…"
}

var (
	sciNotation   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?E[+-]?[0-9]+$`)
	studentNoChar = regexp.MustCompile(`^[0-9A-Z_-]+$`)
)

// studentNo returns the normal form or, when the value is unusable, a reason.
// The number keys re-imports through an exact-match blind index, so every
// spelling of one number must come out the same: full-width digits, case of
// letters, spaces Excel users type inside numbers.
func studentNo(s string) (no, zh, en string) {
	s = width.Narrow.String(s)
	// ="00123" and a leading apostrophe are how people stop Excel from
	// eating leading zeros; they are quoting, not part of the number.
	if strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) && len(s) >= 3 {
		s = s[2 : len(s)-1]
	}
	s = strings.TrimPrefix(s, "'")
	s = strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
	if sciNotation.MatchString(s) {
		// What Excel displayed, not the number: it shows long numbers as
		// 2.02401E+11 and saves that text to CSV or pastes it as text, and
		// the digits are gone. (An .xlsx number cell below 10^15 holds
		// plain digits, so nothing exact is refused here.)
		return "", "学号被 Excel 显示成了科学计数法，数字已丢失，请把学号列设为文本格式后重新填写",
			"the student number was turned into scientific notation by Excel and digits are lost; format the column as text and re-enter it"
	}
	if s == "" {
		return "", "", ""
	}
	if len(s) > 32 || !studentNoChar.MatchString(s) {
		return "", "学号只能由数字、字母和连字符组成，最长 32 位",
			"a student number may hold only digits, letters and hyphens, at most 32 of them"
	}
	return s, "", ""
}

func sexCode(s string) string {
	switch strings.ToLower(width.Narrow.String(s)) {
	case "男", "男性", "m", "male":
		return "m"
	case "女", "女性", "f", "female":
		return "f"
	}
	return ""
}

var (
	dateSep   = regexp.MustCompile(`^([0-9]{4})[-/.年]([0-9]{1,2})月?(?:[-/.]([0-9]{1,2})|([0-9]{1,2})日)?$`)
	compact   = regexp.MustCompile(`^([0-9]{4})([0-9]{2})([0-9]{2})?$`)
	serialNum = regexp.MustCompile(`^[0-9]{1,5}(\.[0-9]+)?$`)
)

// birthMonth accepts the ways Chinese rosters write a birth date, keeping
// only the month: the store holds no day of birth, which is more than the
// norms need and more than we should keep.
func (v *validator) birthMonth(raw string) (bm, zh, en string) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, width.Narrow.String(raw))
	bad := func() (string, string, string) {
		return "", fmt.Sprintf("出生年月“%s”无法识别，请写成 2010-05 或 2010年5月", short(raw)),
			fmt.Sprintf("birth month %q is not recognised; write it as 2010-05", short(raw))
	}
	var y, m, d int
	switch {
	case dateSep.MatchString(s):
		g := dateSep.FindStringSubmatch(s)
		y, m = atoi(g[1]), atoi(g[2])
		d = atoi(g[3] + g[4])
	case compact.MatchString(s):
		g := compact.FindStringSubmatch(s)
		y, m, d = atoi(g[1]), atoi(g[2]), atoi(g[3])
	case len(s) != 4 && serialNum.MatchString(s) && !yearAndMonth(s):
		// A date cell read raw is a day count, and a CSV exported from a
		// sheet whose date column lost its format shows the same number.
		f, _ := strconv.ParseFloat(s, 64)
		t, err := excelize.ExcelDateToTime(f, v.date1904)
		if err != nil || f < 1 {
			return bad()
		}
		y, m = t.Year(), int(t.Month())
	default:
		return bad()
	}
	if m < 1 || m > 12 || d > 31 {
		return bad()
	}
	if d > 0 && time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return bad()
	}
	years := v.now.Year() - y
	if int(v.now.Month()) < m {
		years--
	}
	if years < 5 || years > 100 {
		return "", fmt.Sprintf("出生年月 %04d-%02d 不合理（年龄应在 5 到 100 岁之间）", y, m),
			fmt.Sprintf("birth month %04d-%02d is implausible (age must be 5 to 100)", y, m)
	}
	return fmt.Sprintf("%04d-%02d", y, m), "", ""
}

// yearAndMonth spots "20105" and "19998": someone's 2010-5 or 1999-8, which
// as day counts would be plausible dates in the 1950s. Refusing them costs
// only real serials from 1952 to 1957, which no school roster holds.
func yearAndMonth(s string) bool {
	return len(s) == 5 && (strings.HasPrefix(s, "19") || strings.HasPrefix(s, "20"))
}

func age(raw string) (int, bool) {
	s := strings.TrimSpace(width.Narrow.String(raw))
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "岁"), "周")) // 12岁, 12周岁
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 5 || f > 100 {
		return 0, false
	}
	return int(f), true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
