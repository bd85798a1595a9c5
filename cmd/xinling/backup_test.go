package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xinling/store/sqlite"
)

type ack struct {
	session, item string
	seq           int
}

// A backup taken from another process while `xinling serve` is answering
// requests holds every answer acknowledged before it started; restore
// refuses the live directory and a non-empty one, keeps the old database
// aside with --force, and refuses a damaged backup without touching
// anything.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c := startServe(t, []string{"XINLING_DATA=" + data}, "--rate-ip", "0", "--rate-token", "0")

	var mu sync.Mutex
	var acks []ack
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		var sess struct{ ID, Token string }
		if code := post(t, c.base+"/api/v1/sessions", "", `{"instrument":"phq9","consent":true}`, &sess); code != 201 {
			t.Fatalf("create: %d", code)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				item := fmt.Sprintf("phq9.q%d", seq%9+1)
				req, _ := http.NewRequest("PUT", c.base+"/api/v1/sessions/"+sess.ID+"/answers/"+item,
					strings.NewReader(fmt.Sprintf(`{"value":%d,"seq":%d}`, seq%4, seq)))
				req.Header.Set("Authorization", "Bearer "+sess.Token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("answer %s seq %d: status %d", item, seq, resp.StatusCode)
					return
				}
				mu.Lock()
				acks = append(acks, ack{sess.ID, item, seq})
				mu.Unlock()
			}
		}()
	}
	waitAcks := func(n int) {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			have := len(acks)
			mu.Unlock()
			if have >= n {
				return
			}
		}
		t.Fatalf("writers did not reach %d acknowledgements", n)
	}
	waitAcks(60)
	mu.Lock()
	before := append([]ack(nil), acks...) // acknowledged before the backup began
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "xinling-backup.db")
	code, stdout, stderr := runCLI(t, "backup", "--data", data, "--out", out)
	if code != 0 || !strings.Contains(stdout, `"integrity": "ok"`) {
		t.Fatalf("backup exited %d: %s %s", code, stdout, stderr)
	}
	waitAcks(len(before) + 60) // the server kept answering meanwhile
	if code, _, stderr := runCLI(t, "restore", "--from", out, "--data", data); code != 2 || !strings.Contains(stderr, "in use by a running xinling") {
		t.Fatalf("restore into the live directory: exit %d, %s", code, stderr)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "backup", "--data", data, "--out", out); code != 2 || !strings.Contains(stderr, "exists") {
		t.Fatalf("backup over an existing file: exit %d, %s", code, stderr)
	}

	fresh := filepath.Join(t.TempDir(), "restored")
	if code, stdout, stderr := runCLI(t, "restore", "--from", out, "--data", fresh); code != 0 || !strings.Contains(stdout, `"integrity": "ok"`) {
		t.Fatalf("restore exited %d: %s %s", code, stdout, stderr)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, fresh, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[[2]string]int64{}
	for _, a := range before {
		if _, ok := stored[[2]string{a.session, ""}]; !ok {
			if _, err := st.GetSession(ctx, a.session); err != nil {
				t.Fatalf("restored store lost session %s: %v", a.session, err)
			}
			answers, err := st.ListAnswers(ctx, a.session)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range answers {
				stored[[2]string{a.session, s.Item}] = s.Seq
			}
			stored[[2]string{a.session, ""}] = 0
		}
		if got := stored[[2]string{a.session, a.item}]; got < int64(a.seq) {
			t.Fatalf("answer %s/%s seq %d was acknowledged before the backup; the restored store has seq %d", a.session, a.item, a.seq, got)
		}
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Logf("%d answers acknowledged before the backup, all present after restore", len(before))

	// A restored directory is not empty: restoring again needs --force,
	// which keeps the database it replaces.
	if code, _, stderr := runCLI(t, "restore", "--from", out, "--data", fresh); code != 2 || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore into a non-empty directory: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "restore", "--from", out, "--data", fresh, "--force")
	if code != 0 || !strings.Contains(stderr, "kept as") {
		t.Fatalf("restore --force: exit %d, %s", code, stderr)
	}
	kept, _ := filepath.Glob(filepath.Join(fresh, sqlite.FileName+".before-restore-*"))
	if len(kept) == 0 {
		t.Fatal("restore --force did not keep the old database")
	}

	// A damaged backup is refused before the directory is touched.
	bad := filepath.Join(t.TempDir(), "bad.db")
	raw, _ := os.ReadFile(out)
	for i := 4096; i < len(raw); i += 97 {
		raw[i] ^= 0xff
	}
	if err := os.WriteFile(bad, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	dbBefore, _ := os.ReadFile(filepath.Join(fresh, sqlite.FileName))
	if code, _, stderr := runCLI(t, "restore", "--from", bad, "--data", fresh, "--force"); code != 1 || !strings.Contains(stderr, "the backup") {
		t.Fatalf("restore of a damaged backup: exit %d, %s", code, stderr)
	}
	if dbAfter, _ := os.ReadFile(filepath.Join(fresh, sqlite.FileName)); string(dbAfter) != string(dbBefore) {
		t.Fatal("a refused restore changed the database")
	}
	if code, _, stderr := runCLI(t, "backup", "--mongo-uri", "mongodb://x", "--out", filepath.Join(t.TempDir(), "m")); code != 2 || !strings.Contains(stderr, "mongodump") {
		t.Fatalf("backup of MongoDB: exit %d, %s", code, stderr)
	}
}
