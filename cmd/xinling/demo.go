package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"xinling/assess"
	"xinling/engine"
	"xinling/internal/demoseed"
	"xinling/store"
)

// demoTree is a small org tree with one unit of each level that matters.
var demoTree = []store.Unit{
	{ID: "demo-city", Kind: "city", Name: "示范市"},
	{ID: "demo-county", ParentID: "demo-city", Kind: "county", Name: "示范区心理健康中心"},
	{ID: "demo-street", ParentID: "demo-county", Kind: "street", Name: "示范街道"},
	{ID: "demo-station", ParentID: "demo-street", Kind: "station", Name: "示范街道心灵驿站"},
	{ID: "demo-community", ParentID: "demo-street", Kind: "community", Name: "示范社区"},
	{ID: "demo-school", ParentID: "demo-county", Kind: "school", Name: "示范中学"},
	{ID: "demo-grade7", ParentID: "demo-school", Kind: "grade", Name: "七年级"},
	{ID: "demo-class7-1", ParentID: "demo-grade7", Kind: "class", Name: "七年级一班"},
}

var demoAccounts = []assess.NewStaffRequest{
	{Login: "demo-admin", Name: "示范管理员", Role: store.RoleAdmin, UnitID: "demo-city"},
	{Login: "demo-centre", Name: "区中心咨询师", Role: store.RoleCounsellor, UnitID: "demo-county"},
	{Login: "demo-station", Name: "驿站咨询师", Role: store.RoleCounsellor, UnitID: "demo-station"},
	{Login: "demo-psych", Name: "学校心理老师", Role: store.RoleSchoolPsychologist, UnitID: "demo-school"},
	{Login: "demo-teacher", Name: "班主任", Role: store.RoleTeacher, UnitID: "demo-class7-1"},
}

