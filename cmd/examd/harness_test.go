package main

import (
	"testing"

	"examd/internal/pg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
