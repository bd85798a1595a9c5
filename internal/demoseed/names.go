package demoseed

import "math/rand/v2"

// surnames are common Chinese family names, roughly from the most frequent
// down; weight gives the first ones more pupils, as in a real school.
var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
	"徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
	"彭", "曾", "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余",
	"于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢",
	"姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖",
	"石", "金", "韦", "贾", "夏", "付", "方", "邹", "熊", "白",
	"孟", "秦", "邱", "侯", "江", "尹", "薛", "闫", "段", "雷",
	"欧阳", "司马", "上官",
}

// Characters of given names: some lean to boys' names, some to girls',
// and the neutral ones go either way.
var (
	boyChars     = []rune("浩宇轩杰俊博涛鹏磊强伟斌毅航睿哲昊晨阳泽恒铭凯锐鑫志")
	girlChars    = []rune("欣怡婷雪琳慧丽静雅萱涵悦梦瑶妍佳蕾颖璐倩婧菲岚彤芸")
	neutralChars = []rune("子思文嘉一梓雨诗若安可心明清天宁奕乐")
)

// pickSurname favours the frequent names: the first tenth of the list
// gives about half the pupils.
func pickSurname(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return surnames[r.IntN(len(surnames)/10)]
	}
	return surnames[r.IntN(len(surnames))]
}

// givenName is one or (mostly) two characters fitting the pupil's sex.
func givenName(r *rand.Rand, sex string) string {
	own := boyChars
	if sex == "女" {
		own = girlChars
	}
	pick := func() rune {
		if r.IntN(3) == 0 {
			return neutralChars[r.IntN(len(neutralChars))]
		}
		return own[r.IntN(len(own))]
	}
	if r.IntN(5) == 0 {
		return string(own[r.IntN(len(own))])
	}
	a, b := pick(), own[r.IntN(len(own))]
	for b == a {
		b = own[r.IntN(len(own))]
	}
	return string([]rune{a, b})
}
