-- POST /v1/responses records its executions under an endpoint of their own.
ALTER TABLE executions DROP CONSTRAINT executions_endpoint_check;
ALTER TABLE executions ADD CONSTRAINT executions_endpoint_check
  CHECK (endpoint IN ('chat.completions', 'completions', 'embeddings', 'responses', 'tasks'));
