package atomic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"
)

// Against a running gateway (test/sdk/sdk.test.ts starts one): skipped unless ATOMIC_SDK_BASE_URL is set.
// ATOMIC_SDK_API_KEY has scopes tasks and audit:read, of a tenant of its own; ATOMIC_SDK_APP_KEY only tasks, of the
// same tenant (an application, not an auditor); ATOMIC_SDK_PUBLIC_KEY is the path of the log's public JWK; ATOMIC_SDK_WEBHOOK_PORT a loopback port on the gateway's webhooks.allow.

var ticket = map[string]any{
	"type":       "object",
	"properties": map[string]any{"title": map[string]any{"type": "string", "maxLength": 20}, "floor": map[string]any{"type": "integer", "minimum": 0, "maximum": 9}},
	"required":   []any{"title", "floor"},
}

func TestIntegration(t *testing.T) {
	baseURL := os.Getenv("ATOMIC_SDK_BASE_URL")
	if baseURL == "" {
		t.Skip("ATOMIC_SDK_BASE_URL names no gateway")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := NewClient(baseURL, os.Getenv("ATOMIC_SDK_API_KEY"), WithTimeout(time.Minute))
	jwk, err := os.ReadFile(os.Getenv("ATOMIC_SDK_PUBLIC_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	keys := MustParsePublicKeys(jwk)

	if _, err := client.RegisterSchema(ctx, SchemaRegistration{Name: "ticket", Schema: ticket, Description: "a facilities ticket"}); err != nil {
		t.Fatal(err)
	}
	task, err := client.RunTask(ctx, TaskRequest{Input: "The printer on floor 3 is jammed", Schema: &SchemaSelector{Name: "ticket"}, MaxTokens: 48, Temperature: Float(0)})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a task is answered and its execution read", func(t *testing.T) {
		var result struct {
			Title *string `json:"title"`
			Floor *int    `json:"floor"`
		}
		if err := json.Unmarshal(task.Result, &result); err != nil || result.Title == nil || result.Floor == nil || task.Schema == nil || *task.Schema != (SchemaRef{"ticket", 1}) {
			t.Fatalf("want a ticket, got %s (%v)", task.Result, err)
		}
		execution, err := client.Execution(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if execution.ID != task.ID || execution.Endpoint != "tasks" || execution.Status != "succeeded" || execution.Model != task.Model {
			t.Fatalf("the execution is not the task's: %+v", execution)
		}
	})

	t.Run("the task's receipt verifies offline in a checkpoint held", func(t *testing.T) {
		receipt, err := client.AuditReceipt(ctx, task.ID, ReceiptOptions{Wait: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		verified, err := receipt.Verify(keys, VerifyOptions{})
		if err != nil || verified.EventID != task.ID || verified.Kind != "request" {
			t.Fatalf("want the task's request event verified, got %+v (%v)", verified, err)
		}
		held, err := client.AuditCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := VerifyCheckpoint(held, keys)
		if err != nil {
			t.Fatal(err)
		}
		inHeld, err := client.AuditReceipt(ctx, task.ID, ReceiptOptions{TreeSize: signed.Checkpoint.Size})
		if err != nil {
			t.Fatal(err)
		}
		if verified, err := inHeld.Verify(keys, VerifyOptions{HeldCheckpoint: held}); err != nil || !verified.Held {
			t.Fatalf("want the receipt in the held checkpoint, got %+v (%v)", verified, err)
		}
		tampered := *inHeld
		tampered.raw, tampered.Leaf = nil, inHeld.Leaf[:len(inHeld.Leaf)-1]+" }"
		if _, err := tampered.Verify(keys, VerifyOptions{}); codeOf(err) != "entry_not_canonical" {
			t.Fatalf("want a changed leaf refused, got %v", err)
		}
	})

	t.Run("an application without audit:read proves its own execution", func(t *testing.T) {
		app := NewClient(baseURL, os.Getenv("ATOMIC_SDK_APP_KEY"), WithTimeout(time.Minute))
		if _, err := app.AuditReceipt(ctx, task.ID, ReceiptOptions{}); ErrorCode(err) != "insufficient_scope" {
			t.Fatalf("want the auditor's route refused, got %v", err)
		}
		receipt, err := app.ExecutionReceipt(ctx, task.ID, ReceiptOptions{Wait: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if verified, err := receipt.Verify(keys, VerifyOptions{}); err != nil || verified.EventID != task.ID {
			t.Fatalf("want the task's receipt verified, got %+v (%v)", verified, err)
		}
		if _, err := app.ExecutionReceipt(ctx, "0190c1a2-0000-7000-8000-000000000000", ReceiptOptions{}); ErrorCode(err) != "execution_not_found" {
			t.Fatalf("want execution_not_found, got %v", err)
		}
	})

	t.Run("schemas are registered, read and listed", func(t *testing.T) {
		if schema, err := client.Schema(ctx, "ticket", 1); err != nil || schema.Version != 1 || schema.Description == nil {
			t.Fatalf("want version 1, got %+v (%v)", schema, err)
		}
		schemas, err := client.Schemas(ctx)
		if err != nil || !slices.ContainsFunc(schemas, func(s Schema) bool { return s.Name == "ticket" }) {
			t.Fatalf("want ticket listed, got %+v (%v)", schemas, err)
		}
		other := map[string]any{"type": "object", "properties": ticket["properties"], "required": []any{"title"}}
		_, err = client.RegisterSchema(ctx, SchemaRegistration{Name: "ticket", Version: 1, Schema: other})
		if ErrorCode(err) != "schema_version_conflict" {
			t.Fatalf("want schema_version_conflict, got %v", err)
		}
		if _, err := client.Schema(ctx, "no-such-schema", 0); ErrorCode(err) != "schema_not_found" {
			t.Fatalf("want schema_not_found, got %v", err)
		}
	})

	t.Run("the decision is read and feedback taken", func(t *testing.T) {
		decision, err := client.Decision(ctx, task.ID)
		if err != nil || decision.ExecutionID != task.ID || len(decision.Microtasks) == 0 || decision.Microtasks[0].Bids[0].Model != task.Model {
			t.Fatalf("want the task's decision, got %+v (%v)", decision, err)
		}
		if _, err := client.Decision(ctx, "0190c1a2-0000-7000-8000-000000000000"); ErrorCode(err) != "decision_not_found" {
			t.Fatalf("want decision_not_found, got %v", err)
		}
		feedback, err := client.CreateFeedback(ctx, FeedbackRequest{ExecutionID: task.ID, Score: 0.75, Comment: "right title, wrong floor"})
		if err != nil || feedback.Object != "feedback" || feedback.ExecutionID != task.ID {
			t.Fatalf("want feedback taken, got %+v (%v)", feedback, err)
		}
	})

	t.Run("events stream and resume after the last id", func(t *testing.T) {
		found := false
		for event, err := range client.Events(ctx, EventsOptions{Kinds: []string{"request"}}) {
			if err != nil {
				t.Fatal(err)
			}
			if event.Kind != "request" || event.Event.Actor == nil || event.Event.Actor.Tenant != "sdk-go" {
				t.Fatalf("want the tenant's request events only, got %+v", event)
			}
			if found = event.Event.ID == task.ID; found {
				break
			}
		}
		if !found {
			t.Fatal("the task's request event never came")
		}
		var first, second Event
		for event, err := range client.Events(ctx, EventsOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			if first.ID == "" {
				first = event
				continue
			}
			second = event
			break
		}
		for again, err := range client.Events(ctx, EventsOptions{LastEventID: first.ID}) {
			if err != nil || again.ID != second.ID || string(again.Event.Raw) != string(second.Event.Raw) {
				t.Fatalf("want %s again after %s, got %+v (%v)", second.ID, first.ID, again, err)
			}
			break
		}
	})

	t.Run("an async task streams its events and sends a signed webhook", func(t *testing.T) {
		port := os.Getenv("ATOMIC_SDK_WEBHOOK_PORT")
		listener, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		type delivery struct {
			body   []byte
			header http.Header
		}
		deliveries := make(chan delivery, 4)
		server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			deliveries <- delivery{body, r.Header}
			w.WriteHeader(http.StatusNoContent)
		})}
		go server.Serve(listener)
		defer server.Close()

		accepted, err := client.SubmitTask(ctx, TaskRequest{Input: "Say hello", MaxTokens: 8, Seed: Int(1), WebhookURL: "http://127.0.0.1:" + port + "/hook"})
		if err != nil || accepted.Status != "queued" || accepted.Mode != "async" {
			t.Fatalf("want the task queued, got %+v (%v)", accepted, err)
		}
		var types []string
		var last TaskEvent
		for event, err := range client.TaskEvents(ctx, accepted.ID) {
			if err != nil {
				t.Fatal(err)
			}
			types, last = append(types, event.Type), event
		}
		if last.Type != "done" || last.Task.Status != "succeeded" || slices.Index(types, "done") != len(types)-1 {
			t.Fatalf("want progress events, then done and succeeded, got %v %+v", types, last.Task)
		}
		finished, err := client.Task(ctx, accepted.ID)
		if err != nil || finished.Status != "succeeded" || finished.Decision == nil || finished.Decision.ExecutionID != accepted.ID {
			t.Fatalf("want the finished task with its decision, got %+v (%v)", finished, err)
		}

		select {
		case got := <-deliveries:
			verified, err := VerifyWebhook(got.body, got.header, keys, WebhookOptions{})
			if err != nil || verified.TaskID != accepted.ID || verified.Attempt != 1 {
				t.Fatalf("want the delivery verified, got %+v (%v)", verified, err)
			}
			var outcome struct{ Type string }
			if json.Unmarshal(got.body, &outcome); outcome.Type != "task.succeeded" {
				t.Fatalf("want task.succeeded, got %s", got.body)
			}
			if _, err := VerifyWebhook(append(got.body, ' '), got.header, keys, WebhookOptions{}); codeOf(err) != "body_mismatch" {
				t.Fatalf("want a changed body refused, got %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no webhook delivery within 30 s")
		}

		if _, err := client.CancelTask(ctx, accepted.ID); ErrorCode(err) != "task_not_running" {
			t.Fatalf("want task_not_running, got %v", err)
		}
	})

	t.Run("refusals carry the gateway's code", func(t *testing.T) {
		_, err := client.Task(ctx, "01900000-0000-7000-8000-000000000000")
		var apiError *APIError
		if !errors.As(err, &apiError) || apiError.StatusCode != 404 || apiError.Code != "task_not_found" {
			t.Fatalf("want 404 task_not_found, got %v", err)
		}
		_, err = NewClient(baseURL, "not-a-key").Schemas(ctx)
		if !errors.As(err, &apiError) || apiError.StatusCode != 401 || apiError.Code != "invalid_credentials" {
			t.Fatalf("want 401 invalid_credentials, got %v", err)
		}
		if apiError.RequestID == "" {
			t.Fatal("want the refusal's request id")
		}
	})
}
