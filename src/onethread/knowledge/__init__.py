"""The knowledge base: articles, chunked by headings, that the assistant answers from."""