// demoCommand seeds the demo tree and accounts, or gives the existing demo
// accounts fresh one-time passwords, and prints how to sign in.
func demoCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	env := &envDefaults{fs: fs}
	sf := addStoreFlags(env)
	students := fs.Int("students", 0, "also run a school screening for this many pupils in 示范中学 (for `xinling loadtest --codes`)")
	perClass := fs.Int("class-size", 50, "pupils per class of the screening")
	battery := fs.String("battery", "phq9,gad7,asq", "the screening's instruments, comma-separated")
	codesOut := fs.String("codes-out", "", "write the pupils' personal access codes here, one per line (needs --students)")
	school := fs.Bool("school", false, "also seed last week's screening of 示范中学 (about 600 pupils in 12 classes, PHQ-9, GAD-7 and PSS-10, a week of follow-up), once; `make run` sets it")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if *students < 0 || *perClass < 1 || (*codesOut != "" && *students == 0) {
		return usagef("--students must not be negative, --class-size must be positive, and --codes-out needs --students")
	}
	ctx := context.Background()
	st, where, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, u := range demoTree {
		if _, err := st.CreateUnit(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("demo unit %s: %w", u.ID, err)
		}
	}
	// The screenings' batteries need the instruments; accounts alone do not.
	var lib *engine.Library
	switch {
	case *students > 0:
		lib, err = builtins()
	case *school:
		lib, err = demoseed.Library() // only the battery: the whole library takes seconds to check
	}
	if err != nil {
		return err
	}
	svc := assess.New(st, lib, assess.Options{})
	staff := svc.Staff
	fmt.Fprintf(stdout, "Demo accounts (store: %s). Sign in at the console (/console/ on the server); each one-time password must be replaced at first sign-in:\n", where)
	for _, a := range demoAccounts {
		_, otp, err := staff.CreateByOperator(ctx, a)
		if isCode(err, assess.CodeConflict) {
			otp, err = staff.ResetByOperator(ctx, a.Login)
		}
		if err != nil {
			return fmt.Errorf("demo account %s: %w", a.Login, err)
		}
		fmt.Fprintf(stdout, "  %-14s %-36s %s\n", a.Login, string(a.Role)+" @ "+a.UnitID, otp)
	}
	if *school {
		if err := seedSchool(ctx, st, lib, stdout); err != nil {
			return err
		}
	}
	if *students == 0 {
		return nil
	}
	cp, codes, err := seedScreening(ctx, st, svc.Campaigns, *students, *perClass, strings.Split(*battery, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Screening %q (%s): %d pupils in %d classes of 八年级, battery %s, active for 7 days.\n",
		cp.Name, cp.ID, len(codes), (len(codes)+*perClass-1) / *perClass, *battery)
	if *codesOut != "" {
		if err := os.WriteFile(*codesOut, []byte(strings.Join(codes, "\n")+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Personal access codes: %s (xinling loadtest --codes %s)\n", *codesOut, *codesOut)
	}
	return nil
}

// seedScreening sets up a whole-school screening the way a school
// psychologist would, through the same services as the API: classes of
// 八年级 under the demo school, a roster of synthetic pupils, a roster-mode
// campaign, one personal code per pupil, activated. Running it again
// updates the same pupils and starts a new campaign with new codes.
func seedScreening(ctx context.Context, st store.Store, campaigns *assess.Campaigns, students, perClass int, battery []string) (store.Campaign, []string, error) {
	grade := store.Unit{ID: "demo-grade8", ParentID: "demo-school", Kind: "grade", Name: "八年级"}
	if _, err := st.CreateUnit(ctx, grade); err != nil && !errors.Is(err, store.ErrConflict) {
		return store.Campaign{}, nil, err
	}
	classes := (students + perClass - 1) / perClass
	for c := 1; c <= classes; c++ {
		u := store.Unit{ID: fmt.Sprintf("demo-class8-%d", c), ParentID: grade.ID, Kind: "class", Name: fmt.Sprintf("八年级%d班", c)}
		if _, err := st.CreateUnit(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
			return store.Campaign{}, nil, err
		}
	}
	var csv strings.Builder
	csv.WriteString("学号,姓名,性别,出生年月,班级\n")
	for i := 0; i < students; i++ {
		sex := "男"
		if i%2 == 1 {
			sex = "女"
		}
		fmt.Fprintf(&csv, "D8%05d,学生%05d,%s,2012-%02d,八年级%d班\n", i+1, i+1, sex, i%12+1, i/perClass+1)
	}
	school, err := st.GetUnit(ctx, "demo-school")
	if err != nil {
		return store.Campaign{}, nil, err
	}
	// The command line stands in for the school's psychologist; the audit
	// log names it as the actor.
	p := &assess.Principal{StaffID: "cli:demo", Login: "xinling demo", Role: store.RoleSchoolPsychologist, UnitID: school.ID, UnitPath: school.Path}
	now := time.Now()
	if _, err := campaigns.ImportRoster(ctx, p, school.ID, "demo-roster.csv", strings.NewReader(csv.String()), false, ""); err != nil {
		return store.Campaign{}, nil, fmt.Errorf("demo roster: %w", err)
	}
	cp, err := campaigns.Create(ctx, p, assess.NewCampaign{Name: "八年级心理筛查（示范）" + now.Format(" 01-02 15:04"), UnitID: school.ID,
		UnitIDs: []string{grade.ID}, Battery: battery, Mode: "roster", Visibility: "thanks", StartsAt: now.Add(-time.Minute), EndsAt: now.Add(7 * 24 * time.Hour)})
	if err != nil {
		return store.Campaign{}, nil, fmt.Errorf("demo screening: %w", err)
	}
	issued, err := campaigns.IssuePersonalCodes(ctx, p, cp.ID)
	if err != nil {
		return store.Campaign{}, nil, err
	}
	if cp, err = campaigns.SetState(ctx, p, cp.ID, store.CampaignActive); err != nil {
		return store.Campaign{}, nil, err
	}
	codes := make([]string, len(issued))
	for i, ac := range issued {
		codes[i] = ac.Code
	}
	return cp, codes, nil
}

// seedSchool gives 示范中学 its screening of last week (internal/demoseed),
// followed up by demo-psych and demo-centre (demo-station records its
// outreach), unless it has it already.
func seedSchool(ctx context.Context, st store.Store, lib *engine.Library, stdout io.Writer) error {
	psych, err := st.GetStaffByLogin(ctx, "demo-psych")
	if err != nil {
		return err
	}
	centre, err := st.GetStaffByLogin(ctx, "demo-centre")
	if err != nil {
		return err
	}
	station, err := st.GetStaffByLogin(ctx, "demo-station")
	if err != nil {
		return err
	}
	sum, err := demoseed.School(ctx, st, lib, demoseed.Options{SchoolID: "demo-school", Psychologist: psych, Centre: centre, Station: station})
	if err != nil {
		return fmt.Errorf("demo school: %w", err)
	}
	if sum.Skipped {
		fmt.Fprintf(stdout, "Screening %q of 示范中学 is already there; left as it is.\n", sum.CampaignName)
		return nil
	}
	fmt.Fprintf(stdout, "Screening %q of 示范中学 (sat last week, open for make-up sittings): %d pupils in %d classes, %d submitted, %d absent, %d left part-way; %d invalid results.\n",
		sum.CampaignName, sum.Pupils, sum.Classes, sum.Submitted, sum.Absent, sum.Abandoned, sum.Invalid)
	fmt.Fprintf(stdout, "  queue: %d level-1, %d level-2, %d level-3 entries (%d open, %d claimed, %d following up, %d referred, %d closed); %d cases, %d referrals to 区中心.\n",
		sum.Warnings[1], sum.Warnings[2], sum.Warnings[3], sum.States[store.WarningOpen], sum.States[store.WarningClaimed],
		sum.States[store.WarningFollowingUp], sum.States[store.WarningReferred], sum.States[store.WarningClosed], len(sum.Cases), len(sum.Referrals))
	return nil
}

func isCode(err error, code string) bool {
	var ae *assess.Error
	return errors.As(err, &ae) && ae.Code == code
}
