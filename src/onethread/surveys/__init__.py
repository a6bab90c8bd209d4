"""Satisfaction surveys (CSAT 1-5, NPS 0-10) asked on the channel after a resolution.

``models`` (rows), ``parsing`` (reading a score from a reply), ``questions`` (what is
sent), ``service`` (reads), ``actions`` (writes and their events), ``asking`` (the
``survey.ask`` job: channel rules, then the question through the normal outbound path),
``api``. See docs/surveys.md.
"""
