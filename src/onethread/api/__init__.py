"""HTTP edges shared by every router: dependencies, errors, rate limits."""
