"""Protocol doubles: local servers that speak each provider's documented protocol, failures included."""
