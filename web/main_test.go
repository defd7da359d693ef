package web_test

import (
	"testing"

	"examd/internal/pg/pgtest"
)

// The pages' tests run a whole examd (servertest), in Chromium for the
// browser_* ones.
func TestMain(m *testing.M) { pgtest.Main(m) }
