package assess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"xinling/store"
)

// Error codes of the staff side.
const (
	CodeUnauthenticated = "unauthenticated"
	CodeLoginFailed     = "login_failed"
	CodeAccountLocked   = "account_locked"
	CodeForbidden       = "forbidden"
	CodeCSRF            = "csrf_failed"
	CodeMustChange      = "password_change_required"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
)

// AuthConfig holds the staff side's settings (Options.Auth).
type AuthConfig struct {
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// MaxFailures wrong passwords in a row lock an account for LockFor.
	MaxFailures int
	LockFor     time.Duration
	// Hashing is the cost of new password hashes; zero fields take
	// DefaultPasswordHashing's. Tests that sign in hundreds of times lower it.
	Hashing PasswordHashing
}

// Principal is a signed-in staff member: who, with which role, over which
// subtree. Every staff operation takes one and filters by its scope.
type Principal struct {
	StaffID  string
	Login    string
	Name     string
	Role     store.Role
	UnitID   string
	UnitPath string
	// MustChangePassword: only a password change is allowed.
	MustChangePassword bool
	// Permissions granted beyond the role (store.PermEditInstruments).
	Permissions []string
	loginID     string
	csrf        string
}

// CSRF is the session's anti-forgery token.
func (p *Principal) CSRF() string { return p.csrf }

// InScope reports whether a unit path lies in the principal's subtree.
func (p *Principal) InScope(path string) bool {
	return path != "" && strings.HasPrefix(path, p.UnitPath)
}

// Staff runs sign-in, accounts and the org tree.
type Staff struct {
	*shared
	cfg AuthConfig
	// dummyHash is checked against when a login name is unknown, so that
	// a wrong name takes as long as a wrong password. It is made at the
	// first such login, with the same cost as every other hash.
	dummyHash func() []byte
}

func newStaff(sh *shared, cfg AuthConfig) *Staff {
	hashing := cfg.Hashing
	return &Staff{shared: sh, cfg: cfg, dummyHash: sync.OnceValue(func() []byte { return hashing.hash("no account has this password") })}
}

func loginKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// audit records an action on accounts or the org tree; every one is done
// by the time it is audited (see AuditAction).
func (a *Staff) audit(ctx context.Context, actor, action, kind, target, path, ip, detail string) {
	a.auditAction(ctx, store.AuditEntry{ActorID: actor, Action: action, TargetKind: kind, TargetID: target, UnitPath: path, IP: ip, Detail: detail})
}

var errLoginFailed = errorf(CodeLoginFailed, "", "the login name or password is wrong")

// Login checks a password and starts a session. It returns the cookie
// token, shown once; only its hash is stored.
func (a *Staff) Login(ctx context.Context, login, password, ip string) (string, *Principal, error) {
	now := a.now()
	s, err := a.store.GetStaffByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		checkPassword(a.dummyHash(), password)
		a.audit(ctx, "", "login_failed", "staff", "", "", ip, "unknown login")
		return "", nil, errLoginFailed
	}
	if err != nil {
		return "", nil, err
	}
	if s.LockedUntil.After(now) {
		a.audit(ctx, s.ID, "login_failed", "staff", s.ID, s.UnitPath, ip, "locked")
		return "", nil, errorf(CodeAccountLocked, "", "too many wrong passwords: this account is locked until %s", s.LockedUntil.Local().Format("15:04"))
	}
	if s.Disabled || !checkPassword(s.PasswordHash, password) {
		if err := a.countFailure(ctx, s, now); err != nil {
			return "", nil, err
		}
		a.audit(ctx, s.ID, "login_failed", "staff", s.ID, s.UnitPath, ip, "wrong password")
		return "", nil, errLoginFailed
	}
	if s.FailedLogins > 0 {
		s.FailedLogins, s.UpdatedAt = 0, now
		if s, err = a.store.UpdateStaff(ctx, s); err != nil {
			return "", nil, err
		}
	}
	token, csrf := newToken(), newToken()
	l := store.Login{ID: loginKey(token), StaffID: s.ID, CSRF: csrf, IP: ip, CreatedAt: now, ExpiresAt: now.Add(a.cfg.SessionTTL)}
	if err := a.store.CreateLogin(ctx, l); err != nil {
		return "", nil, err
	}
	a.audit(ctx, s.ID, "login", "staff", s.ID, s.UnitPath, ip, "")
	return token, principal(s, l), nil
}

