package demoseed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"xinling/assess"
	"xinling/store"
)

// followUp works the queue as a school would over the rest of the week
// (the campaign stays open for make-up sittings): every red (level-1)
// entry claimed within the hour and seen that day, most orange ones and
// some yellow ones taken up, the rest still waiting; counselling recorded as cases, and the two pupils at
// most risk referred to the county centre, which accepts the first.
func (s *seeder) followUp(ctx context.Context, pupils []pupil) error {
	svc, clk := s.services()
	byPerson := map[string]pupil{}
	numbers := map[string]string{}
	for _, p := range pupils {
		id := s.persons[p.no]
		byPerson[id], numbers[id] = p, p.no
	}
	all, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return s.st.ListWarnings(ctx, store.WarningFilter{UnitPath: s.school.Path}, pg)
	})
	if err != nil {
		return err
	}
	var levels [4][]store.Warning
	for _, w := range all {
		if _, ours := byPerson[w.PersonID]; ours && w.State == store.WarningOpen {
			levels[w.Level] = append(levels[w.Level], w)
		}
	}
	for _, ws := range levels {
		sortedBy(ws, numbers)
	}
	f := &followUp{seeder: s, svc: svc, clk: clk, pupils: byPerson, r: rand.New(rand.NewPCG(Seed, 2))}
	if err := f.red(ctx, levels[1]); err != nil {
		return err
	}
	if err := f.rest(ctx, levels[2], 2); err != nil {
		return err
	}
	if err := f.rest(ctx, levels[3], 3); err != nil {
		return err
	}
	return f.activities(ctx)
}

type followUp struct {
	*seeder
	svc    *assess.Services
	clk    *clock
	pupils map[string]pupil
	r      *rand.Rand
}

func phqTotal(p pupil) int {
	t := 0
	for _, v := range p.phq9 {
		t += v
	}
	return t
}

