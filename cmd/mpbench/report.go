package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ratioHeader says how the ratio columns read.
const ratioHeader = "ratios: >1 means mp is better (other/mp where lower is better, mp/other where higher is better)"

// writeTable prints the human-readable table, then the notes and the errors.
func writeTable(w io.Writer, rs []result, m machine, cmdline string, md bool, notes []string) {
	fmt.Fprintf(w, "mpbench, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %s\n", m)
	fmt.Fprintf(w, "command: %s\n", cmdline)
	fmt.Fprintf(w, "median of %d repetitions; %s; - means not measured\n\n", repsOf(rs), ratioHeader)
	header := []string{"metric", "unit", "mp", "CPython", "floor", "mp vs CPython", "mp vs floor"}
	rows := [][]string{}
	for _, r := range rs {
		rows = append(rows, []string{r.Name, r.Unit, cell(r, "mp", r.MP), cell(r, "cpython", r.CPython), cell(r, "floor", r.Floor),
			ratioCell(r.Better, r.MP, r.CPython), ratioCell(r.Better, r.MP, r.Floor)})
	}
	if md {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, row := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	} else {
		writeAligned(w, header, rows)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "\nnote: %s", n)
	}
	for _, r := range rs {
		for _, k := range []string{"mp", "cpython", "floor"} {
			if e, ok := r.errs[k]; ok {
				fmt.Fprintf(w, "\nerror: %s %s: %s", r.Name, k, e)
			}
		}
	}
	fmt.Fprintln(w)
}

func repsOf(rs []result) int {
	for _, r := range rs {
		for _, s := range []*stats{r.MP, r.CPython, r.Floor} {
			if s != nil {
				return len(s.Samples)
			}
		}
	}
	return 0
}

func cell(r result, side string, s *stats) string {
	if s != nil {
		return formatValue(s.Median)
	}
	if _, ok := r.errs[side]; ok {
		return "error"
	}
	return "-"
}

func ratioCell(better string, mp, other *stats) string {
	if x, ok := ratio(better, mp, other); ok {
		return formatValue(x) + "x"
	}
	return "-"
}

// formatValue prints about three significant digits, with k/M/G for large numbers.
func formatValue(v float64) string {
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e4, "k"}} {
		if v >= u.div {
			if u.suffix == "k" {
				return sig3(v/1e3) + "k"
			}
			return sig3(v/u.div) + u.suffix
		}
	}
	return sig3(v)
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v == 0:
		return "0"
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// jsonResult is one element of the -json array. A side that was not measured is null.
type jsonResult struct {
	Name        string               `json:"name"`
	Unit        string               `json:"unit"`
	MP          *float64             `json:"mp"`
	CPython     *float64             `json:"cpython"`
	Floor       *float64             `json:"floor"`
	Better      string               `json:"better"`
	MPVsCPython *float64             `json:"mp_vs_cpython"`
	MPVsFloor   *float64             `json:"mp_vs_floor"`
	Min         map[string]float64   `json:"min"`
	Max         map[string]float64   `json:"max"`
	Samples     map[string][]float64 `json:"samples"`
	Errors      map[string]string    `json:"errors,omitempty"`
}

func writeJSON(w io.Writer, rs []result) error {
	out := make([]jsonResult, 0, len(rs))
	for _, r := range rs {
		j := jsonResult{Name: r.Name, Unit: r.Unit, Better: r.Better, Min: map[string]float64{}, Max: map[string]float64{}, Samples: map[string][]float64{}}
		for side, s := range map[string]*stats{"mp": r.MP, "cpython": r.CPython, "floor": r.Floor} {
			if s == nil {
				continue
			}
			j.Min[side], j.Max[side], j.Samples[side] = s.Min, s.Max, s.Samples
		}
		j.MP, j.CPython, j.Floor = median(r.MP), median(r.CPython), median(r.Floor)
		if x, ok := ratio(r.Better, r.MP, r.CPython); ok {
			j.MPVsCPython = &x
		}
		if x, ok := ratio(r.Better, r.MP, r.Floor); ok {
			j.MPVsFloor = &x
		}
		if len(r.errs) > 0 {
			j.Errors = r.errs
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func median(s *stats) *float64 {
	if s == nil {
		return nil
	}
	v := s.Median
	return &v
}

// writeAligned prints columns padded to width: the first two left-aligned, the numbers right.
func writeAligned(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	for _, row := range append([][]string{header}, rows...) {
		var sb strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len(c))
			if i < 2 {
				sb.WriteString(c + pad + "  ")
			} else {
				sb.WriteString(pad + c + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
}
