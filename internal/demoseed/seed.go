// Package demoseed gives the demo store a screening that has already
// happened: a junior high school of about 600 pupils in 12 classes, their
// PHQ-9, GAD-7 and PSS-10 answers (a few pupils straight-lined, so their
// PSS-10 results are flagged invalid), and a week of follow-up by the school
// psychologist and the county centre. Everything goes through the same
// services as the API (roster import, campaign, personal codes, sessions
// answered and submitted, claims, notes, cases, referrals), so every score,
// band and warning is the engine's own; only the clock is moved back, to
// the days the screening took place.
//
// The pupils and their answers come from a fixed seed: every run gives the
// same names, classes and scores. Dates are counted back from the day it
// runs, so the screening is always recent.
package demoseed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"xinling/assess"
	"xinling/engine"
	"xinling/scales"
	"xinling/store"
)

// Seed is the generator's seed: change it and the school changes.
const Seed = 20261103

// Battery is the screening's instruments: the pair Chinese school
// screenings most often use for depression and anxiety, and the PSS-10,
// a common third part for stress. Only the PSS-10 has a validity check
// (straight-lining, caught by its reversed items), so the pupils who gave
// one answer everywhere are the seed's invalid results.
var Battery = []string{"phq9", "gad7", "pss10"}

// Options say where the school goes and who follows it up.
type Options struct {
	// SchoolID is an existing school unit; its grades and classes are
	// added under it (七年级 to 九年级, four classes each).
	SchoolID string
	// Psychologist is the school's psychologist (a school_psychologist
	// account at the school): they run the screening and follow it up.
	Psychologist store.Staff
	// Centre is a counsellor of a unit above the school (the county
	// centre): referrals go to their unit, and they accept one.
	Centre store.Staff
	// Station, if set, is a station's counsellor (心灵驿站): their
	// station's outreach of this month is recorded, so that its monthly
	// table is not empty.
	Station store.Staff
	// Now is the real time; the screening took place in the week before.
	// Zero means time.Now().
	Now time.Time
	// Workers answer pupils' sessions side by side, so that seeding takes
	// seconds (the store commits concurrent writes together). Zero means 16.
	Workers int
}

// Summary is what was seeded.
type Summary struct {
	// Skipped is set when the school was seeded before: nothing changed.
	Skipped      bool
	CampaignID   string
	CampaignName string
	Classes      int
	Pupils       int
	Submitted    int
	Absent       int
	Abandoned    int
	Careless     int
	// Invalid counts results flagged by their document's validity checks
	// (the straight-liners' PSS-10).
	Invalid int
	// Warnings counts queue entries by level (index 1..3) and States by state.
	Warnings [4]int
	States   map[store.WarningState]int
	Cases    []string
	// Referrals are the entries sent up to the county centre.
	Referrals []string
	// Conference is the pupil whose case the school brings to a case
	// conference (研判): see recordConference.
	Conference FocusPupil
}

// FocusPupil names a pupil of the focus list with their entry and case.
type FocusPupil struct {
	PersonID, WarningID, CaseID string
}

// campaignName is the screening's name in the term that began in schoolYear.
func campaignName(schoolYear int) string {
	return fmt.Sprintf("%d年秋季学期心理健康普测", schoolYear)
}

// cst is China Standard Time, the school's clock (no tzdata needed).
var cst = time.FixedZone("CST", 8*3600)

