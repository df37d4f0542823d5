"""Accounts: passwords, sign-in sessions, API tokens, login rate limits and permission rules."""
