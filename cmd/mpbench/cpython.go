package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpythonScript is the CPython side: every scenario is a function of the same name in it.
//
//go:embed cpython_bench.py
var cpythonScript []byte

// pythonSide runs cpython_bench.py, one metric per run, so each metric starts from a fresh
// interpreter (a forked worker inherits its parent's heap, so what an earlier metric
// allocated would otherwise show in the later ones).
type pythonSide struct {
	python  string // interpreter path; "" when the side is off
	script  string // the embedded script, written to a temporary file
	dir     string
	version string
	log     io.Writer
}

// newPythonSide finds the interpreter; without one the CPython column is null, with a warning.
func newPythonSide(o options, log io.Writer) *pythonSide {
	p := &pythonSide{log: log}
	if o.noPy {
		return p
	}
	path, err := exec.LookPath(o.python)
	if err != nil {
		fmt.Fprintf(log, "mpbench: warning: %s not found (%v): the CPython column is null\n", o.python, err)
		return p
	}
	out, err := exec.Command(path, "-c", "import platform; print(platform.python_version())").Output()
	if err != nil {
		fmt.Fprintf(log, "mpbench: warning: %s does not run (%v): the CPython column is null\n", path, err)
		return p
	}
	dir, err := os.MkdirTemp("", "mpbench-py-")
	if err != nil {
		fmt.Fprintf(log, "mpbench: warning: %v: the CPython column is null\n", err)
		return p
	}
	script := filepath.Join(dir, "cpython_bench.py")
	if err := os.WriteFile(script, cpythonScript, 0o644); err != nil {
		os.RemoveAll(dir)
		fmt.Fprintf(log, "mpbench: warning: %v: the CPython column is null\n", err)
		return p
	}
	p.python, p.script, p.dir = path, script, dir
	p.version = strings.TrimSpace(string(out))
	return p
}

func (p *pythonSide) close() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// pythonOutput is what cpython_bench.py prints.
type pythonOutput struct {
	Python  string `json:"python"`
	Metrics map[string]struct {
		Samples []float64 `json:"samples"`
		Error   string    `json:"error"`
	} `json:"metrics"`
}

// measure runs one metric; nil, nil when the CPython side is off.
func (p *pythonSide) measure(ctx context.Context, b *bench, name string) (*stats, error) {
	if p.python == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.d(5*time.Minute, time.Minute))
	defer cancel()
	args := []string{p.script, "--only", name, "--reps", strconv.Itoa(b.reps), "--workers", strconv.Itoa(b.workers)}
	if b.quick {
		args = append(args, "--quick")
	}
	cmd := exec.CommandContext(ctx, p.python, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("python: %w: %s", err, lastLine(stderr.String()))
	}
	var out pythonOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("python output: %w", err)
	}
	m, ok := out.Metrics[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("python printed no %s", name)
	case m.Error != "":
		return nil, fmt.Errorf("python: %s", m.Error)
	}
	return newStats(m.Samples)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
