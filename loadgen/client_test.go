package loadgen

import "testing"

func TestSavedAnswerRecognisesOnlyTheUsualAcks(t *testing.T) {
	for body, want := range map[string]bool{
		`{"item":"phq9.q1","value":3,"seq":1,"status":"saved"}`:  true,
		`{"item":"phq9.q1","value":3,"seq":1,"status":"replay"}`: true,
		`{"item":"phq9.q1","value":3,"seq":1,"status":"stale"}`:  false,
		`{"status":"saved"} `: false,
		`"status":"saved"}`:   false,
		``:                    false,
	} {
		if got := savedAnswer([]byte(body)); got != want {
			t.Errorf("savedAnswer(%q) = %v, want %v", body, got, want)
		}
	}
}
