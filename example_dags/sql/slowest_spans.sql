-- The slowest spans of the window: duration is in seconds, null for logs.
SELECT span_name, service_name, duration, trace_id, start_timestamp
FROM records
WHERE kind = 'span' AND duration IS NOT NULL
ORDER BY duration DESC
LIMIT {{ params.top }}