// School seeds the screening, once: when the school already has it, it
// returns Skipped. lib must hold the battery's instruments.
func School(ctx context.Context, st store.Store, lib *engine.Library, opt Options) (*Summary, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	school, err := st.GetUnit(ctx, opt.SchoolID)
	if err != nil {
		return nil, fmt.Errorf("demo school %s: %w", opt.SchoolID, err)
	}
	local := opt.Now.In(cst)
	schoolYear := local.Year()
	if local.Month() < time.September {
		schoolYear--
	}
	sum := &Summary{CampaignName: campaignName(schoolYear), States: map[store.WarningState]int{}}
	existing, _, err := st.ListCampaigns(ctx, store.CampaignFilter{UnitPath: school.Path}, store.Page{Limit: store.DefaultLimit})
	if err != nil {
		return nil, err
	}
	for _, cp := range existing {
		if cp.Name == sum.CampaignName && cp.UnitID == school.ID {
			sum.Skipped, sum.CampaignID = true, cp.ID
			return sum, nil
		}
	}

	// The week: the screening runs Monday to Wednesday of last week, one
	// grade a day, and the follow-up fills the rest of that week, so all
	// of it is over before today whatever weekday today is. The campaign
	// stays open for make-up sittings (补测) until a week from today, so
	// that absent pupils can still sit it and an invalid sitting can be
	// given a retake.
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst)
	monday := today.AddDate(0, 0, -int((today.Weekday()+6)%7)-7)
	s := &seeder{st: st, lib: lib, school: school, monday: monday, endsAt: today.AddDate(0, 0, 7).Add(18 * time.Hour),
		psych: principal(opt.Psychologist), centre: principal(opt.Centre), sum: sum, now: opt.Now}
	if opt.Station.ID != "" {
		s.station = principal(opt.Station)
	}
	pupils := plan(Seed, schoolYear)
	if err := s.setUp(ctx, pupils); err != nil {
		return nil, err
	}
	if err := s.answerAll(ctx, pupils, opt.Workers); err != nil {
		return nil, err
	}
	if err := s.followUp(ctx, pupils); err != nil {
		return nil, err
	}
	return sum, s.count(ctx)
}

func principal(s store.Staff) *assess.Principal {
	return &assess.Principal{StaffID: s.ID, Login: s.Login, Name: s.Name, Role: s.Role, UnitID: s.UnitID, UnitPath: s.UnitPath}
}

type seeder struct {
	st            store.Store
	lib           *engine.Library
	school        store.Unit
	monday        time.Time
	endsAt        time.Time // the end of the make-up sittings
	psych, centre *assess.Principal
	station       *assess.Principal // nil without Options.Station
	now           time.Time
	sum           *Summary
	campaign      store.Campaign
	codes         map[string]string // person id → personal code
	persons       map[string]string // student number → person id
}

