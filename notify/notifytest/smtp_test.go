package notifytest

import (
	"bytes"
	"crypto/tls"
	"testing"

	"xinling/notify"
)

func TestSMTPModes(t *testing.T) {
	for _, sec := range []notify.SMTPSecurity{notify.SMTPPlain, notify.SMTPStartTLS, notify.SMTPImplicitTLS} {
		s := NewSMTP(t, sec)
		m := msg("k-" + string(sec))
		m.UnitName = "王小明心理服务站" // a name where a unit's belongs: the scan must find it
		if err := s.Channel().Send(ctx, s.Target(), m); err != nil {
			t.Errorf("%s: %v", sec, err)
			continue
		}
		rec := s.Delivered()[0]
		if rec.IdempotencyKey != m.IdempotencyKey || rec.Header.Get("Message-Id") != "<k-"+string(sec)+"@notify.example>" {
			t.Errorf("%s: Message-ID %q", sec, rec.Header.Get("Message-Id"))
		}
		if bytes.Contains(rec.Body, []byte("王小明")) {
			t.Logf("%s: the raw message holds the name unencoded", sec)
		}
		if found := FindPersonalData(s.Received(), "王小明"); len(found) == 0 {
			t.Errorf("%s: the scan does not see through the mail's encoding", sec)
		}
	}

	// STARTTLS required, but the server does not offer it.
	plain := NewSMTP(t, notify.SMTPPlain)
	cfg := plain.Config()
	cfg.Security = notify.SMTPStartTLS
	ch, err := notify.NewEmail(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, plain.Target(), msg("k")); !notify.IsPermanent(err) {
		t.Errorf("no STARTTLS: %v, want a permanent error", err)
	}

	// A certificate nobody vouches for.
	tlsSrv := NewSMTP(t, notify.SMTPImplicitTLS)
	cfg = tlsSrv.Config()
	cfg.TLSConfig = &tls.Config{}
	ch, err = notify.NewEmail(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, tlsSrv.Target(), msg("k")); !notify.IsPermanent(err) {
		t.Errorf("untrusted certificate: %v, want a permanent error", err)
	}

	// A server that is down is worth another try.
	down := NewSMTP(t, notify.SMTPPlain)
	downCh := down.Channel()
	down.Close()
	if err := downCh.Send(ctx, down.Target(), msg("k")); err == nil || notify.IsPermanent(err) {
		t.Errorf("server down: %v, want a retryable error", err)
	}

	// A client that does not authenticate is refused.
	cfg = plain.Config()
	cfg.Security, cfg.Username, cfg.Password = notify.SMTPPlain, "", ""
	ch, err = notify.NewEmail(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(ctx, plain.Target(), msg("k")); !notify.IsPermanent(err) {
		t.Errorf("no AUTH: %v, want a permanent error", err)
	}

	// Plain text leaves the machine never.
	if _, err := notify.NewEmail(notify.SMTPConfig{Host: "smtp.example.org", Security: notify.SMTPPlain, From: "x@example.org"}); err == nil {
		t.Error("plain SMTP to a remote host was accepted")
	}
	if _, err := notify.NewEmail(notify.SMTPConfig{Host: "smtp.example.org", From: "Xinling <x@example.org>"}); err == nil {
		t.Error("a From with a display name was accepted")
	}
	if err := plain.Channel().Send(ctx, notify.Target{Address: "王小明 <x@example.org>"}, msg("k")); !notify.IsPermanent(err) {
		t.Errorf("a recipient with a name: %v, want a permanent error", err)
	}
}
