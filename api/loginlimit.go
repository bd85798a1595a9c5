package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// loginAccountKey keys the second sign-in limit: Config.RateLogin applies
// per client address and, through this key, per account name, whatever
// address the attempts come from. Guesses spread over many addresses (or
// sent in parallel, ahead of the lockout count) still meet a limit. Only
// a hash of the name is kept. A body that does not decode is keyed by
// address; the handler rejects it anyway.
func loginAccountKey(c *fiber.Ctx) string {
	var req struct{ Login string }
	if json.Unmarshal(c.Body(), &req) != nil || req.Login == "" {
		return "ip:" + c.IP()
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(req.Login))))
	return "login:" + hex.EncodeToString(sum[:8])
}
