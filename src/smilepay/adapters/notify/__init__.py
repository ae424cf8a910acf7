"""Notifier and webhook-sender adapters: log, SMTP, httpx."""
