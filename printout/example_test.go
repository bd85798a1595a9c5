package printout_test

import (
	"bytes"
	"fmt"
	"log"

	"xinling/printout"
)

// sampleGroupReport is a group report as the report builder would hand it
// over: every label already in Chinese, numbers already formatted.
func sampleGroupReport() *printout.Document {
	levels := []printout.Series{
		{Name: "一级预警", Values: []float64{2, 1, 0, 3}, Color: printout.LevelColor(1)},
		{Name: "二级预警", Values: []float64{4, 3, 5, 2}, Color: printout.LevelColor(2)},
		{Name: "三级预警", Values: []float64{6, 8, 4, 7}, Color: printout.LevelColor(3)},
	}
	bands := printout.BandColors(4)
	return &printout.Document{
		Title:      "阳光中学 2026 年秋季心理普测 团体报告",
		Header:     "阳光中学 · 2026 年秋季心理普测",
		Marking:    "内部资料 注意保密",
		PageFormat: "第 %d 页 / 共 %d 页",
		Numbering:  printout.NumberChinese,
		Cover: &printout.Cover{
			Title:    "2026 年秋季心理普测团体报告",
			Subtitle: "阳光中学 七年级",
			Marking:  "内部资料 注意保密",
			Facts: []printout.KV{
				{Label: "单位", Value: "阳光中学 七年级"},
				{Label: "测评活动", Value: "2026 年秋季心理普测"},
				{Label: "报告日期", Value: "2026 年 10 月 12 日"},
			},
			Notice: &printout.Notice{
				Title: "说明",
				Text:  "本报告为心理筛查结果，不构成任何临床诊断。筛查阳性仅提示需要进一步访谈与评估，请由专业人员结合访谈作出判断。",
			},
		},
		Blocks: []printout.Block{
			&printout.Heading{Level: 1, Text: "参与情况"},
			&printout.KVList{Columns: 3, Items: []printout.KV{
				{Label: "名册人数", Value: "612"}, {Label: "完成", Value: "598"}, {Label: "有效", Value: "590"},
			}},
			&printout.Paragraph{Text: "本次普测名册共 612 人，完成 598 人（97.7%），其中有效答卷 590 份。"},
			&printout.Heading{Level: 1, Text: "预警分布"},
			&printout.BarChart{
				Title: "各班预警人数", Categories: []string{"七（1）班", "七（2）班", "七（3）班", "七（4）班"},
				Series: levels, Stacked: true, ValueLabels: true, ValueAxis: "人数", CategoryAxis: "班级",
			},
			&printout.Table{
				Caption: "表 1 各班预警人数",
				Columns: []printout.Column{{Title: "班级", Width: 2}, {Title: "一级", Align: printout.Right}, {Title: "二级", Align: printout.Right}, {Title: "三级", Align: printout.Right}},
				Rows: [][]printout.Cell{
					{{Text: "七（1）班"}, {Text: "2", Mark: 1}, {Text: "4", Mark: 2}, {Text: "6", Mark: 3}},
					{{Text: "七（2）班"}, {Text: "1", Mark: 1}, {Text: "3", Mark: 2}, {Text: "8", Mark: 3}},
				},
			},
			&printout.Heading{Level: 2, Text: "抑郁筛查（PHQ-9）分级"},
			&printout.BarChart{
				Title: "抑郁筛查分级人数", Categories: []string{"七（1）班", "七（2）班"}, Horizontal: true, Stacked: true, ValueLabels: true,
				Series: []printout.Series{
					{Name: "无", Values: []float64{120, 131}, Color: bands[0]},
					{Name: "轻度", Values: []float64{20, 15}, Color: bands[1]},
					{Name: "中度", Values: []float64{8, 6}, Color: bands[2]},
					{Name: "重度", Values: []float64{2, 1}, Color: bands[3]},
				},
			},
		},
	}
}

// Example renders a group report; Render binds several documents (a
// class's individual reports) the same way: Render(w, fonts, doc1, doc2...).
func Example() {
	fonts, err := printout.LoadFonts(printout.DefaultCJKFont)
	if err != nil {
		log.Fatal(err) // the API answers 503: errors.Is(err, printout.ErrNoFont)
	}
	var buf bytes.Buffer
	if err := printout.Render(&buf, fonts, sampleGroupReport()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))
	// Output: true
}

// Example_bound binds a class's individual reports into one download:
// each starts on a new page, has its own bookmark and numbers its own
// pages ("第 1 页 / 共 1 页" for each pupil).
func Example_bound() {
	fonts, err := printout.LoadFonts("")
	if err != nil {
		log.Fatal(err)
	}
	var reports []*printout.Document
	for _, pupil := range []string{"张**", "李**"} {
		reports = append(reports, &printout.Document{
			Title: "个人报告 " + pupil, Marking: "内部资料 注意保密", PageFormat: "第 %d 页 / 共 %d 页",
			Blocks: []printout.Block{
				&printout.KVList{Columns: 2, Items: []printout.KV{{Label: "姓名", Value: pupil}, {Label: "班级", Value: "七年级（3）班"}}},
				&printout.Heading{Level: 1, Text: "人格剖面"},
				&printout.ProfileChart{Min: 20, Max: 80, NormLow: 40, NormHigh: 60, NormLabel: "常模平均范围（T 40–60）",
					Dimensions: []printout.ProfileBar{
						{Label: "外向性", Value: 62, Text: "T=62 偏高"},
						{Label: "神经质", Value: 67, Text: "T=67 偏高", Mark: 2},
					}},
				&printout.Paragraph{Text: "外向性偏高：喜欢与人交往。"},
			},
		})
	}
	var buf bytes.Buffer
	if err := printout.Render(&buf, fonts, reports...); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf.Len() > 0)
	// Output: true
}
