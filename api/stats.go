package api

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// statsAPI serves the monthly service statistics and outreach records.
type statsAPI struct {
	stats *assess.Stats
}

func registerStats(v1 fiber.Router, auth fiber.Handler, s statsAPI) {
	v1.Get("/stats/monthly", auth, s.monthly)
	v1.Get("/stats/monthly.xlsx", auth, s.monthlyXLSX)
	v1.Post("/activities", auth, s.addActivity)
}

func (s statsAPI) table(c *fiber.Ctx) (*assess.Monthly, error) {
	month := c.Query("month")
	if month == "" {
		month = time.Now().Format("2006-01")
	}
	return s.stats.Monthly(c.UserContext(), principalOf(c), c.Query("unit"), month)
}

func (s statsAPI) monthly(c *fiber.Ctx) error {
	m, err := s.table(c)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// monthlyHeader is the table's layout, as the stations' paper form has it.
var monthlyHeader = []string{"单位", "辅导人次数", "宣传活动次数", "宣传覆盖人数", "讲座次数", "讲座参加人数", "义诊次数", "义诊参加人数",
	"发放资料份数", "完成测评人次", "一级预警", "二级预警", "三级预警", "转介人次", "结案个案数",
	"个案研判次数", "家校沟通次数"}

func (s statsAPI) monthlyXLSX(c *fiber.Ctx) error {
	m, err := s.table(c)
	if err != nil {
		return err
	}
	w := workbook{filename: fmt.Sprintf("monthly-%s-%s.xlsx", m.UnitID, m.Month), sheet: "月统计表",
		title: fmt.Sprintf("心理健康服务情况月统计表（%s）", m.Month), header: monthlyHeader}
	for _, r := range append(m.Rows, m.Total) {
		w.rows = append(w.rows, []any{r.Name, r.CounsellingCases, r.PublicityEvents, r.PublicityReached, r.Lectures, r.LectureAttendees, r.Clinics,
			r.ClinicAttendees, r.Materials, r.Assessments, r.WarningsByLevel["1"], r.WarningsByLevel["2"], r.WarningsByLevel["3"], r.Referrals, r.CasesClosed,
			r.Conferences, r.ParentMeetings})
	}
	if err := s.stats.AuditExport(c.UserContext(), principalOf(c), "monthly_stats", m.UnitID, c.IP()); err != nil {
		return err
	}
	return w.send(c)
}

type activityRequest struct {
	UnitID    string    `json:"unit_id" validate:"required,max=64"`
	Date      time.Time `json:"date" validate:"required"`
	Type      string    `json:"type" validate:"required,oneof=publicity lecture clinic"`
	Reached   int       `json:"reached" validate:"gte=0,lte=1000000"`
	Materials int       `json:"materials" validate:"gte=0,lte=1000000"`
	Note      string    `json:"note" validate:"max=2000"`
}

func (s statsAPI) addActivity(c *fiber.Ctx) error {
	var req activityRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	a, err := s.stats.AddActivity(c.UserContext(), principalOf(c), assess.NewActivity{UnitID: req.UnitID, Date: req.Date, Type: req.Type,
		Reached: req.Reached, Materials: req.Materials, Note: req.Note})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"activity": fiber.Map{"id": a.ID, "unit_id": a.UnitID, "date": a.Date, "type": a.Type}})
}
