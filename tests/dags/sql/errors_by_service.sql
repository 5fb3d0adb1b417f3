-- Errors per service on {{ data_interval_start | ds }} (rendered by Jinja before it is sent).
SELECT service_name, count(*) AS errors
FROM records
WHERE level >= {{ params.min_level }}
  AND start_timestamp >= '{{ data_interval_start }}'
GROUP BY service_name
ORDER BY service_name;
