package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "xinling.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each setting comes from the first of: the command line, the environment,
// the config file, the default.
func TestServeSettingsPrecedence(t *testing.T) {
	file := writeConfig(t, `# settings for the county server
addr: 10.0.0.1:8080
session-idle: 48h
rate-ip: 100
crisis-hotline: "400-161-9995"
sla: [30m, 12h, 48h]
log-format: json
`)
	t.Setenv("XINLING_SESSION_IDLE", "24h") // env beats the file
	t.Setenv("XINLING_RATE_IP", "200")      // but not the command line
	t.Setenv("XINLING_CONFIG", file)
	cfg, _, err := parseServeFlags([]string{"--rate-ip", "300"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "10.0.0.1:8080" || cfg.assess.Sessions.Hotline != "400-161-9995" || cfg.logFormat != "json" {
		t.Errorf("file settings not applied: addr %q hotline %q log %q", cfg.addr, cfg.assess.Sessions.Hotline, cfg.logFormat)
	}
	if cfg.assess.Sessions.IdleTimeout != 24*time.Hour {
		t.Errorf("session-idle = %v; the environment should win over the file", cfg.assess.Sessions.IdleTimeout)
	}
	if cfg.api.RatePerIP != 300 {
		t.Errorf("rate-ip = %d; the flag should win over the environment", cfg.api.RatePerIP)
	}
	if cfg.assess.SLA[1] != 30*time.Minute || cfg.assess.SLA[3] != 48*time.Hour {
		t.Errorf("sla from a YAML list = %v", cfg.assess.SLA)
	}
	if cfg.api.RatePerToken != 600 || cfg.mongoDB != "xinling" || cfg.logLevel != slog.LevelInfo {
		t.Errorf("defaults lost: rate-token %d mongo-db %q level %v", cfg.api.RatePerToken, cfg.mongoDB, cfg.logLevel)
	}
}

func TestServeConfigFileErrorsNameTheSource(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"addr: x\nadr: y\n", `:2: unknown setting "adr"`},
		{"rate-ip: 5\nsession-idle: soon\n", `:2: session-idle: "soon" is not a duration such as 72h`},
		{"rate-token: many\n", `:1: rate-token: "many" is not a whole number`},
		{"rate-ip: -1\n", "--rate-ip must be 0 or more, not -1 (from "},
		{"sla: 1h,2h\n", "--sla needs three durations"},
		{"log-format: xml\n", `--log-format must be text or json, not "xml" (from `},
		{"log-level: loud\n", `--log-level must be debug, info, warn or error, not "loud"`},
		{"cors-origins: {a: 1}\n", ":1: cors-origins: want a single value or a list"},
		{"- addr\n", "a config file is a list of `setting: value` lines"},
		{"addr: [unclosed\n", "not valid YAML"},
		{"config: other.yaml\n", `:1: unknown setting "config"`},
	} {
		file := writeConfig(t, c.text)
		_, _, err := parseServeFlags([]string{"--config", file}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
			continue
		}
		if strings.Contains(c.want, "(from ") && !strings.Contains(err.Error(), file+":1") {
			t.Errorf("%q: %v does not point at the file's line", c.text, err)
		}
	}
	if _, _, err := parseServeFlags([]string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--config") {
		t.Errorf("missing file: %v", err)
	}
	t.Setenv("XINLING_LOG_LEVEL", "chatty")
	if _, _, err := parseServeFlags(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "(from XINLING_LOG_LEVEL)") {
		t.Errorf("bad environment value: %v", err)
	}
}

// A bad config file stops serve before it opens anything, with exit 2.
func TestServeFailsAtStartOnABadConfigFile(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "addr: 127.0.0.1:0\nsesion-idle: 1h\n")
	cmd := exec.Command(os.Args[0], "serve", "--data", t.TempDir(), "--config", file)
	cmd.Env = append(os.Environ(), "XINLING_TEST_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), file+`:2: unknown setting "sesion-idle"`) {
		t.Fatalf("exit %v, output:\n%s", err, out)
	}
}

// Secrets set in the environment take effect but never show in --help,
// which would otherwise print them as defaults.
func TestServeSecretsFromTheEnvironmentStayOutOfHelp(t *testing.T) {
	const token, uri = "scrape-token-from-env-42", "mongodb://xinling:pa55word@db.internal:27017"
	cmd := exec.Command(os.Args[0], "serve", "--help")
	cmd.Env = append(os.Environ(), "XINLING_TEST_AS_MAIN=1", "XINLING_METRICS_TOKEN="+token, "XINLING_MONGO_URI="+uri)
	out, _ := cmd.CombinedOutput()
	if strings.Contains(string(out), token) || strings.Contains(string(out), "pa55word") || !strings.Contains(string(out), "XINLING_METRICS_TOKEN") {
		t.Fatalf("help:\n%s", out)
	}
	t.Setenv("XINLING_METRICS_TOKEN", token)
	t.Setenv("XINLING_MONGO_URI", uri)
	cfg, _, err := parseServeFlags(nil, io.Discard)
	if err != nil || cfg.api.MetricsToken != token || cfg.mongoURI != uri {
		t.Fatalf("from the environment: %+v %v", cfg, err)
	}
	file := writeConfig(t, "metrics-token: from-the-file-0123456789\n")
	cfg, _, err = parseServeFlags([]string{"--metrics-token", "from-the-flag-0123456789", "--config", file}, io.Discard)
	if err != nil || cfg.api.MetricsToken != "from-the-flag-0123456789" {
		t.Fatalf("flag over environment: %q %v", cfg.api.MetricsToken, err)
	}
	cfg, _, err = parseServeFlags([]string{"--config", file}, io.Discard)
	if err != nil || cfg.api.MetricsToken != token {
		t.Fatalf("environment over file: %q %v", cfg.api.MetricsToken, err)
	}
	os.Unsetenv("XINLING_METRICS_TOKEN")
	cfg, _, err = parseServeFlags([]string{"--config", file}, io.Discard)
	if err != nil || cfg.api.MetricsToken != "from-the-file-0123456789" {
		t.Fatalf("file: %q %v", cfg.api.MetricsToken, err)
	}
	if _, _, err := parseServeFlags([]string{"--metrics-token", "short"}, io.Discard); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("short token: %v", err)
	}
}
