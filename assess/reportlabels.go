package assess

// ReportLabels are the fixed words of a group report (headings, levels,
// sexes, queue states) in one locale, for renderers outside the console
// (the .xlsx workbook, a printed report), so that none of them shows a
// code. The console has the same words in its locale files.
type ReportLabels struct {
	Locale string

	Participation, Roster, Started, Finished, Valid, Invalid, InvalidReason string
	WarningLevels, Level1, Level2, Level3, NoWarning, LevelHead             string
	Instrument, Score, Band, Bands, Count, N, Mean, SD, Results             string
	Norms, NormGroups, MeanT, SDT, MeanPercentile, T60, T70                 string
	SuicideItem, AnySuicideItem, Positive                                   string
	Class, Grade, Sex, Name, Reasons, State, AbsenceReason                  string
	Disclaimer                                                              string

	SheetOverview, SheetBands, SheetClasses, SheetGrades, SheetSexes, SheetNorms string
	SheetFocus, SheetInvalid, SheetAbsent                                        string

	sexes  map[string]string
	states map[string]string
}

var reportLabels = map[string]ReportLabels{
	"zh-CN": {Locale: "zh-CN",
		Participation: "参与情况", Roster: "名册人数", Started: "已开始", Finished: "已完成", Valid: "有效", Invalid: "无效", InvalidReason: "无效原因",
		WarningLevels: "预警等级", Level1: "一级预警", Level2: "二级预警", Level3: "三级预警", NoWarning: "无预警", LevelHead: "预警等级",
		Instrument: "量表", Score: "维度", Band: "分级", Bands: "分级分布", Count: "人数", N: "有效结果数", Mean: "均值", SD: "标准差", Results: "结果数",
		Norms: "常模比较", NormGroups: "常模组", MeanT: "T 分均值", SDT: "T 分标准差", MeanPercentile: "百分位均值", T60: "T≥60 人数", T70: "T≥70 人数",
		SuicideItem: "自杀相关条目", AnySuicideItem: "任一条目阳性", Positive: "阳性人数",
		Class: "班级", Grade: "年级", Sex: "性别", Name: "姓名", Reasons: "预警原因", State: "处理状态", AbsenceReason: "未参加原因",
		Disclaimer:    "本报告为心理筛查结果，不是诊断。预警学生需由专业人员进一步评估。",
		SheetOverview: "概况", SheetBands: "分级分布", SheetClasses: "班级×预警", SheetGrades: "年级比较", SheetSexes: "性别比较", SheetNorms: "常模比较",
		SheetFocus: "附录一 重点关注名单", SheetInvalid: "附录二 无效作答", SheetAbsent: "附录三 未参加名单",
		sexes:  map[string]string{"m": "男", "f": "女", "": "未填"},
		states: map[string]string{"open": "待处理", "claimed": "已认领", "following_up": "跟进中", "referred": "已转介", "closed": "已结案"},
	},
	"en": {Locale: "en",
		Participation: "Participation", Roster: "On the roster", Started: "Started", Finished: "Finished", Valid: "Valid", Invalid: "Invalid", InvalidReason: "Why invalid",
		WarningLevels: "Warning levels", Level1: "Level 1", Level2: "Level 2", Level3: "Level 3", NoWarning: "No warning", LevelHead: "Warning level",
		Instrument: "Instrument", Score: "Score", Band: "Band", Bands: "Bands", Count: "Count", N: "Valid results", Mean: "Mean", SD: "SD", Results: "Results",
		Norms: "Against norms", NormGroups: "Norm groups", MeanT: "Mean T", SDT: "SD of T", MeanPercentile: "Mean percentile", T60: "T ≥ 60", T70: "T ≥ 70",
		SuicideItem: "Suicide item", AnySuicideItem: "Any suicide item positive", Positive: "Positive",
		Class: "Class", Grade: "Grade", Sex: "Sex", Name: "Name", Reasons: "Reasons", State: "State", AbsenceReason: "Why not taken part",
		Disclaimer:    "This report shows screening results, not diagnoses. Flagged pupils need a further assessment by a professional.",
		SheetOverview: "Overview", SheetBands: "Bands", SheetClasses: "Class x level", SheetGrades: "By grade", SheetSexes: "By sex", SheetNorms: "Norms",
		SheetFocus: "A1 Focus list", SheetInvalid: "A2 Invalid responses", SheetAbsent: "A3 Non-participants",
		sexes:  map[string]string{"m": "Male", "f": "Female", "": "Not given"},
		states: map[string]string{"open": "Open", "claimed": "Claimed", "following_up": "Following up", "referred": "Referred", "closed": "Closed"},
	},
}

// ReportLabelsFor returns the labels of a locale (zh-CN for any other).
func ReportLabelsFor(locale string) ReportLabels {
	if l, ok := reportLabels[locale]; ok {
		return l
	}
	return reportLabels[ReportLocales[0]]
}

// SexLabel names a sex code (m, f or "").
func (l ReportLabels) SexLabel(code string) string {
	if s, ok := l.sexes[code]; ok {
		return s
	}
	return l.sexes[""]
}

// LevelLabel names a warning level.
func (l ReportLabels) LevelLabel(level int) string {
	switch level {
	case 1:
		return l.Level1
	case 2:
		return l.Level2
	case 3:
		return l.Level3
	}
	return l.NoWarning
}

// StateLabel names a queue entry's state.
func (l ReportLabels) StateLabel(state string) string {
	if s, ok := l.states[state]; ok {
		return s
	}
	return l.states["open"]
}