// services are the API's services on a clock the seeder sets.
func (s *seeder) services() (*assess.Services, *clock) {
	clk := &clock{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return assess.New(s.st, s.lib, assess.Options{Now: clk.Now, Log: quiet}), clk
}

// at is a time of the seeded week: day 0 is Monday.
func (s *seeder) at(day int, hour, minute int) time.Time {
	return s.monday.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

var gradeNames = map[int]string{7: "七年级", 8: "八年级", 9: "九年级"}
var classNumerals = []string{"", "一", "二", "三", "四"}

// setUp adds the grades and classes, imports the roster, and creates,
// fills and activates the campaign, as the psychologist does the week
// before.
func (s *seeder) setUp(ctx context.Context, pupils []pupil) error {
	for grade := 7; grade <= 9; grade++ {
		g := store.Unit{ID: fmt.Sprintf("demo-grade%d", grade), ParentID: s.school.ID, Kind: "grade", Name: gradeNames[grade]}
		if _, err := s.st.CreateUnit(ctx, g); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		for class := 1; class <= 4; class++ {
			u := store.Unit{ID: classUnitID(grade, class), ParentID: g.ID, Kind: "class", Name: gradeNames[grade] + classNumerals[class] + "班"}
			if _, err := s.st.CreateUnit(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			s.sum.Classes++
		}
	}
	svc, clk := s.services()
	clk.Set(s.at(-5, 16, 10)) // the Wednesday before
	var csv strings.Builder
	csv.WriteString("学号,姓名,性别,出生年月,班级\n")
	for _, p := range pupils {
		fmt.Fprintf(&csv, "%s,%s,%s,%s,%s\n", p.no, p.name, p.sex, p.birthMonth, p.classID())
	}
	if _, err := svc.Campaigns.ImportRoster(ctx, s.psych, s.school.ID, "全校学生名单.csv", strings.NewReader(csv.String()), false, ""); err != nil {
		return fmt.Errorf("demo roster: %w", err)
	}
	s.sum.Pupils = len(pupils)
	people, err := collect(func(pg store.Page) ([]store.Person, string, error) {
		return s.st.ListPersons(ctx, store.PersonFilter{SchoolID: s.school.ID}, pg)
	})
	if err != nil {
		return err
	}
	s.persons = map[string]string{}
	for _, person := range people {
		s.persons[string(person.StudentNo)] = person.ID
	}
	grades := []string{"demo-grade7", "demo-grade8", "demo-grade9"}
	clk.Set(s.at(-5, 16, 30))
	cp, err := svc.Campaigns.Create(ctx, s.psych, assess.NewCampaign{Name: s.sum.CampaignName, UnitID: s.school.ID, UnitIDs: grades,
		Battery: Battery, Mode: "roster", Visibility: "thanks", StartsAt: s.at(0, 7, 30), EndsAt: s.endsAt})
	if err != nil {
		return fmt.Errorf("demo screening: %w", err)
	}
	issued, err := svc.Campaigns.IssuePersonalCodes(ctx, s.psych, cp.ID)
	if err != nil {
		return err
	}
	s.codes = map[string]string{}
	for _, ac := range issued {
		s.codes[ac.PersonID] = ac.Code
	}
	clk.Set(s.at(-4, 9, 0))
	if s.campaign, err = svc.Campaigns.SetState(ctx, s.psych, cp.ID, store.CampaignActive); err != nil {
		return err
	}
	s.sum.CampaignID = cp.ID
	return nil
}

// classPeriods are when each class of a grade sits in the computer room.
var classPeriods = [5][2]int{{}, {8, 0}, {9, 0}, {10, 20}, {14, 30}}

// answerAll has every pupil who came answer their battery in their
// class's period of their grade's day, each worker with its own clock.
func (s *seeder) answerAll(ctx context.Context, pupils []pupil, workers int) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc, clk := s.services()
			for i := range jobs {
				if err := s.answer(ctx, svc, clk, pupils[i], i); err != nil {
					errs <- err
					for range jobs { // drain, so the sender finishes
					}
					return
				}
			}
		}()
	}
	for i := range pupils {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for _, p := range pupils {
		switch {
		case p.attend == absent:
			s.sum.Absent++
		case p.attend == abandoned:
			s.sum.Abandoned++
		default:
			s.sum.Submitted++
			if p.style != careful {
				s.sum.Careless++
			}
		}
	}
	return <-errs // nil once closed and empty
}

// answer takes one pupil through their session: enter the code, answer
// the PHQ-9, the GAD-7 then the PSS-10 (a save per instrument, as the H5
// page batches them), submit. The notification dispatcher then does with the warning
// what a running server's would have done at that moment (here: record
// that no unit up the tree has notification settings), so that starting
// the server later does not work through a week of old warnings.
func (s *seeder) answer(ctx context.Context, svc *assess.Services, clk *clock, p pupil, i int) error {
	sessions := svc.Sessions
	if p.attend == absent {
		return nil
	}
	code := s.codes[s.persons[p.no]]
	if code == "" {
		return fmt.Errorf("demo pupil %s has no personal code", p.no)
	}
	// Pupils log in over the first minutes of the period; jitter comes
	// from their index, so it is the same every run.
	period := classPeriods[p.class]
	start := s.at(p.grade-7, period[0], period[1]).Add(time.Duration(i*37%300) * time.Second)
	phqTime, gadTime := time.Duration(100+i*53%160)*time.Second, time.Duration(70+i*29%110)*time.Second
	pssTime := time.Duration(90+i*41%120) * time.Second // ten longer questions
	if p.style == hurried {
		phqTime, gadTime = time.Duration(14+i%9)*time.Second, time.Duration(9+i%7)*time.Second
		pssTime = time.Duration(11+i%8) * time.Second
	}
	clk.Set(start)
	v, err := sessions.Create(ctx, assess.CreateRequest{Code: code, Consent: true, Locale: "zh-CN"}, "zh-CN")
	if err != nil {
		return fmt.Errorf("demo pupil %s: %w", p.no, err)
	}
	var seq int64
	batch := func(inst string, values []int) []assess.AnswerInput {
		out := make([]assess.AnswerInput, len(values))
		for k, val := range values {
			seq++
			out[k] = assess.AnswerInput{Item: fmt.Sprintf("%s.q%d", inst, k+1), Value: float64(val), Seq: seq}
		}
		return out
	}
	phq := batch("phq9", p.phq9[:])
	if p.attend == abandoned {
		phq = phq[:4] // the bell rang
	}
	clk.Add(phqTime)
	if _, err := sessions.SaveAnswers(ctx, v.ID, v.Token, phq); err != nil {
		return fmt.Errorf("demo pupil %s: %w", p.no, err)
	}
	if p.attend == abandoned {
		return nil
	}
	clk.Add(gadTime)
	if _, err := sessions.SaveAnswers(ctx, v.ID, v.Token, batch("gad7", p.gad7[:])); err != nil {
		return fmt.Errorf("demo pupil %s: %w", p.no, err)
	}
	clk.Add(pssTime)
	if _, err := sessions.SaveAnswers(ctx, v.ID, v.Token, batch("pss10", p.pss10[:])); err != nil {
		return fmt.Errorf("demo pupil %s: %w", p.no, err)
	}
	clk.Add(3 * time.Second)
	if _, err := sessions.Submit(ctx, v.ID, v.Token, "zh-CN"); err != nil {
		return fmt.Errorf("demo pupil %s: %w", p.no, err)
	}
	clk.Add(time.Second)
	if _, err := svc.Dispatcher.DispatchOnce(ctx); err != nil {
		return fmt.Errorf("demo notifications: %w", err)
	}
	return nil
}

// count fills the summary's queue and validity figures from the store.
func (s *seeder) count(ctx context.Context) error {
	rs, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return s.st.ListResults(ctx, store.ResultFilter{CampaignID: s.campaign.ID}, pg)
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		if assess.Invalid(r.Flags) {
			s.sum.Invalid++
		}
	}
	ws, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return s.st.ListWarnings(ctx, store.WarningFilter{UnitPath: s.school.Path}, pg)
	})
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.SessionID == "" || !s.ofCampaign(ctx, w) {
			continue
		}
		s.sum.Warnings[w.Level]++
		s.sum.States[w.State]++
	}
	return nil
}

