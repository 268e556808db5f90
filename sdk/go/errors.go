package atomic

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// APIError is the gateway's refusal of a request: Code is its stable error code (invalid_parameter,
// task_not_found, schema_version_conflict, audit_event_pending, …), StatusCode the HTTP status.
type APIError struct {
	StatusCode int
	Type       string
	Code       string
	Message    string
	Param      string
	Details    json.RawMessage
	RequestID  string
	// RetryAfter is the gateway's Retry-After (overload, rate limits, an audit event not yet sequenced); 0 if none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("atomic: %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// ErrorCode is the gateway's error code of err if it is (or wraps) an *APIError, else "".
func ErrorCode(err error) string {
	var apiError *APIError
	if errors.As(err, &apiError) {
		return apiError.Code
	}
	return ""
}

func apiErrorFrom(response *http.Response, body []byte) *APIError {
	var envelope struct {
		Error struct {
			Type    string          `json:"type"`
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Param   *string         `json:"param"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	apiError := &APIError{StatusCode: response.StatusCode, RequestID: response.Header.Get("x-request-id")}
	if json.Unmarshal(body, &envelope) == nil && envelope.Error.Code != "" {
		apiError.Type, apiError.Code, apiError.Message, apiError.Details = envelope.Error.Type, envelope.Error.Code, envelope.Error.Message, envelope.Error.Details
		if envelope.Error.Param != nil {
			apiError.Param = *envelope.Error.Param
		}
	} else {
		apiError.Message = http.StatusText(response.StatusCode)
	}
	if seconds, err := strconv.Atoi(response.Header.Get("retry-after")); err == nil {
		apiError.RetryAfter = time.Duration(seconds) * time.Second
	}
	return apiError
}

// VerificationError says which offline check failed: Code is one of those Atomic's own verifiers use
// (inclusion_failed, checkpoint_signature, tree_mismatch, …; for webhooks body_mismatch, signature_invalid, …).
type VerificationError struct {
	Code   string
	Reason string
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("atomic: %s: %s", e.Code, e.Reason)
}

func refuse(code, format string, args ...any) *VerificationError {
	return &VerificationError{Code: code, Reason: fmt.Sprintf(format, args...)}
}
