package printout

import (
	"bytes"
	"fmt"
	"testing"
)

// focusList is a group-report appendix of n rows.
func focusList(n int) *Document {
	t := &Table{Caption: "附录一 重点关注名单", Columns: []Column{
		{Title: "序号", Align: Right}, {Title: "姓名", Width: 1.5}, {Title: "班级", Width: 2}, {Title: "性别"},
		{Title: "预警", Width: 1.5}, {Title: "抑郁筛查", Align: Right}, {Title: "焦虑筛查", Align: Right}, {Title: "处理状态", Width: 2},
	}}
	for i := 1; i <= n; i++ {
		level := Level(i%3 + 1)
		t.Rows = append(t.Rows, []Cell{
			{Text: fmt.Sprint(i)}, {Text: "张**"}, {Text: fmt.Sprintf("七年级（%d）班", i%12+1)}, {Text: "女"},
			{Text: fmt.Sprintf("%s级预警", chineseNumeral(int(level))), Mark: level},
			{Text: fmt.Sprint(5 + i%20)}, {Text: fmt.Sprint(3 + i%18)}, {Text: "已认领 · 待访谈"},
		})
	}
	d := sampleDoc()
	d.Blocks = append(d.Blocks, t)
	return d
}

// individual is a one-page individual report.
func individual(i int) *Document {
	return &Document{
		Title: fmt.Sprintf("个人报告 学生%03d", i), Header: "阳光中学 · 2026 年秋季心理普测 · 个人报告", Marking: "内部资料 注意保密",
		PageFormat: "第 %d 页 / 共 %d 页", Numbering: NumberChinese,
		Blocks: []Block{
			&KVList{Columns: 2, Items: []KV{{Label: "姓名", Value: fmt.Sprintf("学生%03d", i)}, {Label: "班级", Value: "七年级（3）班"}, {Label: "性别", Value: "男"}, {Label: "完成时间", Value: "2026-10-09 14:32"}}},
			&Heading{Level: 1, Text: "测评结果"},
			&Table{Columns: []Column{{Title: "量表", Width: 2}, {Title: "得分", Align: Right}, {Title: "等级", Width: 1.2}, {Title: "说明", Width: 4}}, Rows: [][]Cell{
				{{Text: "抑郁筛查（PHQ-9）"}, {Text: "12"}, {Text: "中度", Mark: 2}, {Text: "近两周情绪低落较明显，建议与心理老师面谈。"}},
				{{Text: "焦虑筛查（GAD-7）"}, {Text: "6"}, {Text: "轻度", Mark: 3}, {Text: "有一些紧张和担心，可尝试放松练习。"}},
			}},
			&Heading{Level: 1, Text: "人格剖面"},
			&ProfileChart{Min: 20, Max: 80, NormLow: 40, NormHigh: 60, NormLabel: "常模平均范围（T 40–60）", Dimensions: []ProfileBar{
				{Label: "外向性", Value: 62, Text: "T=62 偏高"}, {Label: "宜人性", Value: 48, Text: "T=48"}, {Label: "尽责性", Value: 51, Text: "T=51"},
				{Label: "神经质", Value: 67, Text: "T=67 偏高", Mark: 2}, {Label: "开放性", Value: 44, Text: "T=44"},
			}},
			&Paragraph{Text: "外向性偏高：喜欢与人交往，在集体活动中精力充沛。神经质偏高：情绪容易波动，压力下更容易感到紧张。"},
			&Heading{Level: 1, Text: "学校建议"},
			&Notice{Text: "请班主任在一周内安排与心理老师的面谈，并关注其近期情绪变化。本结果为筛查结果，不构成诊断。"},
		},
	}
}

func TestIndividualReportFitsOnePage(t *testing.T) {
	pdf := render(t, individual(1), individual(2))
	if n := pages(t, pdf); n != 2 {
		t.Fatalf("two one-page reports on %d pages", n)
	}
	inOrder(t, pageText(t, pdf, 2, 2), "学生002", "七年级（3）班", "抑郁筛查（PHQ-9） 12 中度", "外向性", "T=62 偏高", "第 1 页 / 共 1 页")
}

func benchmarkRender(b *testing.B, docs ...*Document) {
	fonts := testFonts(b)
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Render(&buf, fonts, docs...); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

// BenchmarkTable600 renders a group report with a 600-row appendix.
func BenchmarkTable600(b *testing.B) { benchmarkRender(b, focusList(600)) }

// BenchmarkIndividual50 binds 50 one-page individual reports.
func BenchmarkIndividual50(b *testing.B) {
	docs := make([]*Document, 50)
	for i := range docs {
		docs[i] = individual(i + 1)
	}
	benchmarkRender(b, docs...)
}

// BenchmarkSmall renders the sample report: mostly the fixed cost of
// reading the fonts.
func BenchmarkSmall(b *testing.B) { benchmarkRender(b, sampleDoc()) }
