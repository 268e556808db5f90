package atomic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
)

// taskBody is a TaskRequest as POST /v1/tasks takes it, in mode.
func taskBody(request TaskRequest, mode string) (map[string]any, error) {
	data, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("atomic: the task request: %w", err)
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("atomic: the task request: %w", err)
	}
	for name, value := range request.Extra {
		body[name] = value
	}
	body["mode"] = mode
	if request.WebhookURL != "" {
		body["webhook"] = map[string]string{"url": request.WebhookURL}
	}
	return body, nil
}

// RunTask runs a synchronous task: answered when done, its result valid against the schema when one is named.
// A WebhookURL is refused (webhook_requires_async).
func (c *Client) RunTask(ctx context.Context, request TaskRequest) (*TaskResult, error) {
	body, err := taskBody(request, "sync")
	if err != nil {
		return nil, err
	}
	return callFor[TaskResult](ctx, c, http.MethodPost, "/v1/tasks", nil, body)
}

// SubmitTask starts an asynchronous task, run as a durable workflow; follow it with Task, TaskEvents or WaitTask.
// With WebhookURL, the outcome is POSTed there, signed: check it with VerifyWebhook.
func (c *Client) SubmitTask(ctx context.Context, request TaskRequest) (*TaskAccepted, error) {
	body, err := taskBody(request, "async")
	if err != nil {
		return nil, err
	}
	return callFor[TaskAccepted](ctx, c, http.MethodPost, "/v1/tasks", nil, body)
}

// Task is an asynchronous task: its progress while it runs, then its result, microtasks and bidding decision.
func (c *Client) Task(ctx context.Context, id string) (*Task, error) {
	return callFor[Task](ctx, c, http.MethodGet, "/v1/tasks/"+pathSegment(id), nil, nil)
}

// CancelTask asks a running task to stop; one that has ended is an *APIError with code task_not_running.
func (c *Client) CancelTask(ctx context.Context, id string) (*TaskCancelling, error) {
	return callFor[TaskCancelling](ctx, c, http.MethodPost, "/v1/tasks/"+pathSegment(id)+"/cancel", nil, nil)
}

// TaskEvents is the task's event stream: a progress event whenever the task changes, then one done event with the
// finished task, then the end. An error (an unknown task, a broken stream) is yielded last.
func (c *Client) TaskEvents(ctx context.Context, id string) iter.Seq2[TaskEvent, error] {
	return func(yield func(TaskEvent, error) bool) {
		var decodeErr error
		err := c.stream(ctx, "/v1/tasks/"+pathSegment(id)+"/events", nil, nil, func(event ServerSentEvent) bool {
			taskEvent := TaskEvent{Type: event.Event, ID: event.ID}
			if decodeErr = event.JSON(&taskEvent.Task); decodeErr != nil {
				return false
			}
			return yield(taskEvent, nil)
		})
		if err == nil {
			err = decodeErr
		}
		if err != nil {
			yield(TaskEvent{}, err)
		}
	}
}

// WaitTask is the finished task, from its event stream's done event.
func (c *Client) WaitTask(ctx context.Context, id string) (*Task, error) {
	for event, err := range c.TaskEvents(ctx, id) {
		if err != nil {
			return nil, err
		}
		if event.Type == "done" {
			return &event.Task, nil
		}
	}
	return nil, errors.New("atomic: the task's event stream ended before it was done")
}
