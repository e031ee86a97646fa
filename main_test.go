package mp_test

import (
	"os"
	"testing"

	"github.com/mpgo/mp"
)

func TestMain(m *testing.M) {
	mp.Main()
	os.Exit(m.Run())
}
