package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
)

const (
	sessionCookie = "xinling_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "principal"
)

// staffAPI serves the console: sign-in, accounts and the org tree.
type staffAPI struct {
	staff        *assess.Staff
	cookieSecure bool
}

// requireStaff authenticates the session cookie and, for anything that
// changes state, the anti-forgery header. With a one-time password only
// the password change gets through.
func (s staffAPI) requireStaff(c *fiber.Ctx) error {
	p, err := s.staff.Authenticate(c.UserContext(), c.Cookies(sessionCookie))
	if err != nil {
		return err
	}
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && c.Get(csrfHeader) != p.CSRF() {
		return &assess.Error{Code: assess.CodeCSRF, Message: "missing or wrong " + csrfHeader + " header"}
	}
	if p.MustChangePassword && c.Path() != "/api/v1/auth/password" && c.Path() != "/api/v1/auth/me" && c.Path() != "/api/v1/auth/logout" {
		return &assess.Error{Code: assess.CodeMustChange, Message: "choose your own password before anything else"}
	}
	c.Locals(principalKey, p)
	return c.Next()
}

func principalOf(c *fiber.Ctx) *assess.Principal { return c.Locals(principalKey).(*assess.Principal) }

type loginRequest struct {
	Login    string `json:"login" validate:"required,max=64"`
	Password string `json:"password" validate:"required,max=256"`
}

type staffView struct {
	ID                 string `json:"id"`
	Login              string `json:"login"`
	Name               string `json:"name"`
	Role               string `json:"role"`
	UnitID             string `json:"unit_id"`
	MustChangePassword bool   `json:"must_change_password"`
	// Disabled accounts cannot sign in; the list shows them so an admin
	// knows which of Disable and Enable applies.
	Disabled bool `json:"disabled"`
	// Permissions granted beyond the role (edit_instruments).
	Permissions []string `json:"permissions"`
	// RootAdmin: an administrator of the tree's root, who alone changes
	// the public self-test catalogue.
	RootAdmin bool `json:"root_admin,omitempty"`
}

func viewOfPrincipal(p *assess.Principal) staffView {
	perms := p.Permissions
	if p.Role == store.RoleAdmin {
		perms = assess.Grantable // an administrator holds them all
	}
	return staffView{ID: p.StaffID, Login: p.Login, Name: p.Name, Role: string(p.Role), UnitID: p.UnitID, MustChangePassword: p.MustChangePassword,
		Permissions: orEmpty(perms), RootAdmin: p.IsRootAdmin()}
}

func viewOfStaff(s store.Staff) staffView {
	return staffView{ID: s.ID, Login: s.Login, Name: s.Name, Role: string(s.Role), UnitID: s.UnitID, MustChangePassword: s.MustChangePassword,
		Disabled: s.Disabled, Permissions: orEmpty(s.Permissions)}
}

func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

type permissionsRequest struct {
	Permissions []string `json:"permissions" validate:"max=8,dive,required,max=64"`
}

func (s staffAPI) setPermissions(c *fiber.Ctx) error {
	var req permissionsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	st, err := s.staff.SetPermissions(c.UserContext(), principalOf(c), c.Params("id"), req.Permissions, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"staff": viewOfStaff(st)})
}

func (s staffAPI) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	token, p, err := s.staff.Login(c.UserContext(), req.Login, req.Password, c.IP())
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: s.cookieSecure || c.Secure()})
	return c.JSON(fiber.Map{"staff": viewOfPrincipal(p), "csrf": p.CSRF()})
}

func (s staffAPI) logout(c *fiber.Ctx) error {
	if err := s.staff.Logout(c.UserContext(), principalOf(c), c.IP()); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Expires: time.Unix(0, 0), Secure: s.cookieSecure || c.Secure()})
	return c.JSON(fiber.Map{"ok": true})
}

func (s staffAPI) me(c *fiber.Ctx) error {
	p := principalOf(c)
	return c.JSON(fiber.Map{"staff": viewOfPrincipal(p), "csrf": p.CSRF()})
}

type passwordRequest struct {
	OldPassword string `json:"old_password" validate:"required,max=256"`
	NewPassword string `json:"new_password" validate:"required,max=256"`
}

func (s staffAPI) changePassword(c *fiber.Ctx) error {
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.staff.ChangePassword(c.UserContext(), principalOf(c), req.OldPassword, req.NewPassword, c.IP()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true})
}

type newStaffRequest struct {
	Login  string `json:"login" validate:"required,max=64"`
	Name   string `json:"name" validate:"required,max=64"`
	Role   string `json:"role" validate:"required"`
	UnitID string `json:"unit_id" validate:"required,max=64"`
}

