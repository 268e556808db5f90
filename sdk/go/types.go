package atomic

import (
	"encoding/json"
	"time"
)

// The shapes of the gateway's answers, as its OpenAPI document (/openapi.json) describes them. Values whose shape is
// the caller's (a task's result, a schema document) or open-ended are kept as json.RawMessage.

// Usage counts the tokens of an answer.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// SchemaRef names one version of a registered schema.
type SchemaRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// SchemaSelector is the schema a task's result must satisfy: a registered one by Name (and Version, latest if 0),
// or Inline, a JSON Schema document.
type SchemaSelector struct {
	Name    string         `json:"name,omitempty"`
	Version int            `json:"version,omitempty"`
	Inline  map[string]any `json:"inline,omitempty"`
}

// TaskRequest is the body of POST /v1/tasks; RunTask and SubmitTask set its mode.
type TaskRequest struct {
	// Input is the work: text, or a JSON object.
	Input        any             `json:"input"`
	Instructions string          `json:"instructions,omitempty"`
	Schema       *SchemaSelector `json:"schema,omitempty"`
	// Model names the model; empty lets bidding choose.
	Model       string   `json:"model,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Seed        *int     `json:"seed,omitempty"`
	// Criteria weighs and constrains bidding for this task (see the gateway's documentation).
	Criteria json.RawMessage `json:"criteria,omitempty"`
	// WebhookURL (asynchronous tasks; its origin on the gateway's webhooks.allow) is POSTed the signed outcome.
	WebhookURL string `json:"-"`
	// Extra holds further parameters of POST /v1/tasks by their JSON names (top_p, label, …).
	Extra map[string]any `json:"-"`
}

// Float is a pointer to x, for the optional numbers of requests.
func Float(x float64) *float64 { return &x }

// Int is a pointer to x, for the optional numbers of requests.
func Int(x int) *int { return &x }

// TaskLinks says where a task is followed.
type TaskLinks struct {
	Self      string `json:"self"`
	Events    string `json:"events"`
	Cancel    string `json:"cancel"`
	Execution string `json:"execution"`
}

// TaskResult answers a synchronous task: ID is its execution's (and audit event's) id.
type TaskResult struct {
	ID        string          `json:"id"`
	Object    string          `json:"object"`
	Status    string          `json:"status"`
	Model     string          `json:"model"`
	Result    json.RawMessage `json:"result"`
	Schema    *SchemaRef      `json:"schema"`
	Attempts  int             `json:"attempts"`
	Usage     Usage           `json:"usage"`
	Execution string          `json:"execution"`
}

// TaskAccepted answers an asynchronous task (202): its plan and where to follow it.
type TaskAccepted struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Mode       string `json:"mode"`
	Status     string `json:"status"`
	Microtasks []struct {
		ID             string   `json:"id"`
		Model          string   `json:"model"`
		FallbackModels []string `json:"fallback_models"`
		DependsOn      []string `json:"depends_on"`
	} `json:"microtasks"`
	Redacted bool      `json:"redacted"`
	Links    TaskLinks `json:"links"`
}

// TaskError is why a task or microtask failed.
type TaskError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details,omitempty"`
}

// MicrotaskResult is one finished microtask of an asynchronous task.
type MicrotaskResult struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	Model            string          `json:"model,omitempty"`
	ModelDigest      string          `json:"modelDigest,omitempty"`
	TaskQueue        string          `json:"taskQueue,omitempty"`
	ExecutionID      string          `json:"executionId,omitempty"`
	Text             string          `json:"text,omitempty"`
	Value            json.RawMessage `json:"value,omitempty"`
	PromptTokens     int             `json:"promptTokens"`
	CompletionTokens int             `json:"completionTokens"`
	Fallbacks        []struct {
		Model     string  `json:"model"`
		TaskQueue *string `json:"taskQueue"`
		Outcome   string  `json:"outcome"`
		Code      string  `json:"code"`
		Message   string  `json:"message"`
	} `json:"fallbacks"`
	Error *TaskError `json:"error,omitempty"`
}

// Task is an asynchronous task (GET /v1/tasks/{id}, and each event of its stream): Status running, then succeeded,
// failed, cancelled, terminated or timed_out. Succeeded or failed come as soon as the result is recorded: Learning
// and Webhook are {"pending":true} while still under way. Decision is set on GET only.
type Task struct {
	ID         string            `json:"id"`
	Object     string            `json:"object"`
	Mode       string            `json:"mode"`
	Status     string            `json:"status"`
	Links      TaskLinks         `json:"links"`
	Progress   json.RawMessage   `json:"progress,omitempty"`
	Result     json.RawMessage   `json:"result,omitempty"`
	Error      *TaskError        `json:"error,omitempty"`
	Microtasks []MicrotaskResult `json:"microtasks,omitempty"`
	Learning   json.RawMessage   `json:"learning,omitempty"`
	Webhook    json.RawMessage   `json:"webhook,omitempty"`
	Decision   *Decision         `json:"decision,omitempty"`
}

// TaskEvent is one event of a task's stream: Type progress or done, and the task as it then stood.
type TaskEvent struct {
	Type string
	ID   string
	Task Task
}

