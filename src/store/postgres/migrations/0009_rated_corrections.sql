-- A rater may say what the right answer was (POST /v1/feedback `correction`, stored redacted): the example then
-- teaches with that answer instead of the model's. It is content, so erasure nulls it with the execution's own.
ALTER TABLE adaptation_rated_examples ADD COLUMN correction json;
