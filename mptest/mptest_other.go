//go:build !linux

package mptest

func openFDs() []string      { return nil }
func fdTarget(string) string { return "" }
func livingChildren() []int  { return nil }
