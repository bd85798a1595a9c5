package notifytest

import (
	"context"
	"testing"
	"time"

	"xinling/notify"
)

var ctx = context.Background()

func msg(key string) notify.Message {
	return notify.Message{
		Kind:           notify.KindWarningNew,
		Level:          1,
		UnitName:       "青山街道心理服务站",
		At:             time.Now(),
		DueAt:          time.Now().Add(time.Hour),
		Link:           "https://xinling.example/console/#/queue/q_1",
		IdempotencyKey: key,
	}
}

// The scan looks at decoded strings too: a JSON escape or a transfer
// encoding does not hide a marker from it.
func TestFindPersonalDataSeesDecodedStrings(t *testing.T) {
	body := []byte(`{"text":{"content":"\u738b\u5c0f\u660e"}}`)
	recs := []Received{{Channel: "test", Body: body, Strings: jsonStrings(body)}}
	if found := FindPersonalData(recs, "王小明"); len(found) != 1 {
		t.Errorf("found %v, want the name once", found)
	}
	if found := FindPersonalData(recs, "李四", ""); len(found) != 0 {
		t.Errorf("found %v, want nothing", found)
	}
}
