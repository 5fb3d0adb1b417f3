"""The Airflow-free domain: time windows, export planning, the window exporter, availability checks."""
