package atomic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one gateway as the holder of one API key. It is safe for concurrent use.
type Client struct {
	baseURL     string
	apiKey      string
	http        *http.Client
	timeout     time.Duration
	idleTimeout time.Duration
	header      http.Header
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout bounds each call that is not a stream, from the request to the end of its answer (default 2 minutes:
// a synchronous task waits for inference; 0 for no bound). A context deadline given to a call applies as well.
func WithTimeout(timeout time.Duration) Option {
	return func(c *Client) { c.timeout = timeout }
}

// WithStreamIdleTimeout is how long an event stream may send nothing before it is taken for broken (default one
// minute; the gateway sends a keep-alive every 15 s).
func WithStreamIdleTimeout(timeout time.Duration) Option {
	return func(c *Client) { c.idleTimeout = timeout }
}

// WithHTTPClient sends requests with client (its Timeout should be 0: streams last as long as they are read).
func WithHTTPClient(client *http.Client) Option {
	return func(c *Client) { c.http = client }
}

// WithHeader adds a header to every request.
func WithHeader(name, value string) Option {
	return func(c *Client) { c.header.Add(name, value) }
}

// NewClient is a client of the gateway at baseURL (its root, e.g. "http://127.0.0.1:8080") with apiKey ("" for
// none). Refusals are *APIError values carrying the gateway's stable error code.
func NewClient(baseURL, apiKey string, options ...Option) *Client {
	c := &Client{
		baseURL:     strings.TrimRight(baseURL, "/"),
		apiKey:      apiKey,
		http:        &http.Client{},
		timeout:     2 * time.Minute,
		idleTimeout: time.Minute,
		header:      http.Header{},
	}
	for _, option := range options {
		option(c)
	}
	return c
}

func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	target := c.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("atomic: %s %s: %w", method, path, err)
		}
		reader = bytes.NewReader(data)
	}
	request, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, fmt.Errorf("atomic: %w", err)
	}
	for name, values := range c.header {
		request.Header[name] = values
	}
	request.Header.Set("user-agent", "atomic-sdk-go/"+Version)
	if c.apiKey != "" {
		request.Header.Set("authorization", "Bearer "+c.apiKey)
	}
	if body != nil {
		request.Header.Set("content-type", "application/json")
	}
	return request, nil
}

// send is the response to a request, or the gateway's refusal (status ≥ 400) as an *APIError.
func (c *Client) send(request *http.Request) (*http.Response, error) {
	response, err := c.http.Do(request)
	if err != nil {
		return nil, fmt.Errorf("atomic: %s %s: %w", request.Method, request.URL.Path, err)
	}
	if response.StatusCode >= 400 {
		defer response.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(response.Body, 1<<20))
		return nil, apiErrorFrom(response, body)
	}
	return response, nil
}

// call sends one request and reads its whole answer: JSON into out, or text into *string.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	request, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	if _, text := out.(*string); text {
		request.Header.Set("accept", "text/plain")
	} else {
		request.Header.Set("accept", "application/json")
	}
	response, err := c.send(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		return fmt.Errorf("atomic: %s %s: %w", method, path, err)
	}
	if text, ok := out.(*string); ok {
		*text = string(data)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("atomic: %s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// callFor is call for an answer of type T: nil with the error, or the answer.
func callFor[T any](ctx context.Context, c *Client, method, path string, query url.Values, body any) (*T, error) {
	var out T
	if err := c.call(ctx, method, path, query, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// stream opens an event stream; each event is passed to yield until it returns false or the stream ends (nil) or
// breaks (the error). A stream that sends nothing for the idle timeout is taken for broken.
func (c *Client) stream(ctx context.Context, path string, query url.Values, header http.Header, yield func(ServerSentEvent) bool) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	request, err := c.newRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	request.Header.Set("accept", "text/event-stream")
	for name, values := range header {
		request.Header[name] = values
	}
	idle := time.AfterFunc(c.idleTimeout, func() { cancel(fmt.Errorf("the stream sent nothing for %s", c.idleTimeout)) })
	defer idle.Stop()
	response, err := c.send(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	reader := newEventReader(bufio.NewReader(response.Body))
	reader.onLine = func() { idle.Reset(c.idleTimeout) }
	for {
		event, err := reader.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				err = cause
			}
			return fmt.Errorf("atomic: GET %s: %w", path, err)
		}
		if !yield(event) {
			return nil
		}
	}
}

func pathSegment(value string) string {
	return url.PathEscape(value)
}
