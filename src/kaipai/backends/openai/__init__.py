"""The ``openai`` planner backend: any OpenAI-compatible chat model writes and plans.

:mod:`.planner` is the backend; :mod:`.client` speaks chat completions, :mod:`.structured` gets
schema-valid replies out of models with and without structured output, :mod:`.prompts` and
:mod:`.replies` are what is asked and what comes back, :mod:`.screenplay` and :mod:`.shots` turn
replies into the document.
"""
