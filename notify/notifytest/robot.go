package notifytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// maxRobotContentBytes is WeCom's limit on a text message's content;
// DingTalk's is larger, and the stand-ins apply the stricter one to both.
const maxRobotContentBytes = 2048

// checkRobotBody checks a robot text message and returns its content, or
// why it is refused. Both robots also accept @-mentions (lists of user
// ids or mobile numbers) and other message types; the stand-ins refuse
// them, since a notification must not name anyone.
func checkRobotBody(r *http.Request, body []byte) (content, refusal string) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return "", "Content-Type is not application/json"
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return "", "the body is not a JSON object"
	}
	for k := range top {
		if k != "msgtype" && k != "text" {
			return "", fmt.Sprintf("field %q is not allowed in a notification", k)
		}
	}
	var mt string
	if json.Unmarshal(top["msgtype"], &mt) != nil || mt != "text" {
		return "", "msgtype is not text"
	}
	dec := json.NewDecoder(bytes.NewReader(top["text"]))
	dec.DisallowUnknownFields()
	var text struct {
		Content string `json:"content"`
	}
	if err := dec.Decode(&text); err != nil {
		return "", "text must hold content and nothing else: " + err.Error()
	}
	if text.Content == "" {
		return "", "empty content"
	}
	if len(text.Content) > maxRobotContentBytes || !utf8.ValidString(text.Content) {
		return "", "content is not UTF-8 of at most 2048 bytes"
	}
	return text.Content, ""
}

// robotCall is one request to a robot stand-in, recorded once it is
// answered.
type robotCall struct {
	stand *Recorder
	w     http.ResponseWriter
	rec   Received
}

// startRobot records a robot request and answers an injected fault or a
// method other than POST itself, in which case it returns nil.
func (s *Recorder) startRobot(w http.ResponseWriter, r *http.Request) *robotCall {
	body := readBody(r)
	c := &robotCall{stand: s, w: w, rec: Received{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
		Body: body, Strings: jsonStrings(body)}}
	if f, ok := s.nextFault(); ok {
		c.rec.Refusal = "injected fault"
		s.add(c.rec)
		s.robotFault(w, r, f)
		return nil
	}
	if r.Method != http.MethodPost {
		c.rec.Refusal = "method not allowed"
		s.add(c.rec)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil
	}
	return c
}

// refuse answers as a robot does when it refuses a message: HTTP 200 with
// its error code.
func (c *robotCall) refuse(code int, msg string) {
	c.rec.Refusal = msg
	c.stand.add(c.rec)
	writeJSON(c.w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
}

// accept checks the message body and takes it, or refuses it with
// badBody, the robot's code for a malformed message.
func (c *robotCall) accept(r *http.Request, badBody int) {
	content, why := checkRobotBody(r, c.rec.Body)
	if why != "" {
		c.refuse(badBody, why)
		return
	}
	c.rec.Text = content
	c.rec.Accepted = true
	c.stand.add(c.rec)
	writeJSON(c.w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// robotFault answers with an injected fault.
func (rec *Recorder) robotFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		rec.hang(r.Context())
	case f.Code != "":
		code, err := strconv.Atoi(f.Code)
		if err != nil {
			code = -1
		}
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, map[string]any{"errcode": code, "errmsg": "injected fault"})
	default:
		http.Error(w, http.StatusText(f.Status), f.Status)
	}
}

// readBody reads a request body of reasonable size.
func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}
