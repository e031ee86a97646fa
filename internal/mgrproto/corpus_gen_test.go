package mgrproto

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteSeedCorpus rewrites testdata/fuzz/FuzzHandleFrames when MP_WRITE_CORPUS=1.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("MP_WRITE_CORPUS") != "1" {
		return
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzHandleFrames")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	full := seedStream(t)
	seeds := map[string][]byte{
		"session":   full,
		"truncated": full[:len(full)/2+3],
		"garbage":   []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"oversized": {0x00, 0x00, 0x00, 0x40, KindRequest, 0xa0},
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
