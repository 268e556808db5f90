-- What each bidding decision chose, in numbers, one row per microtask that bidding assigned: the chosen model and its
-- predicted quality and cost, the best predicted quality and the lowest cost any eligible bid offered, and every
-- eligible bid's model and predicted quality. GET /v1/admin/bidding/history (the dashboard's bidding page)
-- aggregates a span of time of these through the created_at index instead of parsing each decision record
-- (a few KB of JSON) again: about a tenth of the time. Written with the decision record, in the same statement
-- (src/bidding/store/postgres.ts). No text of the request: erasure leaves it as it is, as it leaves the bids.
CREATE TABLE bidding_choices (
  execution_id uuid NOT NULL,
  microtask_id text NOT NULL,
  created_at timestamptz NOT NULL,
  model_id text NOT NULL,
  mode text NOT NULL,
  task_type text NOT NULL,
  chosen_quality double precision,
  best_quality double precision,
  chosen_cost double precision,
  cheapest_cost double precision,
  bid_models text[] NOT NULL,
  bid_qualities double precision[] NOT NULL,
  PRIMARY KEY (execution_id, microtask_id),
  CHECK (cardinality(bid_models) = cardinality(bid_qualities))
);

-- The decisions stored before this migration, read once.
INSERT INTO bidding_choices
SELECT d.execution_id, mt->>'id', d.created_at, mt->'choice'->>'model', COALESCE(mt->'choice'->>'mode', 'exploit'),
       COALESCE(mt->'features'->>'taskType', 'unknown'),
       s.chosen_quality, s.best_quality, s.chosen_cost, s.cheapest_cost, s.bid_models, s.bid_qualities
FROM bidding_decisions d
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(d.record::jsonb->'microtasks') = 'array' THEN d.record::jsonb->'microtasks' ELSE '[]' END) mt
CROSS JOIN LATERAL (
  SELECT max((b->>'confidence')::float8) FILTER (WHERE b->>'model' = mt->'choice'->>'model') AS chosen_quality,
         max((b->>'confidence')::float8) FILTER (WHERE (b->>'eligible')::boolean) AS best_quality,
         max((b->>'cost')::float8) FILTER (WHERE b->>'model' = mt->'choice'->>'model') AS chosen_cost,
         min((b->>'cost')::float8) FILTER (WHERE (b->>'eligible')::boolean) AS cheapest_cost,
         COALESCE(array_agg(b->>'model') FILTER (WHERE (b->>'eligible')::boolean), '{}') AS bid_models,
         COALESCE(array_agg((b->>'confidence')::float8) FILTER (WHERE (b->>'eligible')::boolean), '{}') AS bid_qualities
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(mt->'bids') = 'array' THEN mt->'bids' ELSE '[]' END) b
) s
WHERE jsonb_typeof(mt->'choice') = 'object' AND mt->>'id' IS NOT NULL AND mt->'choice'->>'model' IS NOT NULL
ON CONFLICT DO NOTHING;

CREATE INDEX bidding_choices_created_at_idx ON bidding_choices (created_at);
