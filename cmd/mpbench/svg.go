package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// svgChart draws one panel per metric with a bar for each side (mp, CPython, floor), its
// value written above it. A panel whose values span more than 20x uses a log scale.
// Hand-written SVG: no dependencies, and it renders on GitHub.
func svgChart(rs []result, m machine, cmdline string, when time.Time) []byte {
	const (
		cols   = 5
		panelW = 230
		panelH = 210
		top    = 96
		margin = 20
	)
	rows := (len(rs) + cols - 1) / cols
	width := margin*2 + cols*panelW
	height := top + rows*panelH + margin
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%d" y="24" font-size="16" font-weight="bold">mp vs CPython multiprocessing vs the OS floor</text>`+"\n", margin)
	p(`<text x="%d" y="42">%s, %s</text>`+"\n", margin, esc(when.UTC().Format("2006-01-02 15:04 UTC")), esc(m.String()))
	p(`<text x="%d" y="58" font-family="monospace">%s</text>`+"\n", margin, esc(cmdline))
	p(`<text x="%d" y="74">median of each side; each panel has its own scale (log where marked); "n/a": not measured</text>`+"\n", margin)
	legendX := width - margin - 3*80
	for i, sd := range svgSides {
		x := legendX + i*80
		p(`<rect x="%d" y="14" width="12" height="12" fill="%s"/><text x="%d" y="24">%s</text>`+"\n", x, sd.color, x+16, sd.label)
	}
	for i, r := range rs {
		x0 := margin + (i%cols)*panelW
		y0 := top + (i/cols)*panelH
		svgPanel(&sb, r, x0, y0, panelW-16, panelH-16)
	}
	p("</svg>\n")
	return []byte(sb.String())
}

var svgSides = []struct{ label, color string }{
	{"mp", "#1f77b4"},
	{"CPython", "#f2b701"},
	{"floor", "#7f7f7f"},
}

func svgPanel(sb *strings.Builder, r result, x0, y0, w, h int) {
	p := func(format string, args ...any) { fmt.Fprintf(sb, format, args...) }
	vals := []*stats{r.MP, r.CPython, r.Floor}
	lo, hi := math.Inf(1), 0.0
	for _, s := range vals {
		if s != nil && s.Median > 0 {
			lo, hi = math.Min(lo, s.Median), math.Max(hi, s.Median)
		}
	}
	logScale := hi > 0 && hi/lo > 20
	better := "lower is better"
	if r.Better == "higher" {
		better = "higher is better"
	}
	scaleNote := ""
	if logScale {
		scaleNote = ", log scale"
	}
	p(`<g transform="translate(%d,%d)">`+"\n", x0, y0)
	p(`<rect width="%d" height="%d" fill="#fafafa" stroke="#ddd"/>`+"\n", w, h)
	p(`<text x="6" y="16" font-weight="bold">%s</text>`+"\n", esc(r.Name))
	p(`<text x="6" y="30" fill="#555">%s, %s%s</text>`+"\n", esc(r.Unit), better, scaleNote)
	const plotTop, plotBottom = 66, 26 // space for labels above, names below
	ph := float64(h - plotTop - plotBottom)
	base := float64(h - plotBottom)
	// height maps a value to a bar height in [2, ph].
	height := func(v float64) float64 {
		if hi <= 0 || v <= 0 {
			return 0
		}
		if !logScale {
			return math.Max(2, ph*v/hi)
		}
		floor := math.Floor(math.Log10(lo)) // a decade below the smallest value
		span := math.Log10(hi) - floor
		return math.Max(2, ph*(math.Log10(v)-floor)/span)
	}
	bw := float64(w-24) / 3
	for i, s := range vals {
		sd := svgSides[i]
		x := 12 + float64(i)*bw
		cx := x + bw/2
		p(`<text x="%.1f" y="%.1f" text-anchor="middle" fill="#333">%s</text>`+"\n", cx, float64(h-10), sd.label)
		if s == nil {
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" fill="#999">n/a</text>`+"\n", cx, base-4)
			continue
		}
		bh := height(s.Median)
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: median %s, min %s, max %s</title></rect>`+"\n",
			x+6, base-bh, bw-12, bh, sd.color, sd.label, esc(r.Name), formatValue(s.Median), formatValue(s.Min), formatValue(s.Max))
		p(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", cx, base-bh-4, formatValue(s.Median))
	}
	p(`<line x1="8" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>`+"\n", base, w-8, base)
	if x, ok := ratio(r.Better, r.MP, r.CPython); ok {
		p(`<text x="%d" y="44" text-anchor="end" fill="#1f77b4">mp %sx CPython</text>`+"\n", w-6, formatValue(x))
	}
	p("</g>\n")
}

func esc(s string) string { return html.EscapeString(s) }
