"""``onethread doctor``: what is right and wrong with a deployment, in plain words."""
