// Package testkit is what every package's tests share: a settable clock,
// resident ID numbers, event ids, a JSON client for a running examd and the
// headless-Chromium harness. The real-PostgreSQL harness is pgtest, beside
// the cluster code it drives.
package testkit
