-- Errors per route for the run's window, in the chosen environments.
-- Rendered by Jinja: data_interval_start/end come from the run, params from the DAG.
SELECT
    service_name,
    http_route,
    count(*) AS errors,
    min(start_timestamp) AS first_seen,
    max(start_timestamp) AS last_seen
FROM records
WHERE level >= {{ params.min_level }}
  AND start_timestamp >= '{{ data_interval_start }}'
  AND start_timestamp < '{{ data_interval_end }}'
  AND http_route IS NOT NULL
GROUP BY service_name, http_route
ORDER BY errors DESC
LIMIT {{ params.top }}
