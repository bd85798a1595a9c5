package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// E-mail over SMTP (RFC 5321), through github.com/wneessen/go-mail, which
// writes the MIME message (RFC 2047 subject, quoted-printable UTF-8 body)
// and speaks STARTTLS (RFC 3207), implicit TLS (RFC 8314) and SMTP AUTH.
// The subject is the rendered title, the body the rendered text, and the
// Message-ID is <IdempotencyKey@domain of From>, so a mail system or a
// reader can tell a retried notification from a new one. Reply codes 5xx
// are permanent, 4xx retryable (RFC 5321 section 4.2.1).

// SMTPSecurity is how the connection to the SMTP server is protected.
type SMTPSecurity string

// The SMTP security modes.
const (
	// SMTPStartTLS connects in plain text and requires STARTTLS before
	// anything else is said (usually port 587). The default.
	SMTPStartTLS SMTPSecurity = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (usually port 465).
	SMTPImplicitTLS SMTPSecurity = "tls"
	// SMTPPlain sends in clear text. It is allowed only to a loopback
	// host: a local relay, or a stand-in in tests.
	SMTPPlain SMTPSecurity = "plain"
)

// DefaultSMTPTimeout bounds one SMTP session when SMTPConfig.Timeout is 0.
const DefaultSMTPTimeout = 15 * time.Second

// SMTPConfig configures the e-mail channel.
type SMTPConfig struct {
	Host string
	// Port is 587 for SMTPStartTLS, 465 for SMTPImplicitTLS and 25 for
	// SMTPPlain when 0.
	Port     int
	Security SMTPSecurity
	// Username and Password authenticate when Username is set; the
	// mechanism is the strongest the server offers over TLS.
	Username string
	Password string // never written into an error
	// From is the sender's address, for example xinling@example.org.
	From string
	// TLSConfig verifies the server; nil means the system's roots with
	// Host as the server name.
	TLSConfig *tls.Config
	// Timeout bounds one session; DefaultSMTPTimeout when 0.
	Timeout time.Duration
	// Now dates the message; nil means time.Now.
	Now func() time.Time
}

// Email sends notifications by e-mail. Target.Address is the recipient.
type Email struct {
	cfg        SMTPConfig
	fromDomain string
}

// NewEmail checks cfg and returns the channel.
func NewEmail(cfg SMTPConfig) (*Email, error) {
	if cfg.Host == "" {
		return nil, errors.New("notify: email: no SMTP host")
	}
	switch cfg.Security {
	case "":
		cfg.Security = SMTPStartTLS
	case SMTPStartTLS, SMTPImplicitTLS:
	case SMTPPlain:
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("notify: email: plain SMTP is allowed only to a loopback host, not %s", cfg.Host)
		}
	default:
		return nil, fmt.Errorf("notify: email: unknown security %q", cfg.Security)
	}
	if cfg.Port == 0 {
		cfg.Port = map[SMTPSecurity]int{SMTPStartTLS: 587, SMTPImplicitTLS: 465, SMTPPlain: 25}[cfg.Security]
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil || from.Name != "" {
		return nil, fmt.Errorf("notify: email: From %q is not a bare e-mail address", cfg.From)
	}
	cfg.From = from.Address
	at := strings.LastIndexByte(cfg.From, '@')
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{}
	}
	cfg.TLSConfig = cfg.TLSConfig.Clone()
	if cfg.TLSConfig.ServerName == "" {
		cfg.TLSConfig.ServerName = cfg.Host
	}
	if cfg.TLSConfig.MinVersion < tls.VersionTLS12 {
		cfg.TLSConfig.MinVersion = tls.VersionTLS12
	}
	return &Email{cfg: cfg, fromDomain: cfg.From[at+1:]}, nil
}

// MessageID is the Message-ID (without angle brackets) of the e-mail
// that carries the message with this idempotency key.
func (e *Email) MessageID(key string) string { return key + "@" + e.fromDomain }

// Send mails m to to.Address.
func (e *Email) Send(ctx context.Context, to Target, m Message) error {
	r, err := Render(m)
	if err != nil {
		return Permanent(err)
	}
	rcpt, err := netmail.ParseAddress(to.Address)
	if err != nil || rcpt.Name != "" {
		return Permanent(fmt.Errorf("notify: %s: %w: not a bare e-mail address", ChannelEmail, ErrInvalidTarget))
	}

	msg := gomail.NewMsg()
	if err := msg.From(e.cfg.From); err != nil {
		return Permanent(fmt.Errorf("notify: %s: From: %v", ChannelEmail, err))
	}
	if err := msg.To(rcpt.Address); err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w: the recipient is refused", ChannelEmail, ErrInvalidTarget))
	}
	msg.Subject(r.Title)
	msg.SetMessageIDWithValue(e.MessageID(m.IdempotencyKey))
	msg.SetDateWithValue(e.cfg.Now())
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	msg.SetBodyString(gomail.TypeTextPlain, r.Text+"\n")

	timeout := e.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(e.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(e.cfg.TLSConfig),
	}
	switch e.cfg.Security {
	case SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case SMTPPlain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if e.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if e.cfg.Security == SMTPPlain {
			auth = gomail.SMTPAuthPlain // go-mail allows PLAIN without TLS to localhost only
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(e.cfg.Username), gomail.WithPassword(e.cfg.Password))
	}
	client, err := gomail.NewClient(e.cfg.Host, opts...)
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %v", ChannelEmail, err))
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	server := net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port))
	se := &sendError{
		msg:   scrub(fmt.Sprintf("notify: %s: smtp %s: %v", ChannelEmail, server, err), e.cfg.Password, e.cfg.Username, rcpt.Address),
		cause: err,
	}
	if smtpPermanent(err) {
		return Permanent(se)
	}
	return se
}

// smtpPermanent tells the SMTP failures that a retry cannot cure: a 5xx
// reply, a certificate that does not verify, a server without STARTTLS
// or without a usable AUTH mechanism, an address go-mail refuses.
func smtpPermanent(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch code := se.ErrorCode(); {
		case code >= 500:
			return true
		case code >= 400:
			return false
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return true
		}
		return false
	}
	if isCertificateError(err) || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) {
		return true
	}
	// go-mail reports these with fmt.Errorf only.
	s := err.Error()
	return strings.Contains(s, "does not support STARTTLS") || strings.Contains(s, "does not support SMTP AUTH")
}
