"""The rules every domain uses: texts, errors, the clock, statuses and roles, transactions."""
