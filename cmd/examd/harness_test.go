package main

import (
	"testing"
	"time"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The end-to-end tests drive a whole examd (servertest) through its API.
type (
	app       = servertest.App
	response  = testkit.Response
	candidate = servertest.Candidate
)

const adminPassword = servertest.AdminPassword

// day returns the date d days from today in Asia/Shanghai, by the wall
// clock: for apps that run on it (servertest.Start).
func day(d int) time.Time { return testkit.Day(time.Now(), d) }

var shanghai = testkit.Shanghai
