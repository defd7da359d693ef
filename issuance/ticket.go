package issuance

import "fmt"

// ticketPrefix is the letter of a lane's tickets, each lane counting its
// own: A, and P for the priority lane, whose tickets stand out (PL-ORDER).
func ticketPrefix(priorityLane bool) string {
	if priorityLane {
		return "P"
	}
	return "A"
}

// ticketText is the lane's n-th ticket of a day (1 for the first): A001 to
// A999, then A1000 and on, never cut (the 1000th is not A100).
func ticketText(priorityLane bool, n int) string {
	return fmt.Sprintf("%s%03d", ticketPrefix(priorityLane), n)
}
