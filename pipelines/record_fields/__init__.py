"""Extractors behind ``pipelines.fields``: one module per CRM record field.

``pipelines.fields`` is the public entry point (``extract_fields``); these modules are its parts
and are imported from there. Each extractor is a pure function over a ``Analysis`` (the
conversation cut into clauses with resolved time mentions) and the field lexicons.
"""