// red works the level-1 entries: each claimed 20-50 minutes after it was
// filed, the pupil seen that afternoon and the parents called.
func (f *followUp) red(ctx context.Context, ws []store.Warning) error {
	// The two careful answerers with the highest PHQ-9 totals are referred.
	var earnest []store.Warning
	for _, w := range ws {
		if f.pupils[w.PersonID].style == careful {
			earnest = append(earnest, w)
		}
	}
	sort.SliceStable(earnest, func(i, j int) bool {
		return phqTotal(f.pupils[earnest[i].PersonID]) > phqTotal(f.pupils[earnest[j].PersonID])
	})
	referred := map[string]int{}
	for i := 0; i < 2 && i < len(earnest); i++ {
		referred[earnest[i].ID] = i + 1
	}
	counselled := 0
	for i, w := range ws {
		f.clk.Set(w.CreatedAt.Add(time.Duration(20+f.r.IntN(30)) * time.Minute))
		if _, err := f.svc.Queue.Claim(ctx, f.psych, w.ID, ""); err != nil {
			return fmt.Errorf("demo claim: %w", err)
		}
		f.clk.Add(time.Duration(60+f.r.IntN(90)) * time.Minute)
		note := "已单独约谈学生，评估当前无紧急风险；已电话告知家长，请家长近期多陪伴并留意情绪变化。"
		if _, err := f.svc.Queue.Transition(ctx, f.psych, w.ID, assess.Change{To: store.WarningFollowingUp, Note: note}, ""); err != nil {
			return fmt.Errorf("demo follow-up: %w", err)
		}
		p := f.pupils[w.PersonID]
		switch {
		case referred[w.ID] > 0:
			if err := f.refer(ctx, w, referred[w.ID] == 1); err != nil {
				return err
			}
		case p.style != careful:
			f.clk.Add(20 * time.Hour)
			if _, err := f.svc.Queue.Transition(ctx, f.psych, w.ID, assess.Change{To: store.WarningClosed, Outcome: "no_risk",
				Note: "面谈中学生表示作答时赶时间、没有细看题目；重新了解情况后未发现自伤想法，告知如有困扰随时来心理辅导室。"}, ""); err != nil {
				return err
			}
		case i%3 == 0:
			counselled++
			if counselled == 1 {
				f.clk.Add(22 * time.Hour)
				if _, err := f.case_(ctx, w, caseMild); err != nil {
					return err
				}
			}
			f.clk.Add(48 * time.Hour)
			if _, err := f.svc.Queue.Transition(ctx, f.psych, w.ID, assess.Change{To: store.WarningClosed, Outcome: "counselled",
				Note: "连续两次辅导后情绪明显好转，无自伤想法；转为班主任日常关注，一个月后复查。"}, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// refer records the counselling of a pupil at risk as a case and refers
// the entry to the county centre; the centre accepts the first referral
// the next morning, and the second waits for it.
func (f *followUp) refer(ctx context.Context, w store.Warning, accept bool) error {
	f.clk.Add(18 * time.Hour)
	cv, err := f.case_(ctx, w, caseAtRisk)
	if err != nil {
		return err
	}
	f.clk.Add(3 * time.Hour)
	note := "学生 PHQ-9 第 9 题阳性，总分较高，面谈中承认近期反复出现不想活的念头；家长已知情并同意转介，请区中心安排进一步评估。"
	ref, err := f.svc.Records.Refer(ctx, f.psych, w.ID, f.centre.UnitID, note, "")
	if err != nil {
		return fmt.Errorf("demo referral: %w", err)
	}
	f.sum.Referrals = append(f.sum.Referrals, ref.ID)
	if !accept {
		return nil
	}
	f.clk.Add(17 * time.Hour)
	if _, err := f.svc.Records.SetReferralState(ctx, f.centre, ref.ID, store.ReferralAccepted, ""); err != nil {
		return fmt.Errorf("demo referral accepted: %w", err)
	}
	f.sum.Conference = FocusPupil{PersonID: w.PersonID, WarningID: w.ID, CaseID: cv.Case.ID}
	f.clk.Add(5 * time.Hour)
	return f.recordConference(ctx, f.sum.Conference)
}

// recordConference records the school's case conference (研判) on the
// pupil it referred and the centre accepted: the psychologist, the head
// teacher and the centre's counsellor meet the day after, on the seeder's
// clock, and decide on a hospital assessment; a parent meeting (家校沟通)
// follows two days later. Both hang on the pupil's case and queue entry,
// so the person page shows the whole path.
func (f *followUp) recordConference(ctx context.Context, focus FocusPupil) error {
	if focus.PersonID == "" {
		return nil
	}
	f.clk.Add(24 * time.Hour)
	_, err := f.svc.Records.CreateMeeting(ctx, f.psych, assess.NewMeeting{Kind: assess.KindConference, PersonID: focus.PersonID,
		CaseID: focus.CaseID, WarningID: focus.WarningID, Date: f.clk.Now(), Attendees: "心理老师、班主任、区心理健康中心咨询师",
		Decision: store.DecisionReferral, Agreed: "建议家长陪同到专科医院进一步评估；在校期间班主任每日关注。",
		Notes: "学生近两周睡眠差、食欲下降，自述有轻生念头但无具体计划。"}, "")
	if err != nil {
		return fmt.Errorf("demo conference: %w", err)
	}
	f.clk.Add(48 * time.Hour)
	if _, err := f.svc.Records.CreateMeeting(ctx, f.psych, assess.NewMeeting{Kind: assess.KindParentMeeting, PersonID: focus.PersonID,
		CaseID: focus.CaseID, WarningID: focus.WarningID, Date: f.clk.Now(), Attendees: "学生母亲、班主任、心理老师",
		Agreed: "家长同意本周内带孩子到医院心理科就诊，并与学校保持每周联系。"}, ""); err != nil {
		return fmt.Errorf("demo parent meeting: %w", err)
	}
	return nil
}

// rest works the orange (level 2) and yellow (level 3) entries: some
// claimed and followed up, a few closed, the rest still open on the
// queue when the newcomer looks.
func (f *followUp) rest(ctx context.Context, ws []store.Warning, level int) error {
	// What happens to the i-th entry, by level: c claimed only, u followed
	// up, x closed, o left open.
	pattern := map[int]string{2: "uuucxooo", 3: "xuucoooooo"}[level]
	for i, w := range ws {
		step := pattern[i%len(pattern)]
		if step == 'o' {
			continue
		}
		f.clk.Set(w.CreatedAt.Add(time.Duration(18+f.r.IntN(30)) * time.Hour))
		if _, err := f.svc.Queue.Claim(ctx, f.psych, w.ID, ""); err != nil {
			return fmt.Errorf("demo claim: %w", err)
		}
		if step == 'c' {
			continue
		}
		f.clk.Add(time.Duration(30+f.r.IntN(120)) * time.Minute)
		if _, err := f.svc.Queue.Transition(ctx, f.psych, w.ID, assess.Change{To: store.WarningFollowingUp,
			Note: "已约学生本周到心理辅导室面谈，并请班主任留意其课堂和同伴交往情况。"}, ""); err != nil {
			return err
		}
		if step == 'u' {
			continue
		}
		f.clk.Add(26 * time.Hour)
		outcome, note := "no_risk", "面谈了解到近期因考试压力较大，睡眠已改善，目前无明显风险；已教给放松方法，期末前再回访一次。"
		if level == 2 {
			outcome, note = "counselled", "完成两次辅导，情绪和睡眠好转，学生愿意有困扰时主动求助；转为班主任日常关注。"
		}
		if _, err := f.svc.Queue.Transition(ctx, f.psych, w.ID, assess.Change{To: store.WarningClosed, Outcome: outcome, Note: note}, ""); err != nil {
			return err
		}
	}
	return nil
}

// Case records (心理辅导个案记录) of the seeded week. The details are
// invented and belong to no one.
var (
	caseAtRisk = assess.CaseFields{
		SelfEvaluation: "近一个月入睡困难、早醒，上课注意力难以集中，觉得自己“什么都做不好”；承认近两周反复出现“不如死了算了”的念头，否认有具体计划和准备。",
		LifeEvents:     "父母半年前离异，随母亲生活；期中考试成绩明显下滑，与好友发生矛盾后较少与同学来往。",
		OtherProblems:  "食欲下降，体重近一个月减轻约 3 公斤；偶有头痛。",
		Advice:         "当日告知家长并签署知情告知书；建议家长尽快陪同到区精神卫生中心进一步评估；班主任和宿管共同关注，每周心理辅导一次；已转介区心理健康中心。",
		GroupNotified:  true,
	}
	caseMild = assess.CaseFields{
		SelfEvaluation: "最近常因作业多而熬夜，白天疲惫，偶尔觉得活着很累；面谈时表示没有伤害自己的打算。",
		LifeEvents:     "刚转学到本校一学期，尚未交到要好的朋友。",
		OtherProblems:  "无。",
		Advice:         "约定两周内再面谈一次；请班主任安排同伴互助小组；告知心理辅导室开放时间和 12356 心理援助热线。",
	}
)

// case_ records a counselling session on the entry's pupil at the clock's time.
func (f *followUp) case_(ctx context.Context, w store.Warning, fields assess.CaseFields) (*assess.CaseView, error) {
	cv, err := f.svc.Records.CreateCase(ctx, f.psych, assess.NewCase{PersonID: w.PersonID, WarningID: w.ID, At: f.clk.Now().Add(-40 * time.Minute),
		CaseFields: fields}, "")
	if err != nil {
		return nil, fmt.Errorf("demo case: %w", err)
	}
	f.sum.Cases = append(f.sum.Cases, cv.Case.ID)
	return cv, nil
}

// activities records outreach: a lecture at the school for the parents of
// the screened grades during the screening week, and, dated today so that
// this month's table has them even early in a month, the school's class
// talks after the screening and the station's publicity day.
func (f *followUp) activities(ctx context.Context) error {
	f.clk.Set(f.at(3, 19, 30))
	if _, err := f.svc.Stats.AddActivity(ctx, f.psych, assess.NewActivity{UnitID: f.school.ID, Date: f.at(3, 19, 0), Type: "lecture",
		Reached: 212, Materials: 230, Note: "家长学校：青春期情绪变化与家庭沟通"}); err != nil {
		return err
	}
	f.clk.Set(f.now)
	local := f.now.In(cst)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst)
	if _, err := f.svc.Stats.AddActivity(ctx, f.psych, assess.NewActivity{UnitID: f.school.ID, Date: today, Type: "publicity",
		Reached: 580, Materials: 600, Note: "普测后的主题班会：情绪小课堂与求助渠道"}); err != nil {
		return err
	}
	if f.station == nil {
		return nil
	}
	if _, err := f.svc.Stats.AddActivity(ctx, f.station, assess.NewActivity{UnitID: f.station.UnitID, Date: today, Type: "publicity",
		Reached: 86, Materials: 120, Note: "社区心理健康宣传日：发放 12356 热线卡片和自测二维码"}); err != nil {
		return err
	}
	_, err := f.svc.Stats.AddActivity(ctx, f.station, assess.NewActivity{UnitID: f.station.UnitID, Date: today, Type: "clinic",
		Reached: 14, Note: "驿站义诊：心理咨询师现场答疑"})
	return err
}
