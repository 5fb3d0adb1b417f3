"""`python -m airflow_provider_logfire.local serve`: see `cli.py`."""

from __future__ import annotations

from airflow_provider_logfire.local.cli import main

raise SystemExit(main())
