package reportprint

import "time"

// chinaTime is the zone dates are printed in: the schools and counties
// that read the reports are all on China Standard Time.
var chinaTime = time.FixedZone("CST", 8*3600)

// words are the printed report's own fixed words in one locale: the
// cover, section headings and notes that assess.ReportLabels (shared with
// the workbook) does not have.
type words struct {
	GroupTitle, Marking, Footer, PageFormat, DateFormat     string
	Unit, Campaign, Period, PrintedOn                       string
	NoticeTitle, NoticeMore                                 string
	Instruments, ValidOf, SeeInvalid, Share, NoSuicideItems string
	ClassTable, ByGrade, BySex, AppendixNote, AbsentNote    string
	None                                                    string

	// The individual report.
	IndividualTitle, InvalidResult, ProfileScale, Value, Standing, Meaning string
	Fields, Occupations, NextStepTitle                                     string
	OnScale                                                                map[string]string
	NextStep                                                               map[int]string // by warning level, 0 for none
}

var wordsByLocale = map[string]words{
	"zh-CN": {
		GroupTitle: "心理健康测评团体报告", Marking: "内部资料 注意保密", Footer: "心灵 · 心理测评", PageFormat: "第 %d 页 / 共 %d 页",
		DateFormat: "2006年1月2日",
		Unit:       "单位", Campaign: "测评活动", Period: "测评时间", PrintedOn: "报告日期",
		NoticeTitle: "重要说明", NoticeMore: "本报告仅供学校心理健康工作使用，请勿公开或用于评优、分班等与心理健康无关的用途。",
		Instruments: "各量表结果", ValidOf: "有效结果 %d 份，无效 %s 份（无效结果不计入以下分级与均值）。", SeeInvalid: "无效作答见附录二。", Share: "比例",
		NoSuicideItems: "本次测评的量表没有自杀相关条目。",
		ClassTable:     "班级 × 预警等级", ByGrade: "年级比较", BySex: "性别比较",
		AppendixNote:    "附录仅供学校心理老师、心理咨询师和管理员使用，姓名已部分隐去；本报告的每次导出都记入审计日志。",
		AbsentNote:      "请学校在“未参加原因”一栏填写每位学生未参加的原因（如病假、转学）。",
		None:            "（无）",
		IndividualTitle: "个人测评报告", InvalidResult: "这次作答未通过作答质量检查，结果仅供参考，建议安排重测：",
		ProfileScale: "图中每个维度的长度表示得分在该维度可能范围中的位置（0 为最低，100 为最高）。",
		Value:        "得分", Standing: "水平", Meaning: "说明", Fields: "适合的专业方向：", Occupations: "典型职业：",
		NextStepTitle: "学校下一步", OnScale: map[string]string{"t": "T 分", "percentile": "百分位"},
		NextStep: map[int]string{
			1: "一级预警：请当天由心理老师单独约谈，评估风险，通知家长，并按学校危机干预流程处理；必要时转介专业医疗机构。",
			2: "二级预警：请一周内由心理老师约谈，了解近况，与班主任和家长保持沟通，并安排一个月后复测。",
			3: "三级预警：请班主任和心理老师持续关注，鼓励学生参加心理健康活动，下次普测时重点复查。",
			0: "未见预警：继续参加学校常规心理健康教育；如学生主动求助，请及时安排辅导。",
		},
	},
	"en": {
		GroupTitle: "Group report of a mental health screening", Marking: "Confidential", Footer: "xinling · psychological assessment",
		PageFormat: "Page %d of %d", DateFormat: "2 January 2006",
		Unit: "Unit", Campaign: "Screening", Period: "Dates", PrintedOn: "Printed on",
		NoticeTitle: "Please note", NoticeMore: " It is for the school's mental health work only: do not publish it or use it for anything else, such as awards or class placement.",
		Instruments: "Results by instrument", ValidOf: "%d valid results, %s invalid (left out of the bands and means below).", SeeInvalid: " Appendix A2 lists the invalid responses.", Share: "Share",
		NoSuicideItems: "No instrument of this screening has suicide items.",
		ClassTable:     "Class × warning level", ByGrade: "By grade", BySex: "By sex",
		AppendixNote:    "The appendices are for school psychologists, counsellors and administrators; names are partly masked, and every export of this report is audited.",
		AbsentNote:      "The school writes why each pupil took no part (ill, moved school…) in the last column.",
		None:            "(none)",
		IndividualTitle: "Individual screening report", InvalidResult: "This sitting failed a response-quality check; read it with care and consider a retake: ",
		ProfileScale: "Each bar shows where the score stands in that dimension's possible range (0 lowest, 100 highest).",
		Value:        "Score", Standing: "Standing", Meaning: "What it means", Fields: "Fields of study: ", Occupations: "Occupations: ",
		NextStepTitle: "The school's next step", OnScale: map[string]string{"t": "T", "percentile": "percentile"},
		NextStep: map[int]string{
			1: "Level 1: the school psychologist talks with the pupil today, assesses the risk, tells the parents and follows the school's crisis procedure, referring to a hospital where needed.",
			2: "Level 2: the school psychologist talks with the pupil within a week, keeps in touch with the class teacher and parents, and plans a retest in a month.",
			3: "Level 3: the class teacher and psychologist keep an eye on the pupil, encourage mental health activities, and look again at the next screening.",
			0: "No warning: the pupil continues the school's usual mental health education; offer counselling whenever asked.",
		},
	},
}

// wordsFor returns the words of a locale (zh-CN for any other).
func wordsFor(locale string) words {
	if w, ok := wordsByLocale[locale]; ok {
		return w
	}
	return wordsByLocale["zh-CN"]
}
