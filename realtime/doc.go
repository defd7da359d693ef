// Package realtime will carry live events to websocket clients: one reader
// and one writer per connection, topics, replay by sequence number, then
// live. It knows nothing of exams. It is empty until the live-results issue
// (examiner screens) needs it; nothing in the booking foundation publishes yet.
package realtime
