// Package api is xinling's HTTP surface: routes, request decoding and
// validation, error mapping and middleware. Handlers translate HTTP into
// assess calls and back, and nothing more.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/roster"
	"xinling/store"
)

// API-level codes that assess does not produce.
const (
	codeMalformedJSON = "malformed_json"
	codeBodyTooLarge  = "body_too_large"
	codeRateLimited   = "rate_limited"
	codeNotFound      = "not_found"
	codeMethod        = "method_not_allowed"
	codeInternal      = "internal"
	codeMediaType     = "unsupported_media_type"
)

// statusOf maps every error code to its HTTP status.
var statusOf = map[string]int{
	codeMalformedJSON:            http.StatusBadRequest,
	assess.CodeValidation:        http.StatusBadRequest,
	assess.CodeTokenInvalid:      http.StatusUnauthorized,
	assess.CodeInstrumentUnknown: http.StatusNotFound,
	assess.CodeSessionNotFound:   http.StatusNotFound,
	assess.CodeItemUnknown:       http.StatusNotFound,
	codeNotFound:                 http.StatusNotFound,
	codeMethod:                   http.StatusMethodNotAllowed,
	assess.CodeSessionSubmitted:  http.StatusConflict,
	assess.CodeSessionExpired:    http.StatusGone,
	codeBodyTooLarge:             http.StatusRequestEntityTooLarge,
	assess.CodeConsentRequired:   http.StatusUnprocessableEntity,
	assess.CodeOutOfRange:        http.StatusUnprocessableEntity,
	assess.CodeIncomplete:        http.StatusUnprocessableEntity,
	codeRateLimited:              http.StatusTooManyRequests,
	assess.CodeUnavailable:       http.StatusServiceUnavailable,
	assess.CodeAuditUnavailable:  http.StatusServiceUnavailable,
	codeInternal:                 http.StatusInternalServerError,
	codeMediaType:                http.StatusUnsupportedMediaType,
	assess.CodeUnauthenticated:   http.StatusUnauthorized,
	assess.CodeLoginFailed:       http.StatusUnauthorized,
	assess.CodeAccountLocked:     http.StatusLocked,
	assess.CodeForbidden:         http.StatusForbidden,
	assess.CodeCSRF:              http.StatusForbidden,
	assess.CodeMustChange:        http.StatusForbidden,
	assess.CodeConflict:          http.StatusConflict,
	assess.CodeInstrumentInvalid: http.StatusUnprocessableEntity,
	assess.CodeInstrumentTaken:   http.StatusConflict,
	assess.CodeImmutable:         http.StatusConflict,
	assess.CodeWorkbookInvalid:   http.StatusUnprocessableEntity,
	assess.CodeCampaignClosed:    http.StatusGone,
	assess.CodeCodeUnknown:       http.StatusNotFound,
	assess.CodeNotifyFailed:      http.StatusBadGateway,
	assess.CodeLocaleUnknown:     http.StatusBadRequest,
	assess.CodeRetakeTooEarly:    http.StatusConflict,
	assess.CodeResultValid:       http.StatusConflict,
	assess.CodeRetakeImpossible:  http.StatusConflict,
	roster.CodeFormat:            http.StatusUnsupportedMediaType,
	roster.CodeUnreadable:        http.StatusUnprocessableEntity,
	roster.CodeTooLarge:          http.StatusRequestEntityTooLarge,
	roster.CodeColumns:           http.StatusUnprocessableEntity,
	roster.CodeEmpty:             http.StatusUnprocessableEntity,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// RequestID lets a user's report be matched with the server's log.
	RequestID string `json:"request_id,omitempty"`
}

func sendError(c *fiber.Ctx, code, message, field string) error {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return c.Status(status).JSON(errorBody{Error: errorDetail{Code: code, Message: message, Field: field, RequestID: requestIDOf(c)}})
}

// errorHandler is the one place errors become responses. Errors that are
// not the caller's fault are logged with the request id and answered with
// a generic message, so internals never leak.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var ae *assess.Error
		if errors.As(err, &ae) {
			return sendError(c, ae.Code, ae.Message, ae.Field)
		}
		if errors.Is(err, store.ErrInvalid) {
			// The store refused input that got past the checks above it,
			// such as a forged ?after= cursor: the caller's fault.
			detail := strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")
			field := ""
			if detail == "cursor" {
				field = "after"
			}
			return sendError(c, assess.CodeValidation, "the request has a value the server cannot use: "+detail, field)
		}
		var fe *fiber.Error
		if errors.As(err, &fe) {
			switch fe.Code {
			case fiber.StatusRequestEntityTooLarge:
				return sendError(c, codeBodyTooLarge, "the request body is larger than this server accepts", "")
			case fiber.StatusNotFound:
				return sendError(c, codeNotFound, "no such endpoint", "")
			case fiber.StatusMethodNotAllowed:
				return sendError(c, codeMethod, "this endpoint does not accept "+c.Method(), "")
			case fiber.StatusTooManyRequests:
				return sendError(c, codeRateLimited, "too many requests; please slow down", "")
			case fiber.StatusBadRequest:
				return sendError(c, codeMalformedJSON, fe.Message, "")
			}
			if fe.Code < 500 {
				return c.Status(fe.Code).JSON(errorBody{Error: errorDetail{Code: http.StatusText(fe.Code), Message: fe.Message, RequestID: requestIDOf(c)}})
			}
		}
		// The context carries the request id into the line.
		log.ErrorContext(c.UserContext(), "request failed", "method", c.Method(), "route", routeOf(c), "err", err)
		return sendError(c, codeInternal, "something went wrong on our side; your saved answers are safe, please try again", "")
	}
}
