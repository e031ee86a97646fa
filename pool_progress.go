package mp

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// newPoolBar returns a progress function that draws a bar on standard error when it is a
// terminal, and also calls next (if any).
func newPoolBar(next func(done, total int)) func(done, total int) {
	if !poolIsTerminal(os.Stderr) {
		if next == nil {
			return nil
		}
		return next
	}
	b := &poolBar{start: time.Now(), w: os.Stderr}
	return func(done, total int) {
		if next != nil {
			next(done, total)
		}
		b.update(done, total)
	}
}

type poolBar struct {
	start time.Time
	last  time.Time
	w     *os.File
}

func (b *poolBar) update(done, total int) {
	now := time.Now()
	if done < total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	fmt.Fprint(b.w, "\r"+poolBarLine(done, total, now.Sub(b.start), 30))
	if done >= total {
		fmt.Fprintln(b.w)
	}
}

// poolBarLine renders one line of the bar: "[#####.....]  50% 500/1000 1234/s ETA 2s".
func poolBarLine(done, total int, elapsed time.Duration, width int) string {
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	fill := int(frac * float64(width))
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(total-done) / rate * float64(time.Second))).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %3.0f%% %d/%d %.0f/s ETA %s ", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		frac*100, done, total, rate, eta)
}
