"""The agents' web app: server-rendered page shells, static JavaScript calling the JSON API."""