// countFailure adds one wrong password to the account and locks it at
// MaxFailures. Guesses sent in parallel all read the same count; if a
// lost version race were dropped, a burst of N guesses would count as one
// and the lockout would never come. So a conflict re-reads and retries.
func (a *Staff) countFailure(ctx context.Context, s store.Staff, now time.Time) error {
	for attempt := 0; ; attempt++ {
		s.FailedLogins++
		if s.FailedLogins >= a.cfg.MaxFailures {
			s.FailedLogins, s.LockedUntil = 0, now.Add(a.cfg.LockFor)
		}
		s.UpdatedAt = now
		_, err := a.store.UpdateStaff(ctx, s)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if attempt == 50 {
			// Every conflict is another writer's success, so this takes
			// 50 parallel guesses at once; the per-account rate limit in
			// front stops that long before.
			return nil
		}
		if s, err = a.store.GetStaff(ctx, s.ID); err != nil {
			return err
		}
		if s.LockedUntil.After(now) {
			return nil // a parallel guess has already locked it
		}
	}
}

func principal(s store.Staff, l store.Login) *Principal {
	return &Principal{StaffID: s.ID, Login: s.Login, Name: s.Name, Role: s.Role, UnitID: s.UnitID, UnitPath: s.UnitPath,
		MustChangePassword: s.MustChangePassword, Permissions: s.Permissions, loginID: l.ID, csrf: l.CSRF}
}

// Can reports whether the principal holds a permission. Administrators
// hold every permission within their scope.
func (p *Principal) Can(perm string) bool {
	return p.Role == store.RoleAdmin || slices.Contains(p.Permissions, perm)
}

// IsRootAdmin reports an administrator of a tree's root unit, the only
// one who may change what the public sees (the self-test catalogue).
func (p *Principal) IsRootAdmin() bool {
	return p.Role == store.RoleAdmin && strings.Count(p.UnitPath, "/") == 2
}

// Grantable lists the permissions an administrator may grant.
var Grantable = []string{store.PermEditInstruments}

// SetPermissions replaces a staff account's granted permissions. Only an
// administrator may, within their scope, and the change is audited.
func (a *Staff) SetPermissions(ctx context.Context, p *Principal, staffID string, perms []string, ip string) (store.Staff, error) {
	if err := requireAdmin(p); err != nil {
		return store.Staff{}, err
	}
	for _, perm := range perms {
		if !slices.Contains(Grantable, perm) {
			return store.Staff{}, errorf(CodeValidation, "permissions", "unknown permission %q", perm)
		}
	}
	s, err := a.store.GetStaff(ctx, staffID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(s.UnitPath)) {
		return store.Staff{}, errorf(CodeNotFound, "", "no staff account %q", staffID)
	}
	if err != nil {
		return store.Staff{}, err
	}
	s.Permissions, s.UpdatedAt = store.SortedSet(perms), a.now()
	if s, err = a.store.UpdateStaff(ctx, s); err != nil {
		return store.Staff{}, err
	}
	a.audit(ctx, p.StaffID, "account_permissions", "staff", s.ID, s.UnitPath, ip, strings.Join(s.Permissions, ","))
	return s, nil
}

