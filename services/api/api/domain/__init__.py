"""Pure request rules: validation, transitions and the facts a request turns into."""
