package assess

import (
	"context"

	"xinling/store"
)

// CodeAuditUnavailable refuses a disclosure whose audit line could not be
// written (503): nothing was shown, and the caller may try again.
const CodeAuditUnavailable = "audit_unavailable"

// AuditDisclosure and AuditAction are the two kinds of audited event, with
// one policy for an audit write that fails. The audit log is written
// through auditDisclosure and auditAction and nowhere else.
//
//   - A disclosure is personal data about to leave the server for a member
//     of staff: a person's record, a case, a queue entry with its answers,
//     a referral, a person's export, pupils' names on a progress table or
//     on code slips, any exported table. Its line is written before the
//     data is returned, and if it cannot be written the data is not
//     returned: the caller gets 503 audit_unavailable and may try again.
//     A read leaves no trace but its audit line, and mental-health data is
//     sensitive personal information (PIPL art. 28) whose every access
//     must be accountable; an unrecorded read could never be found again,
//     while a refused one costs a retry.
//   - An action is a change already durable in the store: a claim, a case,
//     a referral, an erasure, a sign-in, an account or instrument change.
//     It stands when its line cannot be written. Undoing it is often
//     impossible (an erasure) or worse than the gap (a level-1 entry taken
//     from the counsellor who claimed it), and the change keeps a trace of
//     its own: the queue entry's history, the case's counsellor and
//     version, the referral's sender. The line is written even if the
//     caller has gone away meanwhile.
//
// Either way the failure is logged at ERROR with the request id that the
// context carries, the action, actor and target (never Detail or IP, which
// may hold free text or personal data), so that the operator can restore
// the line from the log; and it is counted (Observer.AuditWriteFailed,
// xinling_audit_write_failures_total by kind), so that it raises an alert.
const (
	AuditDisclosure = "disclosure"
	AuditAction     = "action"
)

// auditDisclosure records a disclosure (see AuditDisclosure) before the
// data is returned. A non-nil error means the data must not be returned.
func (sh *shared) auditDisclosure(ctx context.Context, e store.AuditEntry) error {
	if err := sh.appendAudit(ctx, e); err != nil {
		sh.auditFailed(ctx, AuditDisclosure, e, err)
		return errorf(CodeAuditUnavailable, "", "this cannot be shown just now: every reading of it is written to the audit log, which cannot be written at the moment; please try again shortly")
	}
	return nil
}

// auditAction records an action that has been done (see AuditAction); a
// failure is logged and counted, and the action stands.
func (sh *shared) auditAction(ctx context.Context, e store.AuditEntry) {
	if err := sh.appendAudit(context.WithoutCancel(ctx), e); err != nil {
		sh.auditFailed(ctx, AuditAction, e, err)
	}
}

func (sh *shared) appendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = sh.now()
	}
	return sh.store.AppendAudit(ctx, e)
}

func (sh *shared) auditFailed(ctx context.Context, kind string, e store.AuditEntry, err error) {
	outcome := "done" // the action stands without its line
	if kind == AuditDisclosure {
		outcome = "withheld" // the data was not returned
	}
	sh.log.ErrorContext(ctx, "audit write failed", "kind", kind, "outcome", outcome, "action", e.Action, "actor", e.ActorID,
		"target_kind", e.TargetKind, "target", e.TargetID, "unit_path", e.UnitPath, "err", err)
	sh.obs.AuditWriteFailed(kind)
}

// auditBy is the audit line of something p did.
func auditBy(p *Principal, action, kind, target, path, ip, detail string) store.AuditEntry {
	return store.AuditEntry{ActorID: p.StaffID, Action: action, TargetKind: kind, TargetID: target, UnitPath: path, IP: ip, Detail: detail}
}