// TaskCancelling answers a cancellation.
type TaskCancelling struct {
	ID     string    `json:"id"`
	Object string    `json:"object"`
	Status string    `json:"status"`
	Links  TaskLinks `json:"links"`
}

// SchemaRegistration is the body of POST /v1/schemas.
type SchemaRegistration struct {
	Name string `json:"name"`
	// Version is the version to register; 0 registers the next one.
	Version     int            `json:"version,omitempty"`
	Description string         `json:"description,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// Schema is one version of a registered JSON Schema.
type Schema struct {
	Object      string          `json:"object"`
	Name        string          `json:"name"`
	Version     int             `json:"version"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	SHA256      string          `json:"sha256"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Bid is one model's bid for a microtask.
type Bid struct {
	Model      string   `json:"model"`
	Confidence float64  `json:"confidence"`
	Cost       float64  `json:"cost"`
	LatencyMs  float64  `json:"latencyMs"`
	Score      float64  `json:"score"`
	Eligible   bool     `json:"eligible"`
	ExcludedBy []string `json:"excludedBy"`
}

// Decision is the bidding decision behind an execution or task: the plan, every bid, the choice.
type Decision struct {
	Version     int       `json:"version"`
	ExecutionID string    `json:"executionId"`
	CreatedAt   time.Time `json:"createdAt"`
	Policy      struct {
		Name   string `json:"name"`
		Frozen bool   `json:"frozen"`
		Epoch  int    `json:"epoch"`
	} `json:"policy"`
	Criteria   json.RawMessage `json:"criteria"`
	Planner    string          `json:"planner"`
	Microtasks []struct {
		ID        string   `json:"id"`
		Kind      string   `json:"kind"`
		Executor  string   `json:"executor"`
		DependsOn []string `json:"dependsOn"`
		Parallel  bool     `json:"parallel"`
		Bids      []Bid    `json:"bids"`
		Choice    *struct {
			Model       string `json:"model"`
			Mode        string `json:"mode"`
			GreedyModel string `json:"greedyModel"`
			Reason      string `json:"reason"`
		} `json:"choice"`
	} `json:"microtasks"`
}

// Execution is what was stored for one request.
type Execution struct {
	ID          string                           `json:"id"`
	Object      string                           `json:"object"`
	RequestID   string                           `json:"request_id"`
	Actor       struct{ Subject, Tenant string } `json:"actor"`
	Endpoint    string                           `json:"endpoint"`
	Model       string                           `json:"model"`
	ModelSHA256 string                           `json:"model_sha256"`
	Status      string                           `json:"status"`
	ErrorCode   *string                          `json:"error_code"`
	Parameters  map[string]any                   `json:"parameters"`
	Input       json.RawMessage                  `json:"input"`
	Output      json.RawMessage                  `json:"output"`
	Schema      *SchemaRef                       `json:"schema"`
	Usage       Usage                            `json:"usage"`
	TimingsMs   struct {
		Queue     float64 `json:"queue"`
		Inference float64 `json:"inference"`
		Total     float64 `json:"total"`
	} `json:"timings_ms"`
	CreatedAt     time.Time `json:"created_at"`
	CompletedAt   time.Time `json:"completed_at"`
	ContentErased *struct {
		At           time.Time `json:"at"`
		AuditEventID string    `json:"audit_event_id"`
	} `json:"content_erased"`
	TraceID  *string   `json:"trace_id"`
	Decision *Decision `json:"decision"`
}

// FeedbackRequest is the body of POST /v1/feedback: Score from 0 (useless) to 1 (exactly right).
type FeedbackRequest struct {
	ExecutionID string  `json:"execution_id"`
	Score       float64 `json:"score"`
	Comment     string  `json:"comment,omitempty"`
	// Correction is the right answer: text, or the JSON value of a structured answer.
	Correction any `json:"correction,omitempty"`
}

// Feedback says what was learned from a judgement.
type Feedback struct {
	Object      string          `json:"object"`
	ExecutionID string          `json:"execution_id"`
	Outcomes    int             `json:"outcomes"`
	Learned     int             `json:"learned"`
	Adaptation  json.RawMessage `json:"adaptation"`
}

// AuditEvent is one event as the log holds it: digests and names, never content. Raw is all of it.
type AuditEvent struct {
	V     int    `json:"v"`
	ID    string `json:"id"`
	Time  string `json:"time"`
	Kind  string `json:"kind"`
	Actor *struct {
		Subject string `json:"subject"`
		Tenant  string `json:"tenant"`
	} `json:"actor,omitempty"`
	Request *struct {
		ID          string `json:"id"`
		Endpoint    string `json:"endpoint"`
		ExecutionID string `json:"executionId"`
	} `json:"request,omitempty"`
	Outcome *struct {
		Status string `json:"status"`
		Code   string `json:"code"`
	} `json:"outcome,omitempty"`
	Detail map[string]any  `json:"detail,omitempty"`
	Raw    json.RawMessage `json:"-"`
}

// Event is one event of GET /v1/events: ID is its index in the audit log (resume after it), Kind its kind.
type Event struct {
	ID    string
	Kind  string
	Event AuditEvent
}
