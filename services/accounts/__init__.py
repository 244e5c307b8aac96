"""Accounts: users and tokens, 统一社会信用代码, reference lists."""
