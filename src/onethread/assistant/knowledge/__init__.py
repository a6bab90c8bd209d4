"""The assistant's side of the knowledge base: embeddings, the hybrid index, retrieval,
and ingestion (read → detect language → chunk → embed → the domain's actions)."""
