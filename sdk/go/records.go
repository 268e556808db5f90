package atomic

import (
	"context"
	"net/http"
	"strconv"
)

// RegisterSchema registers a JSON Schema (the next version, or the one given). The same document again is a
// success; another document under a taken version is an *APIError with code schema_version_conflict.
func (c *Client) RegisterSchema(ctx context.Context, registration SchemaRegistration) (*Schema, error) {
	return callFor[Schema](ctx, c, http.MethodPost, "/v1/schemas", nil, registration)
}

// Schema is a registered schema's latest version, or the version given (0 for the latest).
func (c *Client) Schema(ctx context.Context, name string, version int) (*Schema, error) {
	path := "/v1/schemas/" + pathSegment(name)
	if version > 0 {
		path += "/versions/" + strconv.Itoa(version)
	}
	return callFor[Schema](ctx, c, http.MethodGet, path, nil, nil)
}

// Schemas is the latest version of each of the tenant's schemas.
func (c *Client) Schemas(ctx context.Context) ([]Schema, error) {
	list, err := callFor[struct {
		Data []Schema `json:"data"`
	}](ctx, c, http.MethodGet, "/v1/schemas", nil, nil)
	if err != nil {
		return nil, err
	}
	return list.Data, nil
}

// Execution is what was stored for one request (of the caller's tenant).
func (c *Client) Execution(ctx context.Context, id string) (*Execution, error) {
	return callFor[Execution](ctx, c, http.MethodGet, "/v1/executions/"+pathSegment(id), nil, nil)
}

// ExecutionReceipt is the audit receipt of one of the caller's tenant's executions, with the scopes that read
// executions (no audit:read): what AuditReceipt answers for its event, options alike. Verify it offline with its
// Verify method or VerifyReceipt.
func (c *Client) ExecutionReceipt(ctx context.Context, executionID string, options ReceiptOptions) (*Receipt, error) {
	return c.receipt(ctx, "/v1/executions/"+pathSegment(executionID)+"/receipt", options)
}

// Decision is the bidding decision x-atomic-decision-id names (its plan, every bid, the choice), stored under an
// execution's or an asynchronous task's id; an APIError decision_not_found where the caller named the model.
func (c *Client) Decision(ctx context.Context, id string) (*Decision, error) {
	return callFor[Decision](ctx, c, http.MethodGet, "/v1/decisions/"+pathSegment(id), nil, nil)
}

// CreateFeedback judges an execution's answer, taught to bidding and adaptation.
func (c *Client) CreateFeedback(ctx context.Context, request FeedbackRequest) (*Feedback, error) {
	return callFor[Feedback](ctx, c, http.MethodPost, "/v1/feedback", nil, request)
}
