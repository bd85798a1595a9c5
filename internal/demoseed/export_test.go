package demoseed

// StraightLiners are the student numbers of the pupils who gave one answer
// to every item, as planned for the school year that began in schoolYear:
// the tests check that exactly their results are flagged invalid.
func StraightLiners(schoolYear int) map[string]bool {
	out := map[string]bool{}
	for _, p := range plan(Seed, schoolYear) {
		if p.attend == took && p.style == straight {
			out[p.no] = true
		}
	}
	return out
}
