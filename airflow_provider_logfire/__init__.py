"""Apache Airflow provider for the Pydantic Logfire query API."""

__version__ = "0.1.0"
