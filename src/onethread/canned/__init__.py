"""Canned responses: a workspace's saved replies, inserted by agents from the composer."""