func (s staffAPI) createAccount(c *fiber.Ctx) error {
	var req newStaffRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	st, otp, err := s.staff.CreateAccount(c.UserContext(), principalOf(c),
		assess.NewStaffRequest{Login: req.Login, Name: req.Name, Role: store.Role(req.Role), UnitID: req.UnitID}, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"staff": viewOfStaff(st), "one_time_password": otp})
}

func (s staffAPI) listAccounts(c *fiber.Ctx) error {
	list, next, err := s.staff.ListAccounts(c.UserContext(), principalOf(c), page(c))
	if err != nil {
		return err
	}
	views := make([]staffView, len(list))
	for i, st := range list {
		views[i] = viewOfStaff(st)
	}
	return c.JSON(fiber.Map{"staff": views, "next": next})
}

func (s staffAPI) resetPassword(c *fiber.Ctx) error {
	otp, err := s.staff.ResetPassword(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"one_time_password": otp})
}

type unitView struct {
	ID       string `json:"id"`
	ParentID string `json:"parent_id,omitempty"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Path     string `json:"path"`
}

func viewOfUnit(u store.Unit) unitView {
	return unitView{ID: u.ID, ParentID: u.ParentID, Kind: u.Kind, Name: u.Name, Path: u.Path}
}

func (s staffAPI) units(c *fiber.Ctx) error {
	list, err := s.staff.Units(c.UserContext(), principalOf(c))
	if err != nil {
		return err
	}
	views := make([]unitView, len(list))
	for i, u := range list {
		views[i] = viewOfUnit(u)
	}
	return c.JSON(fiber.Map{"units": views})
}

type newUnitRequest struct {
	ID       string `json:"id" validate:"required,max=64"`
	ParentID string `json:"parent_id" validate:"required,max=64"`
	Kind     string `json:"kind" validate:"required"`
	Name     string `json:"name" validate:"required,max=128"`
}

func (s staffAPI) createUnit(c *fiber.Ctx) error {
	var req newUnitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.staff.CreateUnit(c.UserContext(), principalOf(c), store.Unit{ID: req.ID, ParentID: req.ParentID, Kind: req.Kind, Name: req.Name}, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"unit": viewOfUnit(u)})
}

type auditView struct {
	At         time.Time `json:"at"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetKind string    `json:"target_kind"`
	TargetID   string    `json:"target_id"`
	IP         string    `json:"ip"`
	Detail     string    `json:"detail,omitempty"`
}

func (s staffAPI) audit(c *fiber.Ctx) error {
	f := store.AuditFilter{ActorID: c.Query("actor"), TargetID: c.Query("target"), TargetKind: c.Query("target_kind"), Action: c.Query("action")}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return &assess.Error{Code: assess.CodeValidation, Field: name, Message: name + " must be a time such as 2026-11-01T00:00:00+08:00"}
			}
			*dst = t
		}
	}
	list, next, err := s.staff.Audit(c.UserContext(), principalOf(c), f, page(c))
	if err != nil {
		return err
	}
	views := make([]auditView, len(list))
	for i, e := range list {
		views[i] = auditView{At: e.At, ActorID: e.ActorID, Action: e.Action, TargetKind: e.TargetKind, TargetID: e.TargetID, IP: e.IP, Detail: e.Detail}
	}
	return c.JSON(fiber.Map{"entries": views, "next": next})
}

// page reads ?after= and ?limit= for cursor pagination.
func page(c *fiber.Ctx) store.Page {
	return store.Page{After: c.Query("after"), Limit: c.QueryInt("limit", store.DefaultLimit)}
}

// summary is the anonymous picture of a unit, for every staff role.
func (s staffAPI) summary(c *fiber.Ctx) error {
	sum, err := s.staff.Summary(c.UserContext(), principalOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(sum)
}

type renameUnitRequest struct {
	Name string `json:"name" validate:"required,max=128"`
	Kind string `json:"kind" validate:"required"`
}

func (s staffAPI) renameUnit(c *fiber.Ctx) error {
	var req renameUnitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.staff.RenameUnit(c.UserContext(), principalOf(c), c.Params("id"), req.Name, req.Kind, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unit": viewOfUnit(u)})
}

func (s staffAPI) setDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, err := s.staff.SetDisabled(c.UserContext(), principalOf(c), c.Params("id"), disabled, c.IP())
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"staff": viewOfStaff(st), "disabled": st.Disabled})
	}
}
