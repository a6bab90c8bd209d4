"""`onethread eval`: measure the assistant on labelled data before switching a change on."""