func (s *seeder) ofCampaign(ctx context.Context, w store.Warning) bool {
	sess, err := s.st.GetSession(ctx, w.SessionID)
	return err == nil && sess.CampaignID == s.campaign.ID
}

// collect reads every page of a list.
func collect[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	pg := store.Page{Limit: 500}
	for {
		items, next, err := list(pg)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		pg.After = next
	}
}

// clock is the services' time, set by the seeder.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sortedBy orders entries by their pupil's student number, so that the
// follow-up picks the same pupils every run whatever ids the store gave.
func sortedBy(ws []store.Warning, no map[string]string) {
	sort.Slice(ws, func(i, j int) bool { return no[ws[i].PersonID] < no[ws[j].PersonID] })
}

// Library compiles the built-in documents the screening uses (and the ASQ,
// which the PHQ-9's item 9 names as its follow-up), without running their
// test vectors: `xinling scales test` and every server start check those,
// and loading the whole library with them would take most of the seed's
// time budget. Scoring is the same engine either way.
func Library() (*engine.Library, error) {
	lib := engine.NewLibrary()
	for _, name := range []string{"phq9.yaml", "gad7.yaml", "pss10.yaml", "asq.yaml"} {
		data, err := scales.FS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		in, err := engine.Compile(name, data)
		if err != nil {
			return nil, err
		}
		if err := lib.Add(in); err != nil {
			return nil, err
		}
	}
	return lib, nil
}