// Authenticate turns a session cookie into a principal.
func (a *Staff) Authenticate(ctx context.Context, token string) (*Principal, error) {
	unauth := errorf(CodeUnauthenticated, "", "please sign in")
	if token == "" {
		return nil, unauth
	}
	l, err := a.store.GetLogin(ctx, loginKey(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauth
	}
	if err != nil {
		return nil, err
	}
	if !a.now().Before(l.ExpiresAt) {
		_ = a.store.DeleteLogin(ctx, l.ID)
		return nil, errorf(CodeUnauthenticated, "", "your sign-in has expired; please sign in again")
	}
	s, err := a.store.GetStaff(ctx, l.StaffID)
	if err != nil || s.Disabled {
		return nil, unauth
	}
	return principal(s, l), nil
}

// DeleteExpiredLogins removes the sign-ins past their lifetime. They
// can no longer be used, and each still holds the address it came from.
func (a *Staff) DeleteExpiredLogins(ctx context.Context) (int, error) {
	return a.store.DeleteExpiredLogins(ctx, a.now())
}

// RunLoginExpiry calls DeleteExpiredLogins every interval until ctx ends.
func (a *Staff) RunLoginExpiry(ctx context.Context, every time.Duration, log func(msg string, args ...any)) {
	runEvery(ctx, every, a.DeleteExpiredLogins, func(n int, err error) {
		if err != nil {
			log("deleting expired staff sign-ins", "err", err)
		}
	})
}

// Logout ends the principal's session.
func (a *Staff) Logout(ctx context.Context, p *Principal, ip string) error {
	if err := a.store.DeleteLogin(ctx, p.loginID); err != nil {
		return err
	}
	a.audit(ctx, p.StaffID, "logout", "staff", p.StaffID, p.UnitPath, ip, "")
	return nil
}

// ChangePassword replaces the principal's own password and signs out every
// other session of the account.
func (a *Staff) ChangePassword(ctx context.Context, p *Principal, old, new, ip string) error {
	s, err := a.store.GetStaff(ctx, p.StaffID)
	if err != nil {
		return err
	}
	if !checkPassword(s.PasswordHash, old) {
		a.audit(ctx, p.StaffID, "password_change_failed", "staff", p.StaffID, p.UnitPath, ip, "")
		return errorf(CodeLoginFailed, "old_password", "the current password is wrong")
	}
	if err := checkNewPassword(new); err != nil {
		return err
	}
	if new == old {
		return errorf(CodeValidation, "new_password", "choose a password different from the current one")
	}
	s.PasswordHash, s.MustChangePassword, s.UpdatedAt = a.cfg.Hashing.hash(new), false, a.now()
	if _, err := a.store.UpdateStaff(ctx, s); err != nil {
		return err
	}
	if err := a.endOtherSessions(ctx, p); err != nil {
		return err
	}
	a.audit(ctx, p.StaffID, "password_change", "staff", p.StaffID, p.UnitPath, ip, "")
	return nil
}

// endOtherSessions signs out every session of p's account but p's own.
func (a *Staff) endOtherSessions(ctx context.Context, p *Principal) error {
	l, err := a.store.GetLogin(ctx, p.loginID)
	if err != nil {
		return err
	}
	if _, err := a.store.DeleteLogins(ctx, p.StaffID); err != nil {
		return err
	}
	return a.store.CreateLogin(ctx, l)
}

// Roles lists the valid staff roles.
var Roles = []store.Role{store.RoleAdmin, store.RoleCounsellor, store.RoleSchoolPsychologist, store.RoleTeacher, store.RoleViewer}

// NewStaffRequest describes an account to create.
type NewStaffRequest struct {
	Login  string
	Name   string
	Role   store.Role
	UnitID string
}

// requireAdmin refuses anyone but an admin.
func requireAdmin(p *Principal) error {
	if p.Role != store.RoleAdmin {
		return errorf(CodeForbidden, "", "only an administrator may do this")
	}
	return nil
}

// unitInScope loads a unit, answering not found for one outside p's scope
// so that ids cannot be probed.
func (a *Staff) unitInScope(ctx context.Context, p *Principal, id, field string) (store.Unit, error) {
	u, err := a.store.GetUnit(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(u.Path)) {
		return store.Unit{}, errorf(CodeNotFound, field, "no unit %q", id)
	}
	return u, err
}

// CreateAccount adds a staff account in the admin's subtree and returns it
// with a one-time password that must be changed at first sign-in.
func (a *Staff) CreateAccount(ctx context.Context, p *Principal, req NewStaffRequest, ip string) (store.Staff, string, error) {
	if err := requireAdmin(p); err != nil {
		return store.Staff{}, "", err
	}
	if !slices.Contains(Roles, req.Role) {
		return store.Staff{}, "", errorf(CodeValidation, "role", "role must be one of admin, counsellor, school_psychologist, teacher, viewer")
	}
	if _, err := a.unitInScope(ctx, p, req.UnitID, "unit_id"); err != nil {
		return store.Staff{}, "", err
	}
	s, otp, err := a.create(ctx, req)
	if err != nil {
		return store.Staff{}, "", err
	}
	a.audit(ctx, p.StaffID, "account_create", "staff", s.ID, s.UnitPath, ip, fmt.Sprintf("role %s", s.Role))
	return s, otp, nil
}

func (a *Staff) create(ctx context.Context, req NewStaffRequest) (store.Staff, string, error) {
	otp := oneTimePassword()
	s, err := a.store.CreateStaff(ctx, store.Staff{ID: store.NewID(), Login: req.Login, Name: req.Name, Role: req.Role, UnitID: req.UnitID,
		PasswordHash: a.cfg.Hashing.hash(otp), MustChangePassword: true, CreatedAt: a.now()})
	if errors.Is(err, store.ErrConflict) {
		return store.Staff{}, "", errorf(CodeConflict, "login", "the login name %q is taken", req.Login)
	}
	return s, otp, err
}

// Bootstrap creates an admin without a signed-in principal, for the
// command line only: the first account of a fresh installation. The root
// unit is created if it does not exist.
func (a *Staff) Bootstrap(ctx context.Context, login, name, unitID, unitKind string) (store.Staff, string, error) {
	if _, err := a.store.GetUnit(ctx, unitID); errors.Is(err, store.ErrNotFound) {
		if _, err := a.store.CreateUnit(ctx, store.Unit{ID: unitID, Kind: unitKind, Name: name, CreatedAt: a.now()}); err != nil {
			return store.Staff{}, "", err
		}
	} else if err != nil {
		return store.Staff{}, "", err
	}
	s, otp, err := a.create(ctx, NewStaffRequest{Login: login, Name: name, Role: store.RoleAdmin, UnitID: unitID})
	if err != nil {
		return store.Staff{}, "", err
	}
	a.audit(ctx, "", "account_create", "staff", s.ID, s.UnitPath, "cli", "bootstrap admin")
	return s, otp, nil
}

// CreateByOperator creates an account from the command line, where the
// operator of the machine is trusted; the unit must exist.
func (a *Staff) CreateByOperator(ctx context.Context, req NewStaffRequest) (store.Staff, string, error) {
	if !slices.Contains(Roles, req.Role) {
		return store.Staff{}, "", errorf(CodeValidation, "role", "role must be one of admin, counsellor, school_psychologist, teacher, viewer")
	}
	if _, err := a.store.GetUnit(ctx, req.UnitID); errors.Is(err, store.ErrNotFound) {
		return store.Staff{}, "", errorf(CodeNotFound, "unit_id", "no unit %q", req.UnitID)
	} else if err != nil {
		return store.Staff{}, "", err
	}
	s, otp, err := a.create(ctx, req)
	if err != nil {
		return store.Staff{}, "", err
	}
	a.audit(ctx, "", "account_create", "staff", s.ID, s.UnitPath, "cli", fmt.Sprintf("role %s", s.Role))
	return s, otp, nil
}

// ResetByOperator gives an account a new one-time password from the
// command line (a forgotten admin password, the demo).
func (a *Staff) ResetByOperator(ctx context.Context, login string) (string, error) {
	s, err := a.store.GetStaffByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	return a.reissue(ctx, s, "", "cli")
}

// reissue gives an account a new one-time password, clears its lock and
// signs it out everywhere.
func (a *Staff) reissue(ctx context.Context, s store.Staff, actor, ip string) (string, error) {
	otp := oneTimePassword()
	s.PasswordHash, s.MustChangePassword, s.FailedLogins, s.LockedUntil, s.UpdatedAt = a.cfg.Hashing.hash(otp), true, 0, time.Time{}, a.now()
	if _, err := a.store.UpdateStaff(ctx, s); err != nil {
		return "", err
	}
	if _, err := a.store.DeleteLogins(ctx, s.ID); err != nil {
		return "", err
	}
	a.audit(ctx, actor, "password_reset", "staff", s.ID, s.UnitPath, ip, "")
	return otp, nil
}

// ResetPassword gives an account in the admin's subtree a new one-time
// password and signs all its sessions out.
func (a *Staff) ResetPassword(ctx context.Context, p *Principal, staffID, ip string) (string, error) {
	if err := requireAdmin(p); err != nil {
		return "", err
	}
	s, err := a.store.GetStaff(ctx, staffID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(s.UnitPath)) {
		return "", errorf(CodeNotFound, "", "no staff account %q", staffID)
	}
	if err != nil {
		return "", err
	}
	return a.reissue(ctx, s, p.StaffID, ip)
}

// ListAccounts lists the staff accounts in the admin's subtree.
func (a *Staff) ListAccounts(ctx context.Context, p *Principal, page store.Page) ([]store.Staff, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	return a.store.ListStaff(ctx, store.StaffFilter{UnitPath: p.UnitPath}, page)
}

// Units lists the principal's subtree.
func (a *Staff) Units(ctx context.Context, p *Principal) ([]store.Unit, error) {
	return a.store.ListUnits(ctx, p.UnitPath)
}

// UnitKinds are the kinds of org unit.
var UnitKinds = []string{"city", "county", "district", "township", "street", "village", "community", "school", "grade", "class", "station", "enterprise"}

// CreateUnit adds a unit under a parent in the admin's subtree.
func (a *Staff) CreateUnit(ctx context.Context, p *Principal, u store.Unit, ip string) (store.Unit, error) {
	if err := requireAdmin(p); err != nil {
		return store.Unit{}, err
	}
	if !slices.Contains(UnitKinds, u.Kind) {
		return store.Unit{}, errorf(CodeValidation, "kind", "kind must be one of %s", strings.Join(UnitKinds, ", "))
	}
	if !store.ValidID(u.ID) {
		return store.Unit{}, errorf(CodeValidation, "id", "a unit id has letters, digits, _ and - only")
	}
	if _, err := a.unitInScope(ctx, p, u.ParentID, "parent_id"); err != nil {
		return store.Unit{}, err
	}
	u.CreatedAt = a.now()
	out, err := a.store.CreateUnit(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		return store.Unit{}, errorf(CodeConflict, "id", "unit %q exists already", u.ID)
	}
	if err != nil {
		return store.Unit{}, err
	}
	a.audit(ctx, p.StaffID, "unit_create", "unit", out.ID, out.Path, ip, "")
	return out, nil
}

// RenameUnit changes the name or kind of a unit in the admin's subtree.
// Units do not move: every path below them would have to follow.
func (a *Staff) RenameUnit(ctx context.Context, p *Principal, id, name, kind, ip string) (store.Unit, error) {
	if err := requireAdmin(p); err != nil {
		return store.Unit{}, err
	}
	if !slices.Contains(UnitKinds, kind) {
		return store.Unit{}, errorf(CodeValidation, "kind", "kind must be one of %s", strings.Join(UnitKinds, ", "))
	}
	if _, err := a.unitInScope(ctx, p, id, "id"); err != nil {
		return store.Unit{}, err
	}
	u, err := a.store.RenameUnit(ctx, id, name, kind)
	if err != nil {
		return store.Unit{}, err
	}
	a.audit(ctx, p.StaffID, "unit_rename", "unit", u.ID, u.Path, ip, name)
	return u, nil
}

// SetDisabled disables or re-enables an account in the admin's subtree.
// Disabling signs it out everywhere. Admins cannot disable themselves, so
// a subtree is never left without its last admin by accident.
func (a *Staff) SetDisabled(ctx context.Context, p *Principal, staffID string, disabled bool, ip string) (store.Staff, error) {
	if err := requireAdmin(p); err != nil {
		return store.Staff{}, err
	}
	s, err := a.store.GetStaff(ctx, staffID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(s.UnitPath)) {
		return store.Staff{}, errorf(CodeNotFound, "", "no staff account %q", staffID)
	}
	if err != nil {
		return store.Staff{}, err
	}
	if s.ID == p.StaffID {
		return store.Staff{}, errorf(CodeValidation, "", "you cannot disable your own account")
	}
	s.Disabled, s.UpdatedAt = disabled, a.now()
	if s, err = a.store.UpdateStaff(ctx, s); err != nil {
		return store.Staff{}, err
	}
	if disabled {
		if _, err := a.store.DeleteLogins(ctx, s.ID); err != nil {
			return store.Staff{}, err
		}
	}
	action := "account_enable"
	if disabled {
		action = "account_disable"
	}
	a.audit(ctx, p.StaffID, action, "staff", s.ID, s.UnitPath, ip, "")
	return s, nil
}

// Audit lists the audit entries an admin may read: those about units in
// their subtree, and those tied to no unit (failed sign-ins by name).
func (a *Staff) Audit(ctx context.Context, p *Principal, f store.AuditFilter, page store.Page) ([]store.AuditEntry, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	entries, next, err := a.store.ListAudit(ctx, f, page)
	if err != nil {
		return nil, "", err
	}
	// Entries about units outside the admin's subtree are not theirs to read.
	out := entries[:0]
	for _, e := range entries {
		if e.UnitPath == "" || p.InScope(e.UnitPath) {
			out = append(out, e)
		}
	}
	return out, next, nil
}
