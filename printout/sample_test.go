package printout

import "fmt"

// sampleDoc has every kind of block, with Chinese mixed with Latin and
// digits as real reports have.
func sampleDoc() *Document {
	return &Document{
		Title:      "阳光中学 2026 年秋季心理普测 团体报告",
		Header:     "阳光中学 · 2026 年秋季心理普测",
		Marking:    "内部资料 注意保密",
		PageFormat: "第 %d 页 / 共 %d 页",
		Numbering:  NumberChinese,
		Cover: &Cover{
			Title: "2026 年秋季心理普测团体报告", Subtitle: "阳光中学 七年级", Marking: "内部资料 注意保密",
			Facts:  []KV{{Label: "单位", Value: "阳光中学 七年级"}, {Label: "测评活动", Value: "2026 年秋季心理普测"}, {Label: "报告日期", Value: "2026 年 10 月 12 日"}},
			Notice: &Notice{Title: "说明", Text: "本报告为心理筛查结果，不构成任何临床诊断。"},
		},
		Blocks: []Block{
			&Heading{Level: 1, Text: "参与情况"},
			&KVList{Columns: 3, Items: []KV{{Label: "名册人数", Value: "612"}, {Label: "完成", Value: "598"}, {Label: "有效", Value: "590"}}},
			&Paragraph{Text: "本次普测名册共 612 人，完成 598 人（97.7%），其中有效答卷 590 份。"},
			&Paragraph{Text: "Mini-IPIP 外向性 Extraversion 得分 3.25", Small: true},
			&Heading{Level: 1, Text: "预警分布"},
			&Table{
				Caption: "表 1 各班预警人数",
				Columns: []Column{{Title: "班级", Width: 2}, {Title: "一级", Align: Right}, {Title: "二级", Align: Right}, {Title: "三级", Align: Right}},
				Rows: [][]Cell{
					{{Text: "七（1）班"}, {Text: "2", Mark: 1}, {Text: "4", Mark: 2}, {Text: "6", Mark: 3}},
					{{Text: "七（2）班"}, {Text: "1", Mark: 1}, {Text: "3", Mark: 2}, {Text: "8", Mark: 3}},
				},
			},
			&Heading{Level: 2, Text: "抑郁筛查（PHQ-9）分级"},
			&BarChart{Title: "各班预警人数", Categories: []string{"七（1）班", "七（2）班"}, Stacked: true, ValueLabels: true, ValueAxis: "人数",
				Series: []Series{{Name: "一级预警", Values: []float64{2, 1}, Color: Red}, {Name: "二级预警", Values: []float64{4, 3}, Color: Orange}}},
			&Notice{Title: "提示", Text: "筛查阳性仅提示需要进一步访谈。"},
			&PageBreak{},
			&Heading{Level: 1, Text: "附录"},
			&Paragraph{Text: fmt.Sprintf("共 %d 人", 12)},
		},
	}
}
