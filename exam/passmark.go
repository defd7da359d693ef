// Package exam scores exam attempts by the national standard (GA 1026):
// pass marks, the deduction catalogue and attempts. It starts with the pass
// marks; attempts and scoring arrive with the live-results issue.
package exam

// FullScore is what every attempt starts from (SC-SCALE).
const FullScore = 100

// PassMark is the lowest passing score of a subject for a licence class
// (SC-PASS): 90 for subject 2 of the large classes (A1, A2, A3, B1, B2, C6)
// and for subjects 3 and 4 of every class, 80 for subject 2 of the others.
func PassMark(subject int, licenceClass string) int {
	if subject == 2 {
		switch licenceClass {
		case "A1", "A2", "A3", "B1", "B2", "C6":
			return 90
		}
		return 80
	}
	return 90
}
