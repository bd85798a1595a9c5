package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"sync"
	"unicode/utf8"
)

// ackWriter appends one JSON line per acknowledged answer (or, for the
// submit log, per acknowledged submit). It buffers (a
// write per answer would cost the generator a syscall per request) and is
// flushed when the run ends: only the server is killed in the crash test,
// never the generator, so the buffer is not at risk.
type ackWriter struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	line []byte
	err  error
}

// AckLine is one line of the ack log.
type AckLine struct {
	Session string  `json:"session"`
	Item    string  `json:"item"`
	Value   float64 `json:"value"`
	Seq     int64   `json:"seq"`
}

// openLog opens a log for appending: a run never truncates an earlier
// run's lines.
func openLog(path string) (*ackWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &ackWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (a *ackWriter) write(session, item string, value float64, seq int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := append(a.line[:0], `{"session":`...)
	b = appendJSONString(b, session)
	b = append(b, `,"item":`...)
	b = appendJSONString(b, item)
	b = append(b, `,"value":`...)
	b = strconv.AppendFloat(b, value, 'g', -1, 64)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "}\n"...)
	a.line = b
	if _, err := a.w.Write(b); err != nil && a.err == nil {
		a.err = err
	}
}

// SubmitLine is one line of the submit log (loadtest --submit-log): a
// session whose submit the server acknowledged. Warning is the most severe
// level the generator expects its answers to raise, by the built-in
// engine: 0 for none, -1 when it cannot tell (an instrument it lacks, or a
// pupil whose sex and age only the roster knows). Crisis says whether the
// response carried a crisis block.
type SubmitLine struct {
	Session string `json:"session"`
	Warning int    `json:"warning"`
	Crisis  bool   `json:"crisis"`
}

func (a *ackWriter) writeSubmit(session string, warning int, crisis bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := append(a.line[:0], `{"session":`...)
	b = appendJSONString(b, session)
	b = append(b, `,"warning":`...)
	b = strconv.AppendInt(b, int64(warning), 10)
	b = append(b, `,"crisis":`...)
	b = strconv.AppendBool(b, crisis)
	b = append(b, "}\n"...)
	a.line = b
	if _, err := a.w.Write(b); err != nil && a.err == nil {
		a.err = err
	}
}

func (a *ackWriter) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.w.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if a.err != nil {
		return a.err
	}
	return err
}

// appendJSONString appends s as a JSON string. Server-made ids are plain
// ASCII, but the log must stay valid JSON whatever a server returns.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
