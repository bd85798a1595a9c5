package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"xinling/notify"
)

// StaffEmail is the address of the stand-in's contact on duty.
const StaffEmail = "duty@unit.example"

// SMTP is a stand-in SMTP server (github.com/emersion/go-smtp) on a
// loopback port, speaking plain text, STARTTLS or implicit TLS with a
// certificate of its own (trusted by Config's TLSConfig). It requires
// AUTH PLAIN with Username and Password, refusing a wrong password with
// 535, and checks each message's headers: From matching the envelope,
// To, Subject, Date, a Message-ID, and a text/plain UTF-8 body. Injected
// faults answer the message's DATA with Fault.Status (451 for a
// temporary failure, 550 for a permanent one), or hold it (Hang).
type SMTP struct {
	*Recorder
	Host     string // 127.0.0.1
	Port     int
	Security notify.SMTPSecurity
	Username string
	Password string
	From     string // the sender the channel is configured with

	t      testing.TB
	srv    *smtp.Server
	ln     net.Listener
	roots  *x509.CertPool
	closed chan struct{}
}

// NewSMTP starts a stand-in SMTP server with the given security.
func NewSMTP(t testing.TB, security notify.SMTPSecurity) *SMTP {
	s := &SMTP{
		Recorder: newRecorder(notify.ChannelEmail),
		Host:     "127.0.0.1",
		Security: security,
		Username: "xinling",
		Password: randomHex(12),
		From:     "xinling@notify.example",
		t:        t,
		closed:   make(chan struct{}),
	}
	cert, roots, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s.roots = roots
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients that time out on purpose are no news
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch security {
	case notify.SMTPPlain:
		srv.AllowInsecureAuth = true // loopback only
	case notify.SMTPStartTLS:
		srv.TLSConfig = tlsConfig
	case notify.SMTPImplicitTLS:
		ln = tls.NewListener(ln, tlsConfig)
	default:
		t.Fatalf("notifytest: unknown SMTP security %q", security)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.srv, s.ln = srv, ln
	go func() {
		defer close(s.closed)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(s.Close)
	return s
}

// Config is a channel configuration that sends here.
func (s *SMTP) Config() notify.SMTPConfig {
	return notify.SMTPConfig{
		Host:      s.Host,
		Port:      s.Port,
		Security:  s.Security,
		Username:  s.Username,
		Password:  s.Password,
		From:      s.From,
		TLSConfig: &tls.Config{RootCAs: s.roots},
		Timeout:   5 * time.Second,
	}
}

// Channel is a channel that sends here.
func (s *SMTP) Channel() *notify.Email {
	c, err := notify.NewEmail(s.Config())
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Target is the contact on duty, StaffEmail.
func (s *SMTP) Target() notify.Target { return notify.Target{Address: StaffEmail} }

// Close stops the stand-in, releasing any held message.
func (s *SMTP) Close() {
	s.close()
	_ = s.srv.Close()
	// Closed here too: a Close that comes before Serve has registered the
	// listener with the server would otherwise leave Serve accepting,
	// and this wait would never end.
	_ = s.ln.Close()
	<-s.closed
}

type smtpSession struct {
	s      *SMTP
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username || username != ss.s.Username || password != ss.s.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec := Received{Method: "SMTP", Path: strings.Join(ss.to, ","), Body: raw, Strings: append([]string{ss.from}, ss.to...)}
	refuse := func(why string) error {
		rec.Refusal = why
		ss.s.add(rec)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: why}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return refuse("the message cannot be parsed")
	}
	rec.Header = http.Header(msg.Header)
	subject, body, err := decodeMail(msg)
	if err != nil {
		return refuse(err.Error())
	}
	rec.Strings = append(rec.Strings, subject, body)
	rec.Text = body
	if id := msg.Header.Get("Message-Id"); id != "" {
		rec.IdempotencyKey, _, _ = strings.Cut(strings.Trim(id, "<>"), "@")
	}

	if f, ok := ss.s.nextFault(); ok {
		rec.Refusal = "injected fault"
		ss.s.add(rec)
		if f.Hang {
			<-ss.s.closing
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "closing"}
		}
		enh := smtp.EnhancedCode{5, 0, 0}
		if f.Status < 500 {
			enh = smtp.EnhancedCode{4, 0, 0}
		}
		return &smtp.SMTPError{Code: f.Status, EnhancedCode: enh, Message: "injected fault"}
	}

	from, err := netmail.ParseAddress(msg.Header.Get("From"))
	if err != nil || !strings.EqualFold(from.Address, ss.from) {
		return refuse("the From header does not match the envelope sender")
	}
	to, err := netmail.ParseAddressList(msg.Header.Get("To"))
	if err != nil || len(to) != len(ss.to) {
		return refuse("the To header does not match the envelope recipients")
	}
	for _, h := range []string{"Subject", "Date", "Message-Id"} {
		if msg.Header.Get(h) == "" {
			return refuse("the " + h + " header is missing")
		}
	}
	if _, err := msg.Header.Date(); err != nil {
		return refuse("the Date header is malformed")
	}
	rec.Accepted = true
	ss.s.add(rec)
	return nil
}

// decodeMail returns a single-part text/plain message's decoded subject
// and body.
func decodeMail(msg *netmail.Message) (subject, body string, err error) {
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return "", "", errors.New("the Subject cannot be decoded")
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		return "", "", errors.New("the body is not text/plain; charset=UTF-8")
	}
	var r io.Reader = msg.Body
	switch cte := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); cte {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &crlfStripper{r: r})
	case "", "7bit", "8bit":
	default:
		return "", "", fmt.Errorf("Content-Transfer-Encoding %q is not understood", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", errors.New("the body cannot be decoded")
	}
	// A mail's lines end in CRLF on the wire; Text has them as Go writes
	// them.
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// crlfStripper drops line breaks, which base64 bodies have every 76
// characters.
type crlfStripper struct{ r io.Reader }

func (c *crlfStripper) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	j := 0
	for _, b := range p[:n] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, and a
// pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "notifytest SMTP stand-in"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
